"""The generation kinds: `completion` (the cheapest real generation) and `stream` (time
to first token, inter-token gaps, tokens/s). Each runs once per model and spends tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from modelaudit.families import FAMILIES
from modelaudit.families.base import (
    HttpResponse,
    ProviderError,
    StreamEnd,
    StreamFailure,
    StreamMeta,
    StreamToken,
)
from modelaudit.probe import classify
from modelaudit.probe.attempts import (
    Outcome,
    ProbeContext,
    attempt_loop,
    error_outcome,
    not_the_format,
    send_one,
    timed,
)
from modelaudit.probe.result import ProbeResult
from modelaudit.probe.transport import Exchange
from modelaudit.vocabulary import ErrorClass, ProbeKind

if TYPE_CHECKING:
    from modelaudit.families.base import Family, StreamDecoder
    from modelaudit.registry.schema import ModelSpec, ProviderSpec


async def probe_completion(
    ctx: ProbeContext, provider: ProviderSpec, model: ModelSpec, known_as: tuple[str, ...] = ()
) -> ProbeResult:
    """The cheapest real generation. `known_as`: other names the model answers under in
    this run (the id its look-up by id resolved to)."""
    family = FAMILIES[provider.api]
    max_tokens = ctx.defaults.budget.output_tokens_per_probe
    names = _answers_as(family, model, known_as)

    async def send(variant: int) -> Outcome:
        request = family.completion_request(provider, model, max_tokens, variant)
        ctx.budget.take(max_tokens)
        ex = await send_one(ctx, provider, request, output_tokens=max_tokens)
        if isinstance(ex, Outcome):
            return ex
        if not 200 <= ex.status < 300:
            return error_outcome(family, ex)
        try:
            generation = family.parse_completion(
                HttpResponse(ex.status, ex.headers, ex.body), request
            )
        except ValueError as problem:
            return not_the_format("completion", ex, problem)
        error_class = classify.classify_generation(generation)
        detail = _generation_detail(error_class, generation.finish_reason, generation.error)
        outcome = Outcome(
            error_class,
            detail,
            provider_error=generation.error,
            served_model=generation.served_model,
            system_fingerprint=generation.system_fingerprint,
            output_tokens=generation.output_tokens,
        )
        return timed(_checked_served(outcome, model, names), ex)

    attempts = await attempt_loop(ctx, send, _alternative(family))
    return ProbeResult(provider.name, model.id, ProbeKind.COMPLETION, attempts)


def _answers_as(family: Family, model: ModelSpec, known_as: tuple[str, ...]) -> tuple[str, ...]:
    """Every name a reply may carry for `model` besides its id."""
    return (*family.served_names(model), *model.served_as, *known_as)


def _checked_served(outcome: Outcome, model: ModelSpec, names: tuple[str, ...]) -> Outcome:
    """An answer from another model is not the requested model answering."""
    if not outcome.error_class.is_success:
        return outcome
    substituted = classify.read_served(model.id, outcome.served_model, names)
    if substituted is None:
        return outcome
    return replace(outcome, error_class=substituted.error_class, detail=substituted.fix or "")


def _alternative(family: Family) -> Callable[[Outcome, int], int | None]:
    def pick(outcome: Outcome, variant: int) -> int | None:
        if outcome.error_class is not ErrorClass.BAD_REQUEST or outcome.provider_error is None:
            return None
        return family.alternative_variant(outcome.provider_error, variant)

    return pick


def _generation_detail(
    error_class: ErrorClass, finish_reason: str | None, error: ProviderError | None
) -> str:
    if error is not None:
        fix = classify.read_response(None, error).fix
        return "error inside a 200: " + classify.reason(error_class, None, error, fix=fix)
    if error_class is ErrorClass.CONTENT_FILTERED:
        return f"answered, but the reply was filtered (finish: {finish_reason or 'blocked'})"
    return f"answered (finish: {finish_reason or 'unknown'})"


# --- stream --------------------------------------------------------------------------------


class StreamCollector:
    """Feeds a family's stream decoder and remembers what the stream said."""

    def __init__(self, decoder: StreamDecoder) -> None:
        self.decoder = decoder
        self.tokens = 0
        self.meta = StreamMeta()
        self.end: StreamEnd | None = None
        self.error: StreamFailure | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def said_nothing(self) -> bool:
        """Only the terminator came (`data: [DONE]` alone): no text, no served model, no
        finish reason, no token count. A live model says at least one of these; an empty
        reply cut by the length limit still names its finish."""
        end = self.end
        return (
            self.tokens == 0
            and self.meta == StreamMeta()
            and (end is None or (end.finish_reason is None and end.output_tokens is None))
        )

    def feed(self, chunk: bytes) -> bool:
        return self._take(self.decoder.feed(chunk))

    def finish(self) -> None:
        self._take(self.decoder.close())

    def _take(self, events: list[StreamToken | StreamMeta | StreamEnd | StreamFailure]) -> bool:
        carried_text = False
        for event in events:
            if isinstance(event, StreamToken):
                self.tokens += 1
                carried_text = True
            elif isinstance(event, StreamMeta):
                self.meta = StreamMeta(
                    self.meta.served_model or event.served_model,
                    self.meta.system_fingerprint or event.system_fingerprint,
                )
            elif isinstance(event, StreamEnd):
                self.end = event
            elif self.error is None:
                self.error = event
        return carried_text


