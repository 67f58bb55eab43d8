"""A hostile server, mode by mode, against the real command (`python -m modelaudit probe`):
whatever it sends, the output parses (strict JSON: no NaN, no Infinity), the process stays
under 300 MB, and a usage or I/O problem is never exit 4. Each mode also checks what it is
about (a cap, a deadline, a verdict).

The kernel's own accounting (`wait4`) gives each process's peak memory and CPU time.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from modelaudit.families.fields import MAX_JSON_BYTES
from tests.fakes import Behaviour, FakeAnthropic, FakeOpenAI, Reply, json_reply, sse_reply
from tests.hostile.measured import MEMORY_LIMIT_MB, Measured, modelaudit
from tests.probe.runs import provider, write_fast_registry

KEY = "sk-proj-CANARYhostile0123456789abcdefXY"
MODEL = "m1"
MIB = 1024 * 1024
ESCAPES = "\x1b[2J\x1b]0;pwned\x07\u202eevil\x9b31m"
LONG_ID = "x" * (3 * MIB)
"""A served-model id of 3 MB (the body that carries it stays under the parser's cap)."""
JSON_CAP = MAX_JSON_BYTES - 1024
STARTUP_CPU_S = 1.0
"""What starting the interpreter and a run takes, generously (about 0.3 s)."""


def _completion(**fields: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
        **fields,
    }


def _tiny_objects(size: int) -> bytes:
    """The JSON that costs the most memory per byte once decoded: `[[[]],[[]],...]`."""
    return b"[" + b"[[]]," * (size // 5 - 1) + b"[[]]]"


@dataclass(frozen=True)
class Mode:
    name: str
    script: Callable[[FakeOpenAI], None]
    check: Callable[[Measured], None]
    kinds: tuple[str, ...] = ("completion",)
    output: str = "json"
    defaults: dict[str, Any] = field(default_factory=dict)


def _result(run: Measured, kind: str = "completion") -> dict[str, Any]:
    return next(r for r in run.document()["results"] if r["kind"] == kind)


def _verdict(run: Measured) -> dict[str, Any]:
    verdict: dict[str, Any] = run.document()["verdicts"][0]
    return verdict


# --- the modes ------------------------------------------------------------------------------


def _quote_in_error(fake: FakeOpenAI) -> None:
    message = 'invalid header "Authorization: Bearer abc" (x-api-key: "k")'
    fake.behave(MODEL, Behaviour.error("bad_request", message=message))


def _check_quote(run: Measured) -> None:
    assert "invalid header" in _result(run)["detail"]


def _raw(reply: Reply) -> Callable[[FakeOpenAI], None]:
    def script(fake: FakeOpenAI) -> None:
        fake.behave(MODEL, Behaviour.raw(reply))

    return script


def _rate_limited(headers: dict[str, str]) -> Reply:
    body = {"error": {"message": "slow down", "type": "rate_limit_error", "code": None}}
    return json_reply(body, status=429, headers=headers)


def _check_no_hint(run: Measured) -> None:
    attempts = _result(run)["attempt_log"]
    assert all(a["retry_after_s"] is None or a["retry_after_s"] <= 366 * 86400 for a in attempts)


def _check_capped_id(run: Measured) -> None:
    served = _result(run)["served_model"]
    assert served is not None
    assert len(served) <= 256


def _check_not_listed_past_cap(run: Measured) -> None:
    detail = _result(run, "catalog")["detail"]
    assert "goes on past 20,000 ids" in detail


def _check_tokens_ignored(run: Measured) -> None:
    result = _result(run)
    assert result["output_tokens"] is None


def _check_body_refused(run: Measured) -> None:
    assert _result(run)["error_class"] == "protocol_error"


def _check_done_alone(run: Measured) -> None:
    assert _verdict(run)["verdict"] != "up"
    assert "nothing but its terminator" in _result(run, "stream")["detail"]


def _check_ratelimit(run: Measured) -> None:
    headers = _result(run)["ratelimit"]
    assert len(headers) <= 32
    assert all(len(v) <= 256 for v in headers.values())


def _check_escapes(run: Measured) -> None:
    assert "\x1b" not in run.stdout
    assert "\u202e" not in run.stdout
    assert "\x9b" not in run.stdout
    assert "\\x1b" in run.stdout  # shown, not interpreted


def _check_endless_line(run: Measured) -> None:
    # Each piece is scanned once: 16 MiB in 4 KiB pieces is milliseconds of decoding (it
    # was a core busy until the deadline, rescanning the whole line for every piece).
    assert run.cpu_s < STARTUP_CPU_S + 1.0, run
    assert _result(run, "stream")["error_class"] == "protocol_error"


MODES = [
    Mode("an error text quoting an auth header", _quote_in_error, _check_quote),
    Mode(
        "retry-after NaN, inf and 1e999",
        _raw(_rate_limited({"retry-after": "NaN", "retry-after-ms": "inf"})),
        _check_no_hint,
    ),
    Mode("retry-after 1e999", _raw(_rate_limited({"retry-after": "1e999"})), _check_no_hint),
    Mode(
        "16 MiB of the smallest JSON objects as a completion",
        _raw(Reply(headers={"content-type": "application/json"}, body=_tiny_objects(16 * MIB))),
        _check_body_refused,
    ),
    Mode(
        "a gzip bomb",
        _raw(
            Reply(
                headers={"content-type": "application/json", "content-encoding": "gzip"},
                body=gzip.compress(b" " * (64 * MIB), compresslevel=9),
            )
        ),
        _check_body_refused,
    ),
    Mode(
        "a 3 MB served model id",
        _raw(json_reply(_completion(model=LONG_ID))),
        _check_capped_id,
    ),
    Mode(
        "token counts no number holds",
        _raw(
            Reply(
                headers={"content-type": "application/json"},
                body=json.dumps(_completion())[:-1].encode()
                + b', "usage": {"completion_tokens": 1'
                + b"0" * 400
                + b"}}",
            )
        ),
        _check_tokens_ignored,
    ),
    Mode(
        "a thousand rate-limit headers with NaN values",
        _raw(
            json_reply(
                _completion(),
                headers={f"x-ratelimit-limit-{i}": "NaN" * 30 for i in range(1000)},
            )
        ),
        _check_ratelimit,
    ),
    Mode(
        "terminal escapes in an error and a served model",
        lambda fake: fake.behave(
            MODEL, Behaviour.raw(json_reply(_completion(model=f"m{ESCAPES}")))
        ),
        _check_escapes,
    ),
    Mode(
        "a stream of nothing but data: [DONE]",
        lambda fake: fake.behave(MODEL, Behaviour.raw(sse_reply(["data: [DONE]\n\n"]))),
        _check_done_alone,
        kinds=("stream",),
    ),
    Mode(
        "one endless SSE line",
        lambda fake: fake.behave(
            MODEL,
            Behaviour.raw(
                Reply(
                    headers={"content-type": "text/event-stream"},
                    chunks=[(0.0, b"data: ")] + [(0.0, b"x" * 4096)] * 4200,
                )
            ),
        ),
        _check_endless_line,
        kinds=("stream",),
    ),
    Mode(
        "a model list of 100,000 ids",
        lambda fake: fake.behave_catalog(
            Behaviour.raw(
                json_reply({"object": "list", "data": [{"id": f"m-{i}"} for i in range(100_000)]})
            )
        ),
        _check_not_listed_past_cap,
        kinds=("catalog",),
    ),
    Mode(
        "the smallest JSON objects up to the parser's cap, as a completion",
        _raw(Reply(headers={"content-type": "application/json"}, body=_tiny_objects(JSON_CAP))),
        _check_body_refused,
    ),
    Mode(
        "the smallest JSON objects up to the parser's cap, as a model list",
        lambda fake: fake.behave_catalog(
            Behaviour.raw(
                Reply(
                    headers={"content-type": "application/json"},
                    body=b'{"data":' + _tiny_objects(JSON_CAP - 16) + b"}",
                )
            )
        ),
        lambda run: None,
        kinds=("catalog",),
    ),
]


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_a_hostile_server_never_breaks_the_output_the_memory_or_the_exit_code(
    mode: Mode, isolated_env: Path
) -> None:
    with FakeOpenAI(key=KEY, models=[MODEL]) as fake:
        mode.script(fake)
        write_fast_registry(
            isolated_env,
            [provider("acme", "openai", fake.base_url, [MODEL], key_env="ACME_KEY")],
            control_url=fake.base_url,
            kinds=list(mode.kinds),
            retry={"attempts": 1},
            **mode.defaults,
        )
        run = modelaudit(
            "probe",
            "-f",
            mode.output,
            "--db",
            "h.sqlite3",
            cwd=isolated_env,
            env=_env(),
        )

    assert run.returncode in (0, 3), run
    assert run.peak_mb < MEMORY_LIMIT_MB, run
    assert "Traceback" not in run.stderr
    run.document()
    mode.check(run)


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "ACME_KEY": KEY}


# --- what a server said, stored: every later output -------------------------------------


def test_what_a_server_said_keeps_every_later_command_parseable(isolated_env: Path) -> None:
    """The error text that broke `probe -f json` was stored too, and broke every later report,
    history and export of the database; so did a NaN retry hint and rate-limit header."""
    message = 'invalid header "Authorization: Bearer abc"'
    with FakeOpenAI(key=KEY, models=[MODEL, "m2"]) as fake:
        fake.behave(MODEL, Behaviour.error("server_error", message=message))
        fake.behave(
            "m2",
            Behaviour.raw(
                _rate_limited({"retry-after": "NaN", "x-ratelimit-limit-requests": "NaN"})
            ),
        )
        entry = provider("acme", "openai", fake.base_url, [MODEL, "m2"], key_env="ACME_KEY")
        for model in entry["models"]:
            model["pinned"] = True
        write_fast_registry(isolated_env, [entry], control_url=fake.base_url, retry={"attempts": 1})
        runs = {
            "probe json": modelaudit(
                "probe", "-f", "json", "--db", "h.db", cwd=isolated_env, env=_env()
            ),
            "probe jsonl": modelaudit(
                "probe", "-f", "jsonl", "--db", "h.db", cwd=isolated_env, env=_env()
            ),
            "check json": modelaudit("check", "--live", "-f", "json", cwd=isolated_env, env=_env()),
            "check sarif": modelaudit(
                "check", "--live", "-f", "sarif", cwd=isolated_env, env=_env()
            ),
        }
    for args in (
        ("report", "-f", "json"),
        ("history", "-f", "json"),
        ("history", "-f", "json", "-m", f"acme/{MODEL}"),
        ("db", "export"),
    ):
        runs[" ".join(args)] = modelaudit(*args, "--db", "h.db", cwd=isolated_env, env=_env())

    for name, run in runs.items():
        assert run.returncode in (0, 1, 3), f"{name}: {run}"
        if name in ("probe jsonl", "db export"):
            assert run.lines(), f"{name}: {run}"
        else:
            run.document()
        if name != "history -f json":  # the list of runs quotes no reason
            assert "invalid header" in run.stdout, f"{name}: {run}"


# --- a list that never ends, a connection dropped under a request ----------------------------


def _endless_pages(delay_s: float) -> Callable[[Any], Reply]:
    pages = iter(range(10_000))

    def endless(request: Any) -> Reply:
        page = next(pages)
        body = {
            "data": [{"type": "model", "id": f"claude-{page}"}],
            "has_more": True,
            "first_id": f"claude-{page}",
            "last_id": f"claude-{page}",
        }
        return Reply(
            headers={"content-type": "application/json"},
            body=json.dumps(body).encode(),
            delay_s=delay_s,
        )

    return endless


def _list_pages(
    directory: Path, delay_s: float, timeouts: dict[str, float]
) -> tuple[Measured, int]:
    """Probe a catalog that always has one more page; the run and the pages served."""
    with FakeAnthropic(key=KEY, models=["claude-x"]) as fake:
        fake.behave_catalog(Behaviour.raw(_endless_pages(delay_s)))
        write_fast_registry(
            directory,
            [provider("anthropic", "anthropic", fake.base_url, ["claude-x"], key_env="ACME_KEY")],
            control_url=fake.base_url,
            kinds=["catalog"],
            retry={"attempts": 1},
            timeouts=timeouts,
        )
        run = modelaudit("probe", "-f", "json", "--no-store", cwd=directory, env=_env())
        return run, len(fake.server.requests)


def test_a_paginated_model_list_stops_after_100_pages(isolated_env: Path) -> None:
    run, pages = _list_pages(isolated_env, 0.0, {"total_s": 60})

    assert _result(run, "catalog")["detail"] == "the model list goes on past 100 pages"
    assert pages == 100


def test_an_endless_paginated_model_list_stops_at_the_total_deadline(isolated_env: Path) -> None:
    run, _ = _list_pages(isolated_env, 0.1, {"connect_s": 1, "total_s": 1.5})

    result = _result(run, "catalog")
    assert result["error_class"] == "timeout", run
    assert "not read whole within total_s 1.5 s" in result["detail"]
    assert run.wall_s < 1.5 + 8.0, run  # a page's delay past the deadline, and start-up


@pytest.mark.parametrize(("max_requests", "sent"), [(10, 3), (2, 2)])
def test_a_request_resent_on_a_dropped_keep_alive_connection_is_inside_the_budget(
    isolated_env: Path, max_requests: int, sent: int
) -> None:
    with FakeOpenAI(key=KEY, models=[MODEL]) as fake:
        # The list's connection is dropped under the completion that reuses it: the
        # completion goes out again on a fresh connection. It is one more request.
        fake.behave_catalog(Behaviour.ok().dropping_next())
        write_fast_registry(
            isolated_env,
            [provider("acme", "openai", fake.base_url, [MODEL], key_env="ACME_KEY")],
            control_url=fake.base_url,
            kinds=["catalog", "completion"],
            budget={"max_requests": max_requests},
        )
        run = modelaudit("probe", "-f", "json", "--no-store", cwd=isolated_env, env=_env())
        received = len(fake.server.requests)

    assert received == sent, run
    assert run.document()["run"]["requests_sent"] == sent


def test_terminal_escapes_a_server_sent_never_reach_a_terminal_table(isolated_env: Path) -> None:
    with FakeOpenAI(key=KEY, models=[MODEL]) as fake:
        fake.behave(MODEL, Behaviour.error("server_error", message=f"boom {ESCAPES}"))
        write_fast_registry(
            isolated_env,
            [provider("acme", "openai", fake.base_url, [MODEL], key_env="ACME_KEY")],
            control_url=fake.base_url,
            retry={"attempts": 1},
        )
        runs = [modelaudit("probe", "-f", "table", "--db", "h.db", cwd=isolated_env, env=_env())]
    for args in (
        ("history", "-f", "table", "-m", f"acme/{MODEL}"),
        ("report", "-f", "table"),
        ("report", "-f", "markdown"),
    ):
        runs.append(modelaudit(*args, "--db", "h.db", cwd=isolated_env, env=_env()))

    for run in runs:
        assert run.returncode == 0, run
        for shown in (run.stdout, run.stderr):
            assert "\x1b" not in shown, run
            assert "\u202e" not in shown, run
            assert "\x07" not in shown, run
    assert "\\x1b[2J" in runs[0].stdout  # shown as text, where it was
