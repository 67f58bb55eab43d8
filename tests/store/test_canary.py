"""No key ever reaches the history database (nor its WAL), whatever the servers echo back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from modelaudit.cli.app import main
from modelaudit.store.sqlite.store import SqliteStore
from tests.fakes import Behaviour, FakeOpenAI, html_reply, json_reply

from .cli_support import KEY, KEY_ENV, write_store_registry

PLAIN_KEY = "CanaryPlain7Hq2Lw9Xv4Zp1Rt8Mn3"
"""A key with no vendor shape: only the registered-secret path can mask it."""

MODELS = [
    "echo-error",
    "echo-auth",
    "echo-ratelimit",
    "echo-served",
    "echo-html",
    "echo-redirect",
    "garbled",
    "hangs",
    "stream-breaks",
    "retired",
]
SECOND = """\
  - name: plain
    api: openai
    base_url: {url}
    api_key: env:PLAIN_API_KEY
    hosting: vendor
    jurisdiction: FR
    models:
      - {{id: echo-error, weights: closed}}
      - {{id: echo-served, weights: closed}}
"""


def _echoing_completion(key: str) -> Behaviour:
    body = {
        "id": f"chatcmpl-{key}",
        "object": "chat.completion",
        "created": 1,
        "model": f"served-by-{key}",
        "system_fingerprint": f"fp_{key}",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": key}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    headers = {
        "x-ratelimit-limit-requests": key,
        "x-ratelimit-limit-tokens": f"1000 {key}",
        "x-ratelimit-remaining-requests": key,
    }
    return Behaviour.raw(json_reply(body, headers=headers))


def _script(fake: FakeOpenAI, key: str) -> None:
    fake.behave("echo-error", Behaviour.error("server_error", message=f"upstream said {key}"))
    fake.behave("echo-auth", Behaviour.error("auth_failed", message=f"Incorrect API key {key}"))
    fake.behave(
        "echo-ratelimit", Behaviour.error("rate_limited", retry_after="1", message=f"slow {key}")
    )
    fake.behave("echo-served", _echoing_completion(key), on="completion")
    fake.behave("echo-html", Behaviour.raw(html_reply(f"{key} <html>login</html>", status=200)))
    fake.behave("echo-redirect", Behaviour.redirect(f"http://{key.lower()}.invalid/v1?key={key}"))
    fake.behave("garbled", Behaviour.malformed())
    fake.behave("hangs", Behaviour.slow_headers(10))
    fake.behave("stream-breaks", Behaviour.stream_error("server_error"), on="stream")
    fake.behave("retired", Behaviour.unlisted())
    fake.add_model(f"listed-{key}")  # the catalog itself names the key


@pytest.mark.timeout(240)
def test_no_key_reaches_the_database_its_wal_or_any_output(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv("PLAIN_API_KEY", PLAIN_KEY)
    db = isolated_env / "h.sqlite3"
    prom = isolated_env / "m.prom"
    with (
        FakeOpenAI(key=KEY, models=MODELS) as acme,
        FakeOpenAI(key=PLAIN_KEY, models=["echo-error", "echo-served"]) as plain,
    ):
        _script(acme, KEY)
        _script(plain, PLAIN_KEY)
        write_store_registry(
            isolated_env,
            acme.base_url,
            MODELS,
            kinds=("catalog", "completion", "stream"),
            attempts=2,
            total_s=2,
            extra_providers=SECOND.format(url=plain.base_url),
        )
        SqliteStore.open(db).close()
        # Held open so that the WAL outlives the commands' connections and can be read.
        witness = sqlite3.connect(db)
        witness.execute("SELECT count(*) FROM run").fetchone()
        main(["probe", "-f", "json", "--db", str(db), "--metrics-file", str(prom)])
        main(["history", "--db", str(db), "-f", "json"])
        main(["history", "--db", str(db), "-f", "json", "-m", "acme/echo-served"])
        main(["db", "export", "--db", str(db)])
        main(["db", "check", "--db", str(db)])
    out, err = capsys.readouterr()

    files = [p for p in isolated_env.iterdir() if p.name.startswith("h.sqlite3")]
    assert {p.name for p in files} >= {"h.sqlite3", "h.sqlite3-wal"}
    assert (isolated_env / "h.sqlite3-wal").stat().st_size > 0
    for secret in (KEY, PLAIN_KEY):
        for raw in (secret.encode(), secret.lower().encode()):
            for path in [*files, prom]:
                assert raw not in path.read_bytes(), f"{secret} in {path.name}"
            assert raw.decode() not in out
            assert raw.decode() not in err
    witness.close()
    exported = [
        json.loads(line)
        for line in out.splitlines()
        if line.startswith('{"schema_version": 1, "attempt_id"')
    ]
    masked = [line for line in exported if "[REDACTED]" in json.dumps(line)]
    # The paths were really taken: details, served ids, fingerprints, ceilings were masked.
    assert {line["model"] for line in masked} >= {
        "echo-error",
        "echo-auth",
        "echo-ratelimit",
        "echo-served",
    }
    assert any(line["served_model"] == "served-by-[REDACTED]" for line in exported)
    assert any(
        line["ratelimit"].get("x-ratelimit-limit-requests") == "[REDACTED]" for line in exported
    )
    assert {line["error_class"] for line in exported} >= {
        "server_error",
        "auth_failed",
        "rate_limited",
        "protocol_error",
        "timeout",
        "model_not_found",
        "ok",
    }