async def probe_stream(
    ctx: ProbeContext, provider: ProviderSpec, model: ModelSpec, known_as: tuple[str, ...] = ()
) -> ProbeResult:
    family = FAMILIES[provider.api]
    max_tokens = ctx.defaults.budget.output_tokens_per_probe
    names = _answers_as(family, model, known_as)

    async def send(variant: int) -> Outcome:
        request = family.stream_request(provider, model, max_tokens, variant)
        ctx.budget.take(max_tokens)
        collector = StreamCollector(family.stream_decoder(request))
        ex = await send_one(ctx, provider, request, collector, output_tokens=max_tokens)
        if isinstance(ex, Outcome):
            return _cut_short(ex, collector)
        if not 200 <= ex.status < 300:
            return error_outcome(family, ex)
        return _checked_served(_stream_outcome(ex, collector), model, names)

    attempts = await attempt_loop(ctx, send, _alternative(family))
    return ProbeResult(provider.name, model.id, ProbeKind.STREAM, attempts)


def _cut_short(outcome: Outcome, collector: StreamCollector) -> Outcome:
    if collector.tokens:
        return replace(outcome, detail=f"{outcome.detail} (after {collector.tokens} tokens)")
    return outcome


def _stream_outcome(ex: Exchange, collector: StreamCollector) -> Outcome:
    t = ex.timings
    tokens = (collector.end.output_tokens if collector.end else None) or collector.tokens
    error_class, detail = _stream_verdict(collector)
    if t.first_token is not None and t.end is not None and tokens > 1 and t.end > t.first_token:
        tokens_per_s: float | None = (tokens - 1) / (t.end - t.first_token)
    else:
        tokens_per_s = None
    gaps = t.token_gaps
    return timed(
        Outcome(
            error_class,
            detail,
            provider_error=collector.error.error if collector.error else None,
            ttft_ms=t.ms(t.first_token),
            served_model=collector.meta.served_model,
            system_fingerprint=collector.meta.system_fingerprint,
            output_tokens=tokens or None,
            tokens_per_s=tokens_per_s,
            max_gap_ms=max(gaps) * 1000.0 if gaps else None,
        ),
        ex,
    )


def _stream_verdict(collector: StreamCollector) -> tuple[ErrorClass, str]:
    found, error = classify.read_stream(
        collector.error, collector.end, said_nothing=collector.said_nothing
    )
    if error is not None:
        return found.error_class, "error event inside the 200 stream: " + classify.reason(
            found.error_class, None, error, fix=found.fix
        )
    if found.signal == "malformed":
        assert collector.error is not None
        return found.error_class, f"malformed stream: {collector.error.malformed}"
    if found.signal == "no-terminator":
        return (
            found.error_class,
            f"the stream ended without its terminator after {collector.tokens} tokens",
        )
    if found.signal == "empty-stream":
        return (
            found.error_class,
            "the stream carried nothing but its terminator: no chunk, no model, no finish",
        )
    if found.error_class is ErrorClass.CONTENT_FILTERED:
        return found.error_class, "streamed, but the reply was filtered"
    assert collector.end is not None
    finish = collector.end.finish_reason or "unknown"
    return found.error_class, f"streamed {collector.tokens} chunks with text (finish: {finish})"
