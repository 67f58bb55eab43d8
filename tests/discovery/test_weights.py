"""The same open weights under each host's name share one family key."""

from __future__ import annotations

import pytest

from modelaudit.discovery.weights import weights_name


@pytest.mark.parametrize(
    "names",
    [
        # vLLM / Hugging Face, OpenRouter and Groq, Ollama, Fireworks (p for the dot)
        (
            "Qwen/Qwen3.6-27B",
            "qwen/qwen3.6-27b",
            "qwen3.6:27b",
            "accounts/fireworks/models/qwen3p6-27b",
        ),
        (
            "meta-llama/Llama-3.3-70B-Instruct",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",  # Together's FP8 tier
            "llama-3.3-70b-versatile",  # Groq
            "llama3.3:70b",  # Ollama
            "accounts/fireworks/models/llama-v3p3-70b-instruct",
        ),
        ("meta-llama/Meta-Llama-3.1-8B-Instruct", "llama3.1:8b", "llama-3.1-8b-instant"),
        ("openai/gpt-oss-120b", "gpt-oss:120b", "openai/gpt-oss-120b:free"),
        ("moonshotai/Kimi-K2.6", "accounts/fireworks/models/kimi-k2p6"),
        ("deepseek-ai/DeepSeek-V4-Pro", "deepseek-v4-pro"),
        ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5:7b-instruct-q4_K_M", "Qwen2.5-7B-Instruct-GGUF"),
    ],
)
def test_one_family_under_every_hosts_name(names: tuple[str, ...]) -> None:
    keys = {weights_name(name).key for name in names}  # type: ignore[union-attr]
    assert len(keys) == 1, keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2-57B-A14B"),  # 2.5-7b is not 2-57b
        ("meta-llama/Llama-3.3-70B-Instruct", "meta-llama/Llama-3.1-70B-Instruct"),
        ("openai/gpt-oss-120b", "openai/gpt-oss-20b"),
    ],
)
def test_different_weights_stay_apart(a: str, b: str) -> None:
    assert weights_name(a) != weights_name(b)


def test_the_catalogs_repository_name_wins_over_the_hosts_id() -> None:
    named = weights_name("my-served-name", weights_id="Qwen/Qwen3.6-27B")
    assert named is not None
    assert named.label == "qwen3.6-27b"
