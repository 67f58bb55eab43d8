"""A model's verdict for a run, from every probe result it got. Pure.

The rules, in order (the first that applies wins):
1. `gone`: a generation probe said model_not_found / model_deprecated, or was answered by
   another model (model_substituted); or the catalog does not list it (nor finds it by id)
   and no generation proved the requested model still answers.
2. `blocked`: auth, access or quota failed: our access broke, not the model.
3. `inconclusive`: this machine could not reach the network (the control check failed) and
   the model's failures say nothing about the target (DNS, unreachable, connect timeouts, a
   portal page); nothing is called down. A refusal by a host on this machine or network
   (nothing listens) is definitive and never excused this way.
4. `down`: a probe still failed after its retries (5xx, timeout, refused, TLS, protocol).
5. `degraded`: rate-limited or overloaded to the end, a server still loading its model, or
   slower than the model's p95 latency budget. A 429 is never `down`.
6. `inconclusive`: the provider refused our probe request itself (400), or the route or
   page that answered was not the API (check base_url): state unknown.
7. `up`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.probe import classify
from modelaudit.probe.result import HealthState, ModelVerdict, ProbeResult
from modelaudit.vocabulary import GONE_CLASSES, ErrorClass, Phase, ProbeKind, Verdict

if TYPE_CHECKING:
    from collections.abc import Sequence

    from modelaudit.registry.schema import Slo

GONE = GONE_CLASSES
BLOCKED = frozenset({ErrorClass.AUTH_FAILED, ErrorClass.ACCESS_DENIED, ErrorClass.QUOTA_EXHAUSTED})
DOWN = frozenset(
    {
        ErrorClass.SERVER_ERROR,
        ErrorClass.TIMEOUT,
        ErrorClass.CONNECT_FAILED,
        ErrorClass.DNS_FAILED,
        ErrorClass.TLS_FAILED,
        ErrorClass.PROTOCOL_ERROR,
    }
)
DEGRADING = frozenset({ErrorClass.RATE_LIMITED, ErrorClass.OVERLOADED})


def never_connected(result: ProbeResult) -> bool:
    """Failed before any HTTP answer (a refusal included)."""
    final = result.final
    if final.error_class in (ErrorClass.DNS_FAILED, ErrorClass.CONNECT_FAILED):
        return True
    return final.error_class is ErrorClass.TIMEOUT and final.failed_phase is Phase.CONNECT


def connection_level(result: ProbeResult) -> bool:
    """A failure that says nothing about the target: what an offline machine (or one behind
    a portal) looks like, and what the control check decides. A refusal by a host on this
    machine or network is not: it proves nothing listens there."""
    about_target = result.final.about_target
    if about_target is not None:
        return not about_target
    return never_connected(result)


def decide(
    provider: str,
    model: str,
    results: Sequence[ProbeResult],
    slo: Slo,
    *,
    network_down: bool = False,
    key_ref: str | None = None,
    fallbacks: Sequence[str] = (),
) -> ModelVerdict:
    def verdict(v: Verdict, reason: str, error_class: ErrorClass | None = None) -> ModelVerdict:
        return ModelVerdict(provider, model, v, reason, error_class)

    if not results:
        return verdict(Verdict.SKIPPED, "no probe applied to this model")
    gone = _gone(results)
    if gone is not None:
        hint = f"; fallbacks: {', '.join(fallbacks)}" if fallbacks else "; no fallback declared"
        return verdict(Verdict.GONE, _say(gone) + hint, gone.error_class)
    # The model list failing says little about a model that answered a generation.
    probes_of_the_model = [r for r in results if r.kind is not ProbeKind.CATALOG]
    blocked = _first(probes_of_the_model or results, BLOCKED)
    if blocked is not None:
        fix = (
            f"; check {key_ref}"
            if key_ref and blocked.error_class is ErrorClass.AUTH_FAILED
            else ""
        )
        return verdict(Verdict.BLOCKED, _say(blocked) + fix, blocked.error_class)
    decisive = _decisive(probes_of_the_model or results)
    # A failure the target itself gave (a 5xx, a refusal on this machine) outweighs one that
    # says nothing about it; those are the control check's to decide.
    failed = _first([r for r in decisive if not connection_level(r)], DOWN)
    unreached = next((r for r in decisive if connection_level(r)), None)
    if failed is None and unreached is not None and network_down:
        return verdict(
            Verdict.INCONCLUSIVE,
            f"{_say(unreached)}; this machine cannot reach the network (control check failed): "
            "not called down",
            unreached.error_class,
        )
    failed = failed or _first(decisive, DOWN)
    if failed is not None:
        return verdict(Verdict.DOWN, _say(failed), failed.error_class)
    # A refused probe leaves the model's state unknown, which ranks worse than a model seen
    # throttled: checked first so that more failure never reads better.
    refused = _first(probes_of_the_model or results, frozenset({ErrorClass.BAD_REQUEST}))
    if refused is not None:
        why = (
            "not the API answered"
            if _names_a_fix(refused)
            else "the provider refused the probe request itself"
        )
        return verdict(
            Verdict.INCONCLUSIVE,
            f"{_say(refused)}; {why}, so the model's state is unknown",
            refused.error_class,
        )
    degraded = _degraded(results, slo)
    if degraded is not None:
        return degraded_verdict(provider, model, degraded)
    return verdict(Verdict.UP, _up_reason(results))


def _decisive(results: Sequence[ProbeResult]) -> Sequence[ProbeResult]:
    """When the model answered a generation, a failing server-level probe (its /health)
    does not make it down: the answer is the stronger evidence (the reason says both)."""
    if any(r.kind.generates and r.ok for r in results):
        return [r for r in results if r.kind.generates]
    return results


def degraded_verdict(
    provider: str, model: str, found: tuple[str, ErrorClass | None]
) -> ModelVerdict:
    reason, error_class = found
    return ModelVerdict(provider, model, Verdict.DEGRADED, reason, error_class)


def _gone(results: Sequence[ProbeResult]) -> ProbeResult | None:
    said_gone = next((r for r in results if r.kind.generates and r.error_class in GONE), None)
    if said_gone is not None:
        return said_gone
    unlisted = next((r for r in results if r.catalog is not None and not r.catalog.listed), None)
    if unlisted is None:
        return None
    # An `ok` generation is the requested model's own answer (another model's is a
    # substitution, caught above).
    answered = any(r.kind.generates and r.ok for r in results)
    return None if answered else unlisted


def _names_a_fix(result: ProbeResult) -> bool:
    """A wrong route or a page that is not the API: the detail says what to check."""
    return any(fix in result.final.detail for fix in classify.NOT_THE_API_FIXES)


def _first(results: Sequence[ProbeResult], classes: frozenset[ErrorClass]) -> ProbeResult | None:
    ordered = sorted(results, key=lambda r: not r.kind.generates)
    return next((r for r in ordered if r.error_class in classes), None)


def _degraded(results: Sequence[ProbeResult], slo: Slo) -> tuple[str, ErrorClass | None] | None:
    limited = _first(results, DEGRADING)
    if limited is not None:
        return _say(limited), limited.error_class
    for result in results:
        if result.health is HealthState.LOADING:
            return _say(result), result.error_class
    for result in results:
        latency = result.final.latency_ms
        slow = latency is not None and latency > slo.p95_latency_ms
        if result.kind is ProbeKind.COMPLETION and result.ok and slow:
            return (
                f"completion took {latency:.0f} ms, over the {slo.p95_latency_ms:.0f} ms "
                "p95 latency budget",
                None,
            )
    return None


def _say(result: ProbeResult) -> str:
    final = result.final
    tries = f" after {len(result.attempts)} attempts" if len(result.attempts) > 1 else ""
    return f"{result.kind.value}: {final.detail}{tries}"


def _up_reason(results: Sequence[ProbeResult]) -> str:
    parts = []
    for result in results:
        final = result.final
        if result.kind is ProbeKind.COMPLETION and final.latency_ms is not None:
            parts.append(f"completion {final.latency_ms:.0f} ms")
        elif result.kind is ProbeKind.STREAM and final.ttft_ms is not None:
            parts.append(f"stream TTFT {final.ttft_ms:.0f} ms")
        elif result.kind is ProbeKind.CATALOG and result.catalog and result.catalog.listed:
            by_id = " by id" if result.catalog.retrieved_by_id else ""
            retires = f", retires {result.catalog.retires}" if result.catalog.retires else ""
            parts.append(f"listed{by_id}{retires}")
        elif result.kind is ProbeKind.HEALTH:
            parts.append(
                "healthy" if result.ok else f"yet its health check failed ({_say(result)})"
            )
        if final.error_class is ErrorClass.CONTENT_FILTERED:
            parts.append(f"{result.kind.value} reply filtered (the model answered)")
        if result.kind is ProbeKind.CATALOG and result.catalog and not result.catalog.listed:
            parts.append("answers, but is not in the catalog")
        elif result.kind is ProbeKind.CATALOG and not result.ok and result.catalog is None:
            parts.append(f"the model list failed ({final.error_class.value})")
    return ", ".join(parts) or "answered"
