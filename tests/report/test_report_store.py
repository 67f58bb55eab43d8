"""`modelaudit report` and `modelaudit drill` end to end through the real SQLite store:
probe results recorded with the store's own write path, then the commands as a user runs
them. The numbers are worked out by hand below."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelaudit.probe.result import Attempt, ModelVerdict, ProbeResult, RunReport
from modelaudit.store.sqlite.store import SqliteStore
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict
from tests.fakes import FakeOpenAI
from tests.helpers import run_cli, write_registry

# acme-large, one completion per hourly run, oldest first: 7 successes (100..700 ms), two
# timeouts in a row (runs 3 and 4: an incident), and one 429 (excluded from both sides).
ACME_PLAN: list[tuple[ErrorClass, float | None]] = [
    (ErrorClass.OK, 300.0),
    (ErrorClass.OK, 100.0),
    (ErrorClass.RATE_LIMITED, None),
    (ErrorClass.TIMEOUT, None),
    (ErrorClass.TIMEOUT, None),
    (ErrorClass.OK, 700.0),
    (ErrorClass.OK, 200.0),
    (ErrorClass.OK, 600.0),
    (ErrorClass.OK, 400.0),
    (ErrorClass.OK, 500.0),
]
VERDICT_OF = {
    ErrorClass.OK: Verdict.UP,
    ErrorClass.RATE_LIMITED: Verdict.DEGRADED,
    ErrorClass.TIMEOUT: Verdict.DOWN,
}

REGISTRY = """\
version: 1
providers:
  - name: acme
    api: openai
    base_url: {acme_url}
    api_key: env:ACME_API_KEY
    hosting: vendor
    jurisdiction: US
    models:
      - id: acme-large
        weights: closed
        pinned: true
        fallbacks: [host/qwen]
  - name: host
    api: openai
    base_url: {host_url}
    api_key: env:HOST_API_KEY
    hosting: third-party
    jurisdiction: FR
    models:
      - id: qwen
        weights: open
        family: qwen
