"""What the risk and the report keep of the history: each model's last decisive verdict
(read from the window's last days first) and drift summarised per model and kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from modelaudit.history import DriftEvent, VerdictPoint, Window
from modelaudit.report.source import last_verdicts
from modelaudit.risk.evidence import summarize_drift
from modelaudit.vocabulary import Verdict
from tests.memory_history import MemoryHistory

NOW = datetime(2026, 12, 1, tzinfo=UTC)
MONTH = Window(NOW - timedelta(days=30), NOW)


def verdict(days_ago: float, verdict: Verdict, run_id: int) -> VerdictPoint:
    return VerdictPoint(run_id, NOW - timedelta(days=days_ago), verdict, verdict.value)


def test_the_last_verdict_skips_runs_that_decided_nothing() -> None:
    history = MemoryHistory(
        verdict_rows={
            ("p", "m"): [
                verdict(1.0, Verdict.DOWN, 1),
                verdict(0.5, Verdict.UP, 2),
                verdict(0.2, Verdict.INCONCLUSIVE, 3),
                verdict(0.1, Verdict.SKIPPED, 4),
            ]
        }
    )

    found = last_verdicts(history, MONTH, {("p", "m")})

    assert found[("p", "m")].run_id == 2
    assert history.calls == ["streaks"]  # the last two days held it: one read


def test_a_model_last_judged_weeks_ago_is_found_in_the_whole_window() -> None:
    history = MemoryHistory(
        verdict_rows={
            ("p", "recent"): [verdict(0.5, Verdict.UP, 9)],
            ("p", "old"): [verdict(20, Verdict.GONE, 1), verdict(10, Verdict.DOWN, 2)],
        }
    )

    found = last_verdicts(history, MONTH, {("p", "recent"), ("p", "old")})

    assert found[("p", "old")].verdict is Verdict.DOWN
    assert found[("p", "recent")].run_id == 9
    assert history.calls == ["streaks", "streaks"]


def test_a_fingerprint_that_changes_on_every_request_is_one_line() -> None:
    values = ["fp_a", "fp_b", "fp_c"]
    events = [
        DriftEvent(
            "p",
            "m",
            NOW - timedelta(minutes=1000 - i),
            "fingerprint",
            values[i % 3],
            values[(i + 1) % 3],
        )
        for i in range(1000)
    ]
    events.append(DriftEvent("p", "m", NOW - timedelta(days=3), "served_model", "m", "m-2026-11"))

    summaries = summarize_drift(reversed(events))

    served, fingerprint = summaries[1], summaries[0]
    assert (fingerprint.kind, fingerprint.changes, fingerprint.values) == ("fingerprint", 1000, 3)
    assert (fingerprint.last_before, fingerprint.last_after) == ("fp_a", "fp_b")
    assert fingerprint.last_at == NOW - timedelta(minutes=1)
    assert (served.kind, served.changes, served.last_after) == ("served_model", 1, "m-2026-11")
