"""How drift reads in the human formats."""

from __future__ import annotations

from datetime import UTC, datetime

from modelaudit.report.text import drift_text
from modelaudit.risk.evidence import DriftSummary

AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def summary(kind: str, before: str | None, after: str, changes: int = 1) -> DriftSummary:
    return DriftSummary("acme", "acme-large", kind, changes, 2, AT, AT, before, after)  # type: ignore[arg-type]


def test_a_first_answer_by_another_model_is_compared_with_the_request() -> None:
    assert drift_text(summary("served_model", None, "acme-small")) == (
        "answered as acme-small (asked for acme-large)"
    )


def test_a_change_of_served_model_names_the_one_before() -> None:
    assert drift_text(summary("served_model", "acme-large-1", "acme-large-2")) == (
        "answered as acme-large-2 (was acme-large-1)"
    )


def test_a_first_fingerprint_says_so() -> None:
    assert (
        drift_text(summary("fingerprint", None, "fp_1")) == "system_fingerprint fp_1 (first seen)"
    )