"""


def record(db: Path, now: datetime) -> None:
    """Ten hourly runs ending an hour before `now`, as `modelaudit probe` records them."""
    with SqliteStore.open(db) as store:
        for index, (error_class, latency) in enumerate(ACME_PLAN):
            started = now - timedelta(hours=len(ACME_PLAN) - index)
            run = store.begin_run(started, None)
            acme = Attempt(1, started, error_class, latency_ms=latency)
            host = Attempt(1, started, ErrorClass.OK, latency_ms=50.0)
            store.add_results(
                run, [ProbeResult("acme", "acme-large", ProbeKind.COMPLETION, (acme,))]
            )
            store.add_results(run, [ProbeResult("host", "qwen", ProbeKind.COMPLETION, (host,))])
            verdicts = (
                ModelVerdict("acme", "acme-large", VERDICT_OF[error_class], error_class.value),
                ModelVerdict("host", "qwen", Verdict.UP, "answered"),
            )
            store.finish_run(
                run,
                RunReport(
                    started, started + timedelta(seconds=20), RunStatus.COMPLETE, (), verdicts
                ),
            )


def report_registry(
    folder: Path,
    acme_url: str = "https://api.acme.invalid/v1",
    host_url: str = "https://api.host.invalid/v1",
) -> Path:
    return write_registry(folder, REGISTRY.format(acme_url=acme_url, host_url=host_url))


@pytest.fixture
def setup(isolated_env: Path) -> tuple[Path, Path]:
    db = isolated_env / "history.sqlite3"
    record(db, datetime.now(UTC))
    return db, report_registry(isolated_env)


def test_the_json_report_reads_the_stored_attempts_by_the_counting_rule(
    setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, registry = setup

    code, out, err = run_cli(
        ["report", "--db", str(db), "-c", str(registry), "--since", "24h", "--format", "json"],
        capsys,
    )

    assert code == 0, err
    document = json.loads(out)
    assert document["schema_version"] == 1
    acme = next(m for m in document["models"] if m["model"] == "acme-large")
    # 7 successes, 2 failures; the 429 counts on neither side.
    assert acme["availability"]["ok"] == 7
    assert acme["availability"]["n"] == 9
    assert acme["availability"]["excluded"] == 1
    # Wilson, 7/9: centre (0.7778 + 0.2134) / 1.4268 = 0.6947, half-width 0.2421.
    low, high = acme["availability"]["ci95"]
    assert low == pytest.approx(0.4526, abs=1e-3)
    assert high == pytest.approx(0.9368, abs=1e-3)
    # Nearest rank over 100..700 ms: p50 is the 4th (400), p95 the 7th (700); p99 hidden.
    assert acme["latency_ms"] == {
        "n": 7,
        "p50": 400.0,
        "p95": 700.0,
        "p99": None,
        "p99_hidden": True,
    }
    assert acme["error_classes"] == {"ok": 7, "timeout": 2, "rate_limited": 1}
    (incident,) = document["incidents"]
    assert (incident["model"], incident["verdict"], incident["runs"]) == ("acme-large", "down", 2)
    assert incident["duration_s"] == 2 * 3600
    assert acme["fallbacks"][0]["ref"] == "host/qwen"
    assert acme["fallbacks"][0]["healthy"] is True


def test_the_html_report_is_written_to_a_dated_file(
    setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str], isolated_env: Path
) -> None:
    db, registry = setup
    target = isolated_env / "reports" / "2026-12-01.html"

    code, out, err = run_cli(
        ["report", "--db", str(db), "-c", str(registry), "--since", "24h", "-o", str(target)],
        capsys,
    )

    assert code == 0, err
    assert out == ""
    assert f"wrote the html report to {target}" in err
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "acme/acme-large" in page


def test_a_missing_database_says_to_probe_first(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_registry(isolated_env)

    code, out, err = run_cli(["report", "--db", str(isolated_env / "none.sqlite3")], capsys)

    assert code == 2
    assert out == ""
    assert "no history database at" in err
    assert "run `modelaudit probe`" in err
    assert not (isolated_env / "none.sqlite3").exists()


# The drill runs in its own interpreter with an audit hook that records every socket the
# process opens, connects or resolves: it must be none.
DRILL = textwrap.dedent(
    """
    import json, sys
    opened = []
    network = {"socket.__new__", "socket.connect", "socket.bind", "socket.sendto",
               "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"}
    def hook(event, args):
        if event in network:
            opened.append(event)
    sys.addaudithook(hook)
    from modelaudit.cli.main import main
    code = main(sys.argv[1:])
    print(json.dumps({"code": code, "sockets": opened}), file=sys.stderr)
    """
)


def test_a_drill_answers_from_history_without_a_single_request(isolated_env: Path) -> None:
    db = isolated_env / "history.sqlite3"
    record(db, datetime.now(UTC))
    with (
        FakeOpenAI(key="sk-test", models=["acme-large"]) as acme,
        FakeOpenAI(key="sk-test", models=["qwen"]) as host,
    ):
        registry = report_registry(isolated_env, acme.base_url, host.base_url)

        done = subprocess.run(
            [
                sys.executable,
                "-c",
                DRILL,
                *("drill", "--db", str(db), "-c", str(registry)),
                *("--without", "acme", "--format", "json"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"ACME_API_KEY": "sk-test", "HOST_API_KEY": "sk-test", "PATH": "/usr/bin"},
        )

        assert (acme.connections, host.connections) == (0, 0)
        assert (acme.requests, host.requests) == ([], [])
    outcome = json.loads(done.stderr.strip().splitlines()[-1])
    assert outcome == {"code": 0, "sockets": []}
    (drill,) = json.loads(done.stdout)["drills"]
    assert drill["without"] == {"providers": ["acme"], "jurisdictions": []}
    assert (drill["affected"], drill["covered"], drill["coverage"]) == (1, 1, 1.0)
    assert drill["models"][0]["fallback"] == "host/qwen"


def test_a_drill_below_the_minimum_coverage_exits_1(
    setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, registry = setup
    # Without France, host/qwen is gone too: acme-large keeps no fallback.

    code, out, err = run_cli(
        [
            "drill",
            "--db",
            str(db),
            "-c",
            str(registry),
            "--without-jurisdiction",
            "US",
            "--without-jurisdiction",
            "FR",
            "--min-coverage",
            "100",
        ],
        capsys,
    )

    assert code == 1, err
    assert "acme/acme-large" in out
    assert "NONE" in out
    assert "coverage 0% is below 100%" in err
