"""Replay the corpus of real response bodies (`tests/corpus/*.yaml`) through the real probe
path: a loopback server answers each case's status, headers and body, `modelaudit`'s runner
probes one model per case, and each case gets back the class and verdict it was given.

A case file holds one vendor, gateway or server:

    vendor: OpenAI
    api: openai                       # the family the cases are replayed through
    cases:
      - id: openai-429-billing-not-active     # never renamed: it decides the held-out part
        source: https://github.com/...        # where the body was copied from
        note: '...'                           # optional: how the source showed it
        status: 429
        headers: {content-type: ...}          # optional
        json: {...}                           # or `body:` for text exactly as sent
        kind: completion                      # optional: completion (default) or stream
        class: quota_exhausted                # what the response means
        verdict: blocked
        reason: [billing]                     # words the verdict's reason must contain
        batch: heldout-2                      # optional: the gathering round it came from

A case whose `note` starts with "synthetic sibling" was written, not copied: it shows that
a rule reads a meaning from another vendor's words, and it never counts as real material.
A `batch` names a set of bodies gathered after the rules were written (a held-out round):
`python -m benchmarks.corpus_accuracy --batch heldout-2` reports it apart.

About a fifth of the cases (`holdout`, chosen by a hash of the id) were held back while the
classifier's rules were written; `python -m benchmarks.corpus_accuracy` reports the accuracy
on them apart from the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from tests.fakes.base import model_in_body
from tests.fakes.http import FakeServer, Reply, Request

CORPUS_DIR = Path(__file__).parent / "corpus"
KEY_ENV = "MODELAUDIT_CORPUS_TEST_KEY"
KEY = "corpus-replay-key-0123456789"
_BASE_PATH = {
    "openai": "/v1",
    "anthropic": "",
    "gemini": "",
    "ollama": "",
    "azure-openai": "",
    "bedrock": "",
}


@dataclass(frozen=True)
class Case:
    id: str
    vendor: str
    api: str
    source: str
    status: int
    body: bytes
    headers: Mapping[str, str]
    expected_class: str
    expected_verdict: str
    reason_words: tuple[str, ...]
    kind: str = "completion"
    batch: str | None = None
    note: str = ""

    @property
    def synthetic(self) -> bool:
        """Written, not copied: a sibling proving a rule reads a meaning across vendors."""
        return self.note.startswith("synthetic sibling")

    @property
    def holdout(self) -> bool:
        """Held back while the rules were written: a fifth of the cases, by id."""
        return int(hashlib.sha256(self.id.encode()).hexdigest(), 16) % 5 == 0


@dataclass(frozen=True)
class Outcome:
    error_class: str | None
    verdict: str
    reason: str


def load_cases(directory: Path = CORPUS_DIR) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in document["cases"]:
            cases.append(_case(document, raw))
    ids = [c.id for c in cases]
    duplicated = {i for i in ids if ids.count(i) > 1}
    if duplicated:
        raise ValueError(f"case ids must be unique: {sorted(duplicated)}")
    return cases


def _case(document: Mapping[str, Any], raw: Mapping[str, Any]) -> Case:
    if "json" in raw:
        body = json.dumps(raw["json"], ensure_ascii=False).encode()
        headers = {"content-type": "application/json", **raw.get("headers", {})}
    else:
        body = str(raw["body"]).encode()
        headers = dict(raw.get("headers", {}))
    return Case(
        id=raw["id"],
        vendor=document["vendor"],
        api=raw.get("api", document["api"]),
        source=raw["source"],
        status=int(raw["status"]),
        body=body,
        headers={str(k).lower(): str(v) for k, v in headers.items()},
        expected_class=raw["class"],
        expected_verdict=raw["verdict"],
        reason_words=tuple(str(w) for w in raw.get("reason", ())),
        kind=raw.get("kind", "completion"),
        batch=raw.get("batch"),
        note=str(raw.get("note", "")),
    )


@dataclass
class _Router:
    """Answers every generation request with the reply of the case its model names."""

    cases: Mapping[str, Case]
    unknown: list[str] = field(default_factory=list)

    def __call__(self, request: Request) -> Reply:
        model = _model_of(request)
        case = self.cases.get(model or "")
        if case is None:
            self.unknown.append(f"{request.method} {request.path} model={model}")
            return Reply(status=599, body=b"no such corpus case")
        return Reply(status=case.status, headers=dict(case.headers), body=case.body)


def _model_of(request: Request) -> str | None:
    if ":generateContent" in request.path or ":streamGenerateContent" in request.path:
        return request.path.rsplit("/", 1)[-1].split(":", 1)[0]
    if "/deployments/" in request.path:  # Azure names the deployment in the path
        return request.path.split("/deployments/", 1)[1].split("/", 1)[0]
    if request.path.startswith("/model/"):  # Bedrock: /model/{id}/converse
        return unquote(request.path.split("/")[2])
    return model_in_body(request)


def registry_for(cases: Sequence[Case], server_url: str, control_url: str) -> dict[str, Any]:
    by_api: dict[str, list[Case]] = {}
    for case in cases:
        by_api.setdefault(case.api, []).append(case)
    providers = []
    for api, members in sorted(by_api.items()):
        entry: dict[str, Any] = {
            "name": f"corpus-{api}",
            "api": api,
            "base_url": server_url + _BASE_PATH[api],
            "hosting": "vendor",
            "jurisdiction": "US",
            "api_key": f"env:{KEY_ENV}",
            "limits": {"concurrency": 16},
            "models": [{"id": c.id, "weights": "closed"} for c in members],
        }
        if api == "gemini":
            entry["api_version"] = "v1beta"
        if api == "azure-openai":
            entry["api_version"] = "2024-10-21"
        if api == "bedrock":  # signed by botocore with the same test value as key and secret
            del entry["api_key"]
            entry["region"] = "us-east-1"
            entry["credentials"] = {
                "parts": {"access_key_id": f"env:{KEY_ENV}", "secret_access_key": f"env:{KEY_ENV}"}
            }
        providers.append(entry)
    return {
        "version": 1,
        "defaults": {
            "timeouts": {"connect_s": 2, "first_byte_s": 3, "first_token_s": 3, "stall_s": 2,
                         "total_s": 5},
            "retry": {"attempts": 2, "backoff_s": 0.01, "max_backoff_s": 0.02,
                      "max_retry_after_s": 0.05},
            "concurrency": {"total": 32},
            "budget": {"max_requests": 10_000, "max_output_tokens": 1_000_000},
            "control": {"urls": [control_url], "timeout_s": 1},
        },
        "providers": providers,
    }  # fmt: skip


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


@contextmanager
def _replay_env() -> Iterator[None]:
    """The key set, and no proxy that would carry loopback traffic elsewhere."""
    changed = {KEY_ENV: KEY, "NO_PROXY": "127.0.0.1,localhost"}
    before = {name: os.environ.get(name) for name in (*changed, *_PROXY_VARIABLES)}
    os.environ.update(changed)
    for name in _PROXY_VARIABLES:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def replay(cases: Sequence[Case]) -> dict[str, Outcome]:
    """Probe every case through the real runner; the control check answers (online)."""
    from modelaudit.probe import runner
    from modelaudit.probe.plan import Selection, make_plan
    from modelaudit.registry.loader import load
    from modelaudit.vocabulary import ProbeKind

    router = _Router({c.id: c for c in cases})
    outcomes: dict[str, Outcome] = {}
    with (
        FakeServer() as server,
        FakeServer() as control,
        tempfile.TemporaryDirectory(prefix="modelaudit-corpus-") as tmp,
        _replay_env(),
    ):
        control.route("GET", "/", Reply(status=204))
        server.route("POST", "/{path:path}", router)
        for kind in sorted({c.kind for c in cases}):
            chosen = [c for c in cases if c.kind == kind]
            path = Path(tmp) / f"providers-{kind}.yaml"
            path.write_text(yaml.safe_dump(registry_for(chosen, server.url, control.url + "/")))
            plan = make_plan(load(path), Selection(), (ProbeKind(kind),))
            report = runner.run_sync(plan)
            probed = {r.model: r.final.error_class.value for r in report.results}
            for v in report.verdicts:
                # An `up` verdict names no class: the probe's own class is the reading.
                error_class = v.error_class.value if v.error_class else probed.get(v.model)
                outcomes[v.model] = Outcome(error_class, v.verdict.value, v.reason)
    if router.unknown:
        raise AssertionError(f"requests the corpus cannot answer: {router.unknown[:3]}")
    return outcomes
