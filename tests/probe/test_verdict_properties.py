"""Invariants of the verdict, for any combination of probe results (hypothesis):

* a 429 alone is never `down` (nor `gone`, nor `blocked`);
* a transient failure is never `gone`;
* failures that say nothing about the target, with the control check failing, are never
  `down` or `gone` (a refusal by a host on this machine or network is definitive);
* no answer from another model is `up`;
* worse evidence never makes a better verdict.

And of the classifier: a 429 is never read as a server failure, whatever its body says.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from modelaudit.families.base import ProviderError
from modelaudit.probe.classify import classify_response, read_served, same_model
from modelaudit.probe.result import Attempt, CatalogFinding, ProbeResult
from modelaudit.probe.verdict import DOWN, decide
from modelaudit.registry.schema import Slo
from modelaudit.vocabulary import ErrorClass, Phase, ProbeKind, Verdict

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SLO = Slo(availability=0.99, p95_latency_ms=2000)
E = ErrorClass
TRANSIENT = (E.RATE_LIMITED, E.OVERLOADED, E.SERVER_ERROR, E.TIMEOUT, E.CONNECT_FAILED,
             E.PROTOCOL_ERROR, E.DNS_FAILED)  # fmt: skip
PATH_LEVEL = (E.CONNECT_FAILED, E.DNS_FAILED)
RANK = {
    Verdict.UP: 0,
    Verdict.DEGRADED: 1,
    Verdict.INCONCLUSIVE: 2,
    Verdict.DOWN: 3,
    Verdict.BLOCKED: 3,
    Verdict.GONE: 3,
}
"""How bad a verdict is, for "worse evidence never makes a better verdict"."""


def probe(
    kind: ProbeKind,
    error_class: ErrorClass,
    *,
    about_target: bool | None = None,
    phase: Phase | None = None,
) -> ProbeResult:
    attempt = Attempt(
        number=1,
        started_at=T0,
        error_class=error_class,
        latency_ms=100.0,
        failed_phase=phase,
        detail=f"{kind.value} {error_class.value}",
        about_target=about_target,
    )
    catalog = None
    if kind is ProbeKind.CATALOG and error_class is E.OK:
        catalog = CatalogFinding(listed=True)
    elif kind is ProbeKind.CATALOG and error_class is E.MODEL_NOT_FOUND:
        catalog = CatalogFinding(listed=False)
    return ProbeResult("acme", "m1", kind, (attempt,), catalog=catalog)


ANY_CLASS = st.sampled_from(list(ErrorClass))


@st.composite
def results(
    draw: st.DrawFn, classes: st.SearchStrategy[ErrorClass] = ANY_CLASS
) -> list[ProbeResult]:
    kinds = draw(st.lists(st.sampled_from(list(ProbeKind)), min_size=1, max_size=4, unique=True))
    found = []
    for kind in kinds:
        error_class = draw(classes)
        about = draw(st.sampled_from([None, True])) if error_class is E.CONNECT_FAILED else None
        phase = draw(st.sampled_from([None, Phase.CONNECT])) if error_class is E.TIMEOUT else None
        found.append(probe(kind, error_class, about_target=about, phase=phase))
    return found


def verdict_of(found: list[ProbeResult], network_down: bool = False) -> Verdict:
    return decide("acme", "m1", found, SLO, network_down=network_down).verdict


@given(results(st.sampled_from([E.OK, E.RATE_LIMITED])), st.booleans())
def test_a_429_alone_is_never_down(found: list[ProbeResult], network_down: bool) -> None:
    assert verdict_of(found, network_down) in (Verdict.UP, Verdict.DEGRADED)


@given(results(st.sampled_from([E.OK, *TRANSIENT])), st.booleans())
def test_a_transient_failure_is_never_gone(found: list[ProbeResult], network_down: bool) -> None:
    assert verdict_of(found, network_down) is not Verdict.GONE


@given(results(st.sampled_from([E.OK, *PATH_LEVEL])))
def test_failures_that_say_nothing_with_the_network_down_are_never_down_or_gone(
    found: list[ProbeResult],
) -> None:
    says_nothing = [r for r in found if r.final.about_target is not True]
    verdict = verdict_of(says_nothing or found, network_down=True)
    if says_nothing:
        assert verdict not in (Verdict.DOWN, Verdict.GONE)


@given(results(st.sampled_from([E.OK, *PATH_LEVEL])))
def test_a_refusal_on_this_machine_is_down_whatever_the_control_check_says(
    found: list[ProbeResult],
) -> None:
    refused = [replace(r, attempts=(replace(r.final, about_target=True),)) for r in found]
    generation_refused = any(
        r.kind is not ProbeKind.CATALOG and r.error_class is E.CONNECT_FAILED for r in refused
    )
    if generation_refused and not any(r.ok and r.kind is not ProbeKind.CATALOG for r in refused):
        assert verdict_of(refused, network_down=True) is Verdict.DOWN


@given(results(), st.booleans())
def test_no_answer_from_another_model_is_up(found: list[ProbeResult], network_down: bool) -> None:
    substituted = [*found, probe(ProbeKind.STREAM, E.MODEL_SUBSTITUTED)]
    substituted = [r for r in substituted if r.kind is not ProbeKind.STREAM] + [substituted[-1]]
    assert verdict_of(substituted, network_down) is Verdict.GONE


@settings(max_examples=300)
@given(results(), st.data(), st.booleans())
def test_worse_evidence_never_makes_a_better_verdict(
    found: list[ProbeResult], data: st.DataObject, network_down: bool
) -> None:
    answered = [i for i, r in enumerate(found) if r.ok]
    if not answered:
        return
    index = data.draw(st.sampled_from(answered))
    failure = data.draw(st.sampled_from([c for c in ErrorClass if c is not E.OK]))
    worse = list(found)
    worse[index] = probe(found[index].kind, failure)
    before, after = verdict_of(found, network_down), verdict_of(worse, network_down)
    assert RANK[after] >= RANK[before], (before, after, failure)


@given(
    st.one_of(st.none(), st.text(max_size=40)),
    st.text(max_size=200),
    st.one_of(st.none(), st.text(max_size=40)),
)
@example(None, "FAILED TO LOAD MODEL", None)  # Ollama's load failure, said with a 429
def test_a_429_is_never_read_as_a_server_failure(
    code: str | None, message: str, error_type: str | None
) -> None:
    error = ProviderError(type=error_type, code=code, message=message)
    assert classify_response(429, error) not in DOWN


_NAME = st.from_regex(r"[a-z][a-z0-9]{2,8}(-[a-z0-9]{1,6}){0,3}", fullmatch=True)


@given(_NAME, st.sampled_from(["-2024-08-06", "-20241022", "-001", ":latest", "-v1:0", "@001"]))
def test_a_dated_snapshot_or_version_is_the_same_model(name: str, suffix: str) -> None:
    assert same_model(name, name + suffix)
    assert read_served(name, name + suffix) is None


@given(_NAME, _NAME)
def test_a_model_with_nothing_in_common_is_a_substitution(asked: str, served: str) -> None:
    words = set(asked.split("-")) | set(served.split("-"))
    if set(asked.split("-")) & set(served.split("-")) or "auto" in words or "router" in served:
        return
    if any("router" in w or w == "auto" for w in words):
        return
    found = read_served(asked, served)
    assert found is not None
    assert found.error_class is E.MODEL_SUBSTITUTED
    assert served in (found.fix or "")
