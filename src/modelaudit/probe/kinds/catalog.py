"""The `catalog` kind: is the model listed? One pass over the provider's model list
(every page), shared by its models; a model the list leaves out is looked up by id where
the API has a look-up. Spends no tokens. `discovery/` reads lists through `read_catalog`
and `look_up_by_id` too."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeAlias

from modelaudit.families import FAMILIES
from modelaudit.families.base import (
    CatalogEntry,
    HttpResponse,
)
from modelaudit.probe import classify
from modelaudit.probe.attempts import (
    BudgetExhausted,
    Outcome,
    ProbeContext,
    attempt_loop,
    error_outcome,
    not_the_format,
    send_one,
    timed,
)
from modelaudit.probe.result import Attempt, CatalogFinding, ProbeResult
from modelaudit.probe.transport import Exchange
from modelaudit.redact import redact
from modelaudit.untrusted import MAX_ID_CHARS
from modelaudit.vocabulary import ErrorClass, Phase, ProbeKind

if TYPE_CHECKING:
    from datetime import date

    from modelaudit.families.base import Family, HttpRequest
    from modelaudit.registry.schema import ModelSpec, ProviderSpec, Timeouts

MAX_CATALOG_PAGES = 100
MAX_CATALOG_IDS = 20_000
"""More ids than any real model list has (OpenRouter's lists about 500): a list that goes on
is not read to its end, and no run stores or compares a million ids."""


async def probe_catalog(
    ctx: ProbeContext, provider: ProviderSpec, models: tuple[ModelSpec, ...]
) -> list[ProbeResult]:
    """One pass over the provider's model list (every page), shared by its models."""
    family = FAMILIES[provider.api]
    listing = await read_catalog(ctx, provider)
    attempts = listing.attempts
    entries = {entry.id: entry for entry in listing.entries}
    listed_ids = tuple(entries)
    # The models the list names alike (most often all of them: no lifecycle fields) share
    # one finding and one attempt log (frozen values), made once, not once per model.
    listed: dict[_Lifecycle, tuple[CatalogFinding, tuple[Attempt, ...]]] = {}
    results = []
    for model in models:
        if attempts[-1].error_class is not ErrorClass.OK:
            results.append(ProbeResult(provider.name, model.id, ProbeKind.CATALOG, attempts))
            continue
        entry = entries.get(family.catalog_id(provider, model))
        if entry is None:
            results.append(await _retrieve_by_id(ctx, provider, model, attempts, listed_ids))
            continue
        said = (entry.retires, entry.lifecycle, entry.note)
        if said not in listed:
            listed[said] = _listed(attempts, entry, listed_ids)
        made = listed[said]
        results.append(_catalog_result(provider, model, attempts, entry, listed_ids, made=made))
    return results


_Lifecycle: TypeAlias = "tuple[date | None, str | None, str | None]"
"""What a list says of a model beyond its id: retirement day, lifecycle word, note."""


@dataclass(frozen=True)
class CatalogListing:
    """A provider's whole model list (every page), or the attempts that failed to read it."""

    attempts: tuple[Attempt, ...]
    entries: tuple[CatalogEntry, ...]

    @property
    def ok(self) -> bool:
        return self.attempts[-1].error_class is ErrorClass.OK


async def read_catalog(ctx: ProbeContext, provider: ProviderSpec) -> CatalogListing:
    """Read the model list page by page, retrying like any probe (no tokens are spent)."""
    family = FAMILIES[provider.api]
    first = family.catalog_request(provider)
    assert first is not None, "only providers whose API has a model list are read"
    pager = _Pager(ctx, provider, family, first)
    attempts = await attempt_loop(ctx, pager.send)
    return CatalogListing(attempts, tuple(pager.entries))


def _catalog_result(
    provider: ProviderSpec,
    model: ModelSpec,
    attempts: tuple[Attempt, ...],
    entry: CatalogEntry | None,
    listed_ids: tuple[str, ...],
    why: str = "",
    made: tuple[CatalogFinding, tuple[Attempt, ...]] | None = None,
) -> ProbeResult:
    """`made`: the finding and attempt log `_listed` made for an entry said alike."""
    if entry is None:
        final = replace(
            attempts[-1],
            error_class=classify.NOT_LISTED,
            detail=f"not in the catalog ({len(listed_ids)} models listed)"
            + (f"; {why}" if why else ""),
        )
        finding, logged = CatalogFinding(listed=False), (*attempts[:-1], final)
    else:
        finding, logged = made or _listed(attempts, entry, listed_ids)
    return ProbeResult(
        provider.name,
        model.id,
        ProbeKind.CATALOG,
        logged,
        catalog=finding,
        catalog_ids=listed_ids,
    )


def _listed(
    attempts: tuple[Attempt, ...], entry: CatalogEntry, listed_ids: tuple[str, ...]
) -> tuple[CatalogFinding, tuple[Attempt, ...]]:
    """The finding and attempt log of a model the list names as `entry`."""
    finding = CatalogFinding(
        listed=True, retires=entry.retires, lifecycle=entry.lifecycle, note=entry.note
    )
    detail = f"listed ({len(listed_ids)} models)" + _lifecycle_words(finding)
    return finding, (*attempts[:-1], replace(attempts[-1], detail=redact(detail)))


@dataclass(frozen=True)
class ByIdAnswer:
    """What a look-up by id said about one model."""

    attempts: tuple[Attempt, ...]
    outcome: classify.LookUp
    """`found`: the API knows it (`entry`); `gone`: a definitive not-found; `no_lookup`:
    this server does not route the look-up (404 for the route, 405, 501, a refused
    request), so the list's answer stands; `unknown`: anything else (a timeout, a 5xx)."""
    entry: CatalogEntry | None = None


async def look_up_by_id(
    ctx: ProbeContext, provider: ProviderSpec, model: ModelSpec
) -> ByIdAnswer | None:
    """Ask the API about one model by id (no tokens; one request, retried like any probe).
    None when the API has no look-up. Raises BudgetExhausted before sending, when spent."""
    family = FAMILIES[provider.api]
    request = family.retrieve_request(provider, model)
    if request is None:
        return None
    found: list[CatalogEntry] = []

    async def send(variant: int) -> Outcome:
        ctx.budget.take()
        ex = await send_one(ctx, provider, request)
        if isinstance(ex, Outcome):
            return ex
        if not 200 <= ex.status < 300:
            return error_outcome(family, ex)
        try:
            found.append(
                family.parse_retrieve(provider, model, HttpResponse(ex.status, ex.headers, ex.body))
            )
        except ValueError as problem:
            return not_the_format("model", ex, problem)
        return timed(Outcome(ErrorClass.OK, "retrieved by id"), ex)

    attempts = await attempt_loop(ctx, send)
    final = attempts[-1]
    outcome = classify.read_lookup(final.error_class, final.http_status)
    return ByIdAnswer(attempts, outcome, found[-1] if outcome == "found" else None)


async def _retrieve_by_id(
    ctx: ProbeContext,
    provider: ProviderSpec,
    model: ModelSpec,
    attempts: tuple[Attempt, ...],
    listed_ids: tuple[str, ...],
) -> ProbeResult:
    """A model the complete list leaves out, asked for by id where the API allows it: an
    alias the API resolves is listed; a 404 from the look-up confirms the absence; a server
    without the look-up (404 route, 405, 501) leaves the list's answer standing; any other
    failure leaves the model's listing unknown, like a list that could not be read."""
    try:
        answer = await look_up_by_id(ctx, provider, model)
    except BudgetExhausted:
        return _catalog_result(
            provider, model, attempts, None, listed_ids, "not retrieved by id: budget spent"
        )
    if answer is None:
        return _catalog_result(provider, model, attempts, None, listed_ids)
    looked_up = answer.attempts
    final = looked_up[-1]
    unlisted = f"not in the catalog ({len(listed_ids)} models listed)"
    finding: CatalogFinding | None = CatalogFinding(listed=False)
    if answer.entry is not None:
        entry = answer.entry
        asked = FAMILIES[provider.api].catalog_id(provider, model)
        finding = CatalogFinding(
            listed=True,
            retires=entry.retires,
            lifecycle=entry.lifecycle,
            note=entry.note,
            retrieved_by_id=True,
            resolved_id=entry.id,
        )
        resolved = f" → `{entry.id}`" if entry.id != asked else ""
        detail = f"listed (retrievable by id: `{asked}`{resolved})" + _lifecycle_words(finding)
        final = replace(final, detail=redact(detail))
    elif answer.outcome == "gone":
        final = replace(final, detail=redact(f"{unlisted}; retrieved by id: {final.detail}"))
    elif answer.outcome == "no_lookup":
        final = replace(
            final,
            error_class=classify.NOT_LISTED,
            detail=redact(f"{unlisted}; no look-up by id here ({final.detail})"),
            about_target=None,
        )
    else:
        finding = None
        final = replace(final, detail=redact(f"{unlisted}; retrieving it by id: {final.detail}"))
    numbered = tuple(
        replace(a, number=len(attempts) + i) for i, a in enumerate((*looked_up[:-1], final), 1)
    )
    return ProbeResult(
        provider.name,
        model.id,
        ProbeKind.CATALOG,
        (*attempts, *numbered),
        catalog=finding,
        catalog_ids=listed_ids,
    )


def _lifecycle_words(finding: CatalogFinding) -> str:
    words = []
    if finding.lifecycle:
        words.append(finding.lifecycle)
    if finding.retires:
        words.append(f"retires {finding.retires.isoformat()}")
    if finding.note:
        words.append(finding.note)
    return f"; {', '.join(words)}" if words else ""


class _Pager:
    """Fetches the list page by page; a retry resumes at the page that failed.

    Each attempt reads the whole list (every page) within `total_s`, as one request would;
    ids longer than a model id may be are left out, and a list longer than
    MAX_CATALOG_IDS is not a list this run can use."""

    def __init__(
        self, ctx: ProbeContext, provider: ProviderSpec, family: Family, first: HttpRequest
    ) -> None:
        self.ctx, self.provider, self.family = ctx, provider, family
        self.pending: HttpRequest | None = first
        self.entries: list[CatalogEntry] = []
        self.pages = 0

    async def send(self, variant: int) -> Outcome:
        total_ms = 0.0
        last: Exchange | None = None
        timeouts = self.ctx.defaults.timeouts
        deadline = asyncio.get_running_loop().time() + timeouts.total_s
        while self.pending is not None:
            if self.pages >= MAX_CATALOG_PAGES:
                return Outcome(
                    ErrorClass.PROTOCOL_ERROR,
                    f"the model list goes on past {MAX_CATALOG_PAGES} pages",
                )
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return Outcome(ErrorClass.TIMEOUT, self._late(timeouts), phase=Phase.TOTAL)
            outcome, last = await self._page(
                self.pending, timeouts.model_copy(update={"total_s": left})
            )
            if outcome is not None and outcome.phase is Phase.TOTAL:
                return replace(outcome, detail=self._late(timeouts))
            if outcome is not None:
                return outcome
            assert last is not None
            total_ms += last.timings.ms(last.timings.end) or 0.0
        assert last is not None
        return replace(
            timed(Outcome(ErrorClass.OK, f"{len(self.entries)} models listed"), last),
            latency_ms=total_ms,
        )

    def _late(self, timeouts: Timeouts) -> str:
        return (
            f"the model list was not read whole within total_s {timeouts.total_s:g} s "
            f"({self.pages} pages read)"
        )

    async def _page(
        self, request: HttpRequest, timeouts: Timeouts
    ) -> tuple[Outcome | None, Exchange | None]:
        self.ctx.budget.take()
        ex = await send_one(self.ctx, self.provider, request, timeouts=timeouts)
        if isinstance(ex, Outcome):
            return ex, None
        if not 200 <= ex.status < 300:
            return error_outcome(self.family, ex), ex
        try:
            page = self.family.parse_catalog(
                self.provider, HttpResponse(ex.status, ex.headers, ex.body)
            )
        except ValueError as problem:
            return not_the_format("model list", ex, problem), ex
        kept = [e for e in page.entries if len(e.id) <= MAX_ID_CHARS]
        if len(self.entries) + len(kept) > MAX_CATALOG_IDS:
            return timed(
                Outcome(
                    ErrorClass.PROTOCOL_ERROR,
                    f"the model list goes on past {MAX_CATALOG_IDS:,} ids: not a list "
                    "this run can use",
                ),
                ex,
            ), ex
        self.entries.extend(kept)
        self.pages += 1
        self.pending = page.next_request
        return None, ex
