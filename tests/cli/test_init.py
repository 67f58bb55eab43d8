"""`modelaudit init`: a commented providers.yaml from the vendors whose keys are set (each a
loopback fake reached through the base-URL variable the vendor table names) and the LLM
servers on loopback ports, that passes `config check` and `probe --dry-run` as written."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.discovery.vendors import KEYS, vendor_fakes
from tests.fakes import FakeOllama, FakeVLLM, Model
from tests.helpers import run_cli

from modelaudit.cli.app import run


def init(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code, _, err = run_cli(["init", *args], capsys)
    return code, err


def models_of(document: dict[str, Any], provider_name: str) -> dict[str, dict[str, Any]]:
    provider = next(p for p in document["providers"] if p["name"] == provider_name)
    return {m["id"]: m for m in provider["models"]}


def round_trips(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The file passes `config check` and `probe --dry-run` as written."""
    assert run(["config", "check", "-c", str(path)]) == 0, capsys.readouterr().err
    assert run(["probe", "--dry-run", "-c", str(path), "-f", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["plan"]["providers"]
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_vendors_and_local_servers_become_a_registry_that_checks_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "providers.yaml"
    with (
        vendor_fakes(monkeypatch) as fakes,
        FakeVLLM(models=["Qwen/Qwen3.6-27B"]) as vllm,
        FakeOllama(models=[Model("qwen3.6:27b"), Model("gpt-oss:120b")]) as ollama,
    ):
        ports = f"{vllm.server.port},{ollama.server.port}"
        code, err = init(capsys, "-o", str(target), "--local-ports", ports, "--pin", "gpt-4o")
        generations = sum(
            1 for f in fakes.by_name().values() for r in f.requests if r.method == "POST"
        )
    assert code == 0, err
    assert generations == 0
    text = " ".join(target.read_text(encoding="utf-8").replace("#   ", "").split())
    document = round_trips(target, capsys)
    names = [p["name"] for p in document["providers"]]
    assert names[:5] == ["openai", "anthropic", "mistral", "openrouter", "groq"]
    assert f"vllm-{vllm.server.port}" in names
    assert f"ollama-{ollama.server.port}" in names
    openai = models_of(document, "openai")
    # The alias asked for is pinned as its dated snapshot; the alias itself is not written.
    assert openai["gpt-4o-2024-08-06"]["pinned"] is True
    assert "gpt-4o" not in openai
    assert "gpt-4o-2024-05-13" not in openai
    assert "text-embedding-3-small" not in openai  # does not generate text
    assert str(openai["gpt-4-0613"]["retires"]) == "2026-06-01"
    assert "`gpt-4o` floats over the dated snapshots listed" in text
    assert "pinned, with no fallback among the providers found" in text
    mistral = models_of(document, "mistral")
    assert set(mistral) == {"mistral-large-2411"}  # the alias the list names, folded in
    # Open weights found on several hosts: one family, and each other's fallbacks.
    local = models_of(document, f"vllm-{vllm.server.port}")["Qwen/Qwen3.6-27B"]
    assert local["family"] == "qwen3.6-27b"
    assert set(local["fallbacks"]) == {
        "openrouter/qwen/qwen3.6-27b",
        "groq/qwen/qwen3.6-27b",
        f"ollama-{ollama.server.port}/qwen3.6:27b",
    }
    # OpenRouter, a router, keeps only the open weights found elsewhere.
    assert set(models_of(document, "openrouter")) == {"qwen/qwen3.6-27b"}
    assert document["providers"][0]["api_key"] == "env:OPENAI_API_KEY"
    for key in KEYS.values():
        assert key not in text
        assert key not in err


def test_an_existing_file_is_never_replaced_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "providers.yaml"
    target.write_text("# mine\n")
    with vendor_fakes(monkeypatch) as fakes:
        code, err = init(capsys, "-o", str(target))
        sent = sum(len(f.requests) for f in fakes.by_name().values())
        assert target.read_text() == "# mine\n"
        assert code == 2
        assert "exists: pass --force" in err
        assert sent == 0  # refused before anything was read
        assert init(capsys, "-o", str(target), "--force")[0] == 0
    assert "version: 1" in target.read_text()
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_default_target_is_the_registry_other_commands_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with vendor_fakes(monkeypatch):
        assert init(capsys)[0] == 0
    assert run(["config", "check"]) == 0
    assert "providers.yaml: valid" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["symlink", "fifo", "device"])
def test_a_link_or_a_device_is_never_replaced_even_with_force(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "providers.yaml"
    elsewhere = tmp_path / "real.yaml"
    elsewhere.write_text("# the file the link points at\n")
    if kind == "symlink":
        target.symlink_to(elsewhere)
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        if os.geteuid() != 0:
            pytest.skip("creating a device node needs root")
        os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # our own "null" node
    with vendor_fakes(monkeypatch):
        code, err = init(capsys, "-o", str(target), "--force")
    assert code == 2
    assert "not replaced" in err
    assert elsewhere.read_text() == "# the file the link points at\n"
    mode = target.lstat().st_mode
    assert {"symlink": stat.S_ISLNK, "fifo": stat.S_ISFIFO, "device": stat.S_ISCHR}[kind](mode)


def test_dash_writes_to_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with vendor_fakes(monkeypatch):
        assert run(["init", "-o", "-", "--only", "claude-*"]) == 0
    out, err = capsys.readouterr()
    document = yaml.safe_load(out)
    assert [p["name"] for p in document["providers"]] == ["anthropic"]
    assert "wrote stdout: 1 provider, 2 models" in err


def test_interactive_pins_what_the_user_picks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    target = tmp_path / "providers.yaml"
    with vendor_fakes(monkeypatch):
        # openai: a bad answer, then 1; the other four providers: none.
        monkeypatch.setattr("sys.stdin", io.StringIO("9\n1\n\n\n\n\n"))
        code, err = init(capsys, "-o", str(target), "--interactive")
    assert code == 0, err
    assert "answer with numbers from 1 to 3" in err
    document = yaml.safe_load(target.read_text())
    pinned = [
        f"{p['name']}/{m['id']}"
        for p in document["providers"]
        for m in p["models"]
        if m.get("pinned")
    ]
    assert pinned == ["openai/gpt-4o-2024-08-06"]


def test_pinning_an_older_snapshot_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "providers.yaml"
    with vendor_fakes(monkeypatch):
        code, err = init(capsys, "-o", str(target), "--pin", "openai/gpt-4o-2024-05-13")
    assert code == 0, err
    openai = models_of(round_trips(target, capsys), "openai")
    assert openai["gpt-4o-2024-05-13"]["pinned"] is True
    assert "pinned" not in openai["gpt-4o-2024-08-06"]


def test_a_pin_that_matches_nothing_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "providers.yaml"
    with vendor_fakes(monkeypatch):
        code, err = init(capsys, "-o", str(target), "--pin", "openai/gpt-9")
    assert code == 2
    assert "--pin openai/gpt-9: no such model" in err
    assert not target.exists()


def test_nothing_found_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "providers.yaml"
    code, err = init(capsys, "-o", str(target))
    assert code == 2
    assert "nothing to write" in err
    assert "OPENAI_API_KEY" in err
    assert not target.exists()


def test_from_openrouter_writes_its_catalog_narrowed_by_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "providers.yaml"
    with vendor_fakes(monkeypatch):
        code, err = init(capsys, "-o", str(target), "--from-openrouter", "--only", "*/*4o*")
    assert code == 0, err
    document = round_trips(target, capsys)
    assert [p["name"] for p in document["providers"]] == ["openrouter"]
    routed = models_of(document, "openrouter")["openai/gpt-4o"]
    assert routed["weights"] == "closed"  # no Hugging Face repository named
    comments = " ".join(target.read_text().replace("#   ", "").split())
    assert "floating alias (the catalog names `openai/gpt-4o-2024-05-13` behind it)" in comments
