"""What a probe run says about each pin: the catalog's dates and lifecycle, the model that
served a completion that answered, and why a pin was not probed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from modelaudit.gate.observe import NO_CATALOG_REASON, observe
from modelaudit.probe.plan import Plan, Selection, make_plan
from modelaudit.probe.result import Attempt, CatalogFinding, ModelVerdict, ProbeResult, RunReport
from modelaudit.registry import load
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict
from tests.gate.registries import write

T0 = datetime(2026, 11, 29, 12, tzinfo=UTC)


def attempt(error_class: ErrorClass, served: str | None = None, ms: float = 100.0) -> Attempt:
    return Attempt(1, T0, error_class, latency_ms=ms, served_model=served)


def run_of(*results: ProbeResult, verdict: Verdict = Verdict.UP, reason: str = "ok") -> RunReport:
    verdicts = (ModelVerdict("acme", "acme-large", verdict, reason),)
    return RunReport(T0, T0, RunStatus.COMPLETE, results, verdicts)


def plan(directory: Path, kinds: tuple[ProbeKind, ...] = (ProbeKind.CATALOG,)) -> Plan:
    return make_plan(load(write(directory)), Selection(models=("acme/acme-large",)), kinds)


def test_the_catalog_dates_and_the_served_model_of_an_answer(isolated_env: Path) -> None:
    listed = CatalogFinding(listed=True, retires=date(2027, 1, 1), lifecycle="deprecated")
    report = run_of(
        ProbeResult("acme", "acme-large", ProbeKind.CATALOG, (attempt(ErrorClass.OK),), listed),
        ProbeResult(
            "acme",
            "acme-large",
            ProbeKind.COMPLETION,
            (attempt(ErrorClass.RATE_LIMITED), attempt(ErrorClass.OK, "acme-large-2026", 250.0)),
        ),
    )

    seen = observe(report, plan(isolated_env))[("acme", "acme-large")]

    assert (seen.listed, seen.api_retires, seen.lifecycle) == (True, date(2027, 1, 1), "deprecated")
    assert (seen.live, seen.answered, seen.served_model) == (True, True, "acme-large-2026")
    assert seen.elapsed_s == 0.45


def test_a_filtered_reply_still_answers_a_failed_one_names_no_model(isolated_env: Path) -> None:
    def completion(error_class: ErrorClass) -> RunReport:
        result = ProbeResult(
            "acme", "acme-large", ProbeKind.COMPLETION, (attempt(error_class, "served-x"),)
        )
        return run_of(result)

    filtered = observe(completion(ErrorClass.CONTENT_FILTERED), plan(isolated_env))
    failed = observe(completion(ErrorClass.SERVER_ERROR), plan(isolated_env))

    assert filtered[("acme", "acme-large")].served_model == "served-x"
    assert failed[("acme", "acme-large")].served_model is None
    assert failed[("acme", "acme-large")].answered is False


def test_a_provider_with_nothing_to_probe_says_what_would(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_API_KEY", "sk-test-0123456789abcdef")
    nothing = plan(isolated_env, (ProbeKind.HEALTH,))  # a vendor has no health endpoint
    report = run_of(verdict=Verdict.SKIPPED, reason="the run's budget was spent")

    seen = observe(report, nothing)[("acme", "acme-large")]

    assert nothing.providers[0].kinds == ()
    assert (seen.verdict, seen.reason) == (Verdict.SKIPPED, NO_CATALOG_REASON)
    assert (seen.listed, seen.live) == (None, False)
