"""Loopback fakes that speak each LLM API's real wire format, with scriptable misbehaviour.

    from tests.fakes import Behaviour, FakeOpenAI, Model

    with FakeOpenAI(key="sk-test", models=["gpt-4o-mini", "gpt-5"]) as fake:
        fake.behave("gpt-5", Behaviour.error("rate_limited", retry_after="2"))
        ...  # point the code under test at fake.base_url

`tests/fakes/http.py` is the raw scriptable server underneath (FakeServer, Reply, Request).
Every family fake has a `library` of named real error replies (`fake.library[name]` is an
ErrorSpec with the status, body, the error class modelaudit should assign, and the source).
"""

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.azure import FakeAzure
from tests.fakes.base import ERROR_CLASSES, Behaviour, ErrorSpec, FamilyFake, Model, http_date
from tests.fakes.gemini import FakeGemini
from tests.fakes.http import (
    ClosedPort,
    FakeServer,
    Reply,
    Request,
    TimingServer,
    closed_port,
    html_reply,
    json_reply,
    redirect,
    redirect_handler,
    self_signed_server,
    sse_reply,
    text_reply,
    wait_until,
)
from tests.fakes.litellm import FakeLiteLLM
from tests.fakes.llamacpp import FakeLlamaCpp
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import (
    FakeDeepSeek,
    FakeGroq,
    FakeMistral,
    FakeMoonshot,
    FakeOpenAI,
    FakeOpenRouter,
    FakeTogether,
)
from tests.fakes.vllm import FakeVLLM

ALL_FAMILY_FAKES: tuple[type[FamilyFake], ...] = (
    FakeOpenAI,
    FakeGroq,
    FakeTogether,
    FakeMistral,
    FakeOpenRouter,
    FakeDeepSeek,
    FakeMoonshot,
    FakeAzure,
    FakeAnthropic,
    FakeGemini,
    FakeOllama,
    FakeLlamaCpp,
    FakeVLLM,
    FakeLiteLLM,
)

__all__ = [
    "ALL_FAMILY_FAKES",
    "ERROR_CLASSES",
    "Behaviour",
    "ClosedPort",
    "ErrorSpec",
    "FakeAnthropic",
    "FakeAzure",
    "FakeDeepSeek",
    "FakeGemini",
    "FakeGroq",
    "FakeLiteLLM",
    "FakeLlamaCpp",
    "FakeMistral",
    "FakeMoonshot",
    "FakeOllama",
    "FakeOpenAI",
    "FakeOpenRouter",
    "FakeServer",
    "FakeTogether",
    "FakeVLLM",
    "FamilyFake",
    "Model",
    "Reply",
    "Request",
    "TimingServer",
    "closed_port",
    "html_reply",
    "http_date",
    "json_reply",
    "redirect",
    "redirect_handler",
    "self_signed_server",
    "sse_reply",
    "text_reply",
    "wait_until",
]
