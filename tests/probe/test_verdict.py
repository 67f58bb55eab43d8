"""The verdict rules: a 429 is never down, only model_not_found/deprecated or catalog absence
make a model gone, access problems are blocked, and an offline machine calls nothing down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelaudit.probe.result import Attempt, CatalogFinding, HealthState, ProbeResult
from modelaudit.probe.verdict import decide
from modelaudit.registry.schema import Slo
from modelaudit.vocabulary import ErrorClass, Phase, ProbeKind, Verdict

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SLO = Slo(availability=0.99, p95_latency_ms=2000)


def result(
    kind: ProbeKind,
    *classes: ErrorClass,
    latency_ms: float = 100.0,
    served: str | None = None,
    phase: Phase | None = None,
    catalog: CatalogFinding | None = None,
    health: HealthState | None = None,
    detail: str = "detail",
) -> ProbeResult:
    attempts = tuple(
        Attempt(
            number=i + 1,
            started_at=T0,
            error_class=c,
            latency_ms=latency_ms,
            served_model=served,
            failed_phase=phase,
            detail=detail,
        )
        for i, c in enumerate(classes)
    )
    return ProbeResult("acme", "m1", kind, attempts, catalog=catalog, health=health)


def verdict_of(*results: ProbeResult, network_down: bool = False) -> Verdict:
    return decide("acme", "m1", results, SLO, network_down=network_down).verdict


OK = ErrorClass.OK
LISTED = CatalogFinding(listed=True)
UNLISTED = CatalogFinding(listed=False)


def test_a_model_that_answers_is_up() -> None:
    assert (
        verdict_of(result(ProbeKind.CATALOG, OK, catalog=LISTED), result(ProbeKind.COMPLETION, OK))
        is Verdict.UP
    )


@pytest.mark.parametrize("limit", [ErrorClass.RATE_LIMITED, ErrorClass.OVERLOADED])
def test_rate_limited_or_overloaded_to_the_end_is_degraded_never_down(limit: ErrorClass) -> None:
    assert verdict_of(result(ProbeKind.COMPLETION, limit, limit, limit)) is Verdict.DEGRADED


@pytest.mark.parametrize("gone", [ErrorClass.MODEL_NOT_FOUND, ErrorClass.MODEL_DEPRECATED])
def test_a_definitive_not_found_or_deprecated_answer_is_gone(gone: ErrorClass) -> None:
    decided = decide("acme", "m1", [result(ProbeKind.COMPLETION, gone)], SLO, fallbacks=["b/x"])
    assert decided.verdict is Verdict.GONE
    assert decided.reason.endswith("; fallbacks: b/x")


def test_absence_from_the_catalog_is_gone() -> None:
    assert (
        verdict_of(result(ProbeKind.CATALOG, ErrorClass.MODEL_NOT_FOUND, catalog=UNLISTED))
        is Verdict.GONE
    )


def test_unlisted_but_answering_as_itself_is_up_not_gone() -> None:
    assert (
        verdict_of(
            result(ProbeKind.CATALOG, ErrorClass.MODEL_NOT_FOUND, catalog=UNLISTED),
            result(ProbeKind.COMPLETION, OK, served="m1-2026-01-01"),
        )
        is Verdict.UP
    )


def test_unlisted_and_answered_by_another_model_is_gone() -> None:
    # A single-model llama.cpp server answers any name with the model it has loaded.
    substituted = "answered by `smollm2-135m`, not `m1`"
    decided = decide(
        "acme",
        "m1",
        [
            result(ProbeKind.CATALOG, ErrorClass.MODEL_NOT_FOUND, catalog=UNLISTED),
            result(
                ProbeKind.COMPLETION,
                ErrorClass.MODEL_SUBSTITUTED,
                served="smollm2-135m",
                detail=substituted,
            ),
        ],
        SLO,
    )
    assert (decided.verdict, decided.error_class) == (Verdict.GONE, ErrorClass.MODEL_SUBSTITUTED)
    assert substituted in decided.reason


def test_a_substitution_is_gone_even_without_a_catalog() -> None:
    substituted = result(ProbeKind.COMPLETION, ErrorClass.MODEL_SUBSTITUTED, served="other")
    assert verdict_of(substituted, result(ProbeKind.STREAM, OK)) is Verdict.GONE


def test_a_catalog_refusing_our_key_does_not_block_a_model_that_answers() -> None:
    catalog = result(ProbeKind.CATALOG, ErrorClass.AUTH_FAILED)
    assert verdict_of(catalog, result(ProbeKind.COMPLETION, OK)) is Verdict.UP


@pytest.mark.parametrize(
    "blocked", [ErrorClass.AUTH_FAILED, ErrorClass.ACCESS_DENIED, ErrorClass.QUOTA_EXHAUSTED]
)
def test_our_access_breaking_is_blocked_not_down(blocked: ErrorClass) -> None:
    assert verdict_of(result(ProbeKind.COMPLETION, blocked)) is Verdict.BLOCKED


def test_a_bad_key_names_the_variable_to_check() -> None:
    decided = decide(
        "acme",
        "m1",
        [result(ProbeKind.COMPLETION, ErrorClass.AUTH_FAILED)],
        SLO,
        key_ref="env:ACME_KEY",
    )
    assert decided.reason.endswith("; check env:ACME_KEY")


@pytest.mark.parametrize(
    "failure",
    [
        ErrorClass.SERVER_ERROR,
        ErrorClass.TIMEOUT,
        ErrorClass.CONNECT_FAILED,
        ErrorClass.DNS_FAILED,
        ErrorClass.TLS_FAILED,
        ErrorClass.PROTOCOL_ERROR,
    ],
)
def test_a_failure_that_outlives_its_retries_is_down(failure: ErrorClass) -> None:
    decided = decide("acme", "m1", [result(ProbeKind.COMPLETION, failure, failure, failure)], SLO)
    assert decided.verdict is Verdict.DOWN
    assert decided.reason == "completion: detail after 3 attempts"


def test_a_retry_that_succeeds_is_up() -> None:
    assert verdict_of(result(ProbeKind.COMPLETION, ErrorClass.SERVER_ERROR, OK)) is Verdict.UP


def test_connection_failures_on_an_offline_machine_are_inconclusive() -> None:
    refused = result(ProbeKind.COMPLETION, ErrorClass.CONNECT_FAILED)
    connect_timeout = result(ProbeKind.COMPLETION, ErrorClass.TIMEOUT, phase=Phase.CONNECT)
    assert verdict_of(refused, network_down=True) is Verdict.INCONCLUSIVE
    assert verdict_of(connect_timeout, network_down=True) is Verdict.INCONCLUSIVE


def test_a_server_error_is_down_even_on_an_offline_machine() -> None:
    # An HTTP answer proves the path to that server works.
    assert (
        verdict_of(result(ProbeKind.COMPLETION, ErrorClass.SERVER_ERROR), network_down=True)
        is Verdict.DOWN
    )


def test_slower_than_the_slo_is_degraded() -> None:
    decided = decide("acme", "m1", [result(ProbeKind.COMPLETION, OK, latency_ms=2500)], SLO)
    assert decided.verdict is Verdict.DEGRADED
    assert "over the 2000 ms p95 latency budget" in decided.reason


def test_a_server_still_loading_its_model_is_degraded() -> None:
    loading = result(ProbeKind.HEALTH, ErrorClass.OVERLOADED, health=HealthState.LOADING)
    assert verdict_of(loading) is Verdict.DEGRADED


def test_a_failing_health_check_does_not_bring_down_a_model_that_answers() -> None:
    unhealthy = result(ProbeKind.HEALTH, ErrorClass.SERVER_ERROR, detail="HTTP 500")
    decided = decide("acme", "m1", [unhealthy, result(ProbeKind.COMPLETION, OK)], SLO)
    assert decided.verdict is Verdict.UP
    assert "health check failed (health: HTTP 500)" in decided.reason


def test_a_failing_health_check_with_no_answer_is_down() -> None:
    unhealthy = result(ProbeKind.HEALTH, ErrorClass.SERVER_ERROR)
    failing = result(ProbeKind.COMPLETION, ErrorClass.SERVER_ERROR)
    assert verdict_of(unhealthy, failing) is Verdict.DOWN
    assert verdict_of(unhealthy) is Verdict.DOWN


def test_a_content_filter_means_the_model_answered() -> None:
    assert verdict_of(result(ProbeKind.COMPLETION, ErrorClass.CONTENT_FILTERED)) is Verdict.UP


def test_a_probe_the_provider_refused_is_inconclusive_not_down() -> None:
    assert verdict_of(result(ProbeKind.COMPLETION, ErrorClass.BAD_REQUEST)) is Verdict.INCONCLUSIVE


def test_a_failing_model_list_does_not_bring_down_a_model_that_answers() -> None:
    assert (
        verdict_of(
            result(ProbeKind.CATALOG, ErrorClass.SERVER_ERROR), result(ProbeKind.COMPLETION, OK)
        )
        is Verdict.UP
    )


def test_gone_outranks_every_other_finding() -> None:
    assert (
        verdict_of(
            result(ProbeKind.COMPLETION, ErrorClass.MODEL_NOT_FOUND),
            result(ProbeKind.STREAM, ErrorClass.AUTH_FAILED),
        )
        is Verdict.GONE
    )
