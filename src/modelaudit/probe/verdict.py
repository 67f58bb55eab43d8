"""A model's verdict for a run, from every probe result it got. Pure.

The rules, in order (the first that applies wins):
1. `gone`: a generation probe said model_not_found / model_deprecated; or the catalog does
   not list it (nor finds it by id) and no generation proved the requested model still answers.
2. `blocked`: auth, access or quota failed: our access broke, not the model.
3. `inconclusive`: this machine could not reach the network (the control check failed) and
   the model's failures were at the connection level; nothing is called down.
4. `down`: a probe still failed after its retries (5xx, timeout, refused, TLS, protocol).
5. `degraded`: rate-limited or overloaded to the end, a server still loading its model, or
   slower than the model's p95 latency budget. A 429 is never `down`.
6. `inconclusive`: the provider refused our probe request itself (400): state unknown.
7. `up`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.probe.result import HealthState, ModelVerdict, ProbeResult
from modelaudit.vocabulary import ErrorClass, Phase, ProbeKind, Verdict

if TYPE_CHECKING:
    from collections.abc import Sequence

    from modelaudit.registry.schema import Slo

GONE = frozenset({ErrorClass.MODEL_NOT_FOUND, ErrorClass.MODEL_DEPRECATED})
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
GENERATION = frozenset({ProbeKind.COMPLETION, ProbeKind.STREAM})


def connection_level(result: ProbeResult) -> bool:
    """Failed before any HTTP answer: what an offline machine looks like."""
    final = result.final
    if final.error_class in (ErrorClass.DNS_FAILED, ErrorClass.CONNECT_FAILED):
        return True
    return final.error_class is ErrorClass.TIMEOUT and final.failed_phase is Phase.CONNECT


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
    gone = _gone(model, results)
    if gone is not None:
        hint = f"; fallbacks: {', '.join(fallbacks)}" if fallbacks else "; no fallback declared"
        return verdict(
            Verdict.GONE, _say(gone) + _stand_in(model, results) + hint, gone.error_class
        )
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
    failed = _first(_decisive(probes_of_the_model or results), DOWN)
    if failed is not None and network_down and connection_level(failed):
        return verdict(
            Verdict.INCONCLUSIVE,
            f"{_say(failed)}; this machine cannot reach the network (control check failed): "
            "not called down",
            failed.error_class,
        )
    if failed is not None:
        return verdict(Verdict.DOWN, _say(failed), failed.error_class)
    degraded = _degraded(results, slo)
    if degraded is not None:
        return degraded_verdict(provider, model, degraded)
    refused = _first(results, frozenset({ErrorClass.BAD_REQUEST}))
    if refused is not None:
        return verdict(
            Verdict.INCONCLUSIVE,
            f"{_say(refused)}; the provider refused the probe request itself, "
            "so the model's state is unknown",
            refused.error_class,
        )
    return verdict(Verdict.UP, _up_reason(results))


def _decisive(results: Sequence[ProbeResult]) -> Sequence[ProbeResult]:
    """When the model answered a generation, a failing server-level probe (its /health)
    does not make it down: the answer is the stronger evidence (the reason says both)."""
    if any(r.kind in GENERATION and r.ok for r in results):
        return [r for r in results if r.kind in GENERATION]
    return results


def degraded_verdict(
    provider: str, model: str, found: tuple[str, ErrorClass | None]
) -> ModelVerdict:
    reason, error_class = found
    return ModelVerdict(provider, model, Verdict.DEGRADED, reason, error_class)


def _gone(model: str, results: Sequence[ProbeResult]) -> ProbeResult | None:
    said_gone = next((r for r in results if r.kind in GENERATION and r.error_class in GONE), None)
    if said_gone is not None:
        return said_gone
    unlisted = next((r for r in results if r.catalog is not None and not r.catalog.listed), None)
    if unlisted is None:
        return None
    answered = any(
        r.kind in GENERATION and r.ok and same_model(model, r.final.served_model) for r in results
    )
    return None if answered else unlisted


def _stand_in(model: str, results: Sequence[ProbeResult]) -> str:
    """When another model answered in its place (a single-model server answers any name)."""
    served = next(
        (
            r.final.served_model
            for r in results
            if r.kind in GENERATION and r.ok and not same_model(model, r.final.served_model)
        ),
        None,
    )
    return f"; the server answered as `{served}` instead" if served else ""


def same_model(requested: str, served: str | None) -> bool:
    """A response naming a dated snapshot of the requested alias still is the model."""
    if served is None:
        return True
    a, b = requested.lower(), served.lower()
    return (
        a == b or b.startswith(a) or a.startswith(b) or a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1]
    )


def _first(results: Sequence[ProbeResult], classes: frozenset[ErrorClass]) -> ProbeResult | None:
    ordered = sorted(results, key=lambda r: r.kind not in GENERATION)
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
