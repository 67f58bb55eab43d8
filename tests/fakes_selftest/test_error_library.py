"""Every named error in every fake's library renders, is well formed, and names a real error
class; each family covers the situations of the reference (§5.2)."""

from __future__ import annotations

import json
import re

import pytest
from tests.fakes import (
    ALL_FAMILY_FAKES,
    ERROR_CLASSES,
    FakeAnthropic,
    FakeAzure,
    FakeGemini,
    FakeOllama,
    FakeOpenAI,
    FamilyFake,
)

CASES = [
    (fake_class, name) for fake_class in ALL_FAMILY_FAKES for name in sorted(fake_class.ERRORS)
]


def _make(fake_class: type[FamilyFake]) -> FamilyFake:
    return fake_class()


@pytest.mark.parametrize(("fake_class", "name"), CASES, ids=[f"{c.__name__}-{n}" for c, n in CASES])
def test_each_error_renders(fake_class: type[FamilyFake], name: str) -> None:
    fake = _make(fake_class)
    spec = fake.library[name]
    assert spec.expected in ERROR_CLASSES
    assert spec.expected != "ok"
    assert spec.source
    reply = fake.error_reply(name, model="some-model-x", retry_after="7")
    assert reply.status == spec.status
    assert 400 <= reply.status < 600
    text = reply.body.decode()
    assert not re.search(r"\{(model|project|request_id|retry_s|api_version)\}", text), text
    assert not any("{" in v for v in reply.headers.values()), reply.headers
    if spec.raw_body is None:
        json.loads(text)
        assert reply.headers["content-type"].startswith("application/json")
    assert reply.headers["retry-after"] == "7"
    frame = fake.stream_error_frame(spec, "some-model-x")
    assert frame.endswith(b"\n")


REQUIRED = {
    FakeOpenAI: {
        "model_not_found",
        "model_deprecated",
        "auth_failed",
        "access_denied",
        "region_blocked",
        "rate_limited",
        "overloaded",
        "server_error",
        "content_filtered",
        "quota_exhausted",
        "request_too_large",
        "unsupported_parameter",
    },
    FakeAzure: {
        "model_not_found",
        "auth_failed",
        "rate_limited",
        "content_filtered",
        "server_error",
        "overloaded",
    },
    FakeAnthropic: {
        "model_not_found",
        "auth_failed",
        "access_denied",
        "region_blocked",
        "rate_limited",
        "overloaded",
        "server_error",
        "quota_exhausted",
        "billing_error",
        "request_too_large",
    },
    FakeGemini: {
        "model_not_found",
        "model_deprecated",
        "auth_failed",
        "access_denied",
        "region_blocked",
        "rate_limited",
        "overloaded",
        "server_error",
    },
    FakeOllama: {"model_not_found", "overloaded", "server_error"},
}


@pytest.mark.parametrize("fake_class", list(REQUIRED), ids=lambda c: c.__name__)
def test_family_covers_the_situations(fake_class: type[FamilyFake]) -> None:
    assert REQUIRED[fake_class] <= set(fake_class.ERRORS)


def test_the_libraries_exercise_every_http_error_class() -> None:
    produced = {spec.expected for c in ALL_FAMILY_FAKES for spec in c.ERRORS.values()}
    transport = {"ok", "timeout", "connect_failed", "dns_failed", "tls_failed", "protocol_error"}
    # A substitution is a 200 answer from another model, never an error body.
    answers = {"model_substituted"}
    assert produced == ERROR_CLASSES - transport - answers


def test_error_classes_match_modelaudit() -> None:
    vocabulary = pytest.importorskip("modelaudit.vocabulary")
    assert {c.value for c in vocabulary.ErrorClass} == ERROR_CLASSES
