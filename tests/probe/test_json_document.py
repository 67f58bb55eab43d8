"""`probe --format json` makes the results' lines while the run waits on the network: the
document is the one made at the end, and a key registered meanwhile never leaks."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from modelaudit.output.base import rendered
from modelaudit.probe.formats import ProbeFormat
from modelaudit.probe.formats import formatter as probe_formatter
from modelaudit.probe.formats.json_doc import JsonFormatter
from modelaudit.probe.result import Attempt, ModelVerdict, ProbeResult, RunReport
from modelaudit.redact import MASK, register_secret
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict

if TYPE_CHECKING:
    from modelaudit.probe.plan import Plan

AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def _report(detail: str) -> RunReport:
    results = tuple(
        ProbeResult(
            "acme",
            f"m{n}",
            ProbeKind.COMPLETION,
            (
                Attempt(
                    1,
                    AT,
                    ErrorClass.OK,
                    http_status=200,
                    latency_ms=float("inf") if n == 3 else 10.5 + n,  # JSON has no inf: null
                    served_model=f"m{n}",
                    ratelimit=(("x-ratelimit-remaining-requests", str(n)),),
                    detail=f"{detail} #{n}",
                ),
            ),
        )
        for n in range(40)
    )
    verdicts = tuple(ModelVerdict("acme", r.model, Verdict.UP, f"{detail} !") for r in results)
    return RunReport(AT, AT, RunStatus.COMPLETE, results, verdicts)


def _written_while_running(
    report: RunReport, *, between: object = None, final: RunReport | None = None
) -> tuple[str, int]:
    """The document, its results and verdicts handed over in a run's event loop that then
    waits (as a run waits on the network); with how many lines were made during the wait."""
    buffer = io.StringIO()
    out = probe_formatter(ProbeFormat.JSON, buffer)
    assert isinstance(out, JsonFormatter)

    async def run() -> int:
        out.started(cast("Plan", None), AT)
        for result in report.results:
            out.result(result)
        for verdict in report.verdicts:
            out.model_done(verdict)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        ahead = out._ahead  # what the wait made is the point
        assert ahead is not None
        while ahead.waiting and loop.time() < deadline:
            await asyncio.sleep(0.01)
        if callable(between):
            between()
        return len(ahead.made)

    made = asyncio.run(run())
    out.write(final or report)
    return buffer.getvalue(), made


def test_the_lines_made_while_the_run_waits_are_the_document_made_at_the_end() -> None:
    """A verdict decided again at the end is another value: its line is made then."""
    report = _report("answered")
    decided_again = ModelVerdict("acme", "m0", Verdict.INCONCLUSIVE, "the network went down")
    final = replace(report, verdicts=(decided_again, *report.verdicts[1:]))

    written, made = _written_while_running(report, final=final)

    assert made == len(report.results) + len(report.verdicts)
    assert written == rendered(JsonFormatter, final)
    assert "the network went down" in written  # all made at the end
    assert '"latency_ms": null' in written


def test_a_key_registered_after_lines_were_made_is_masked_in_the_document() -> None:
    key = "LateRegisteredKey0042zq"  # no vendor shape: masked only once registered
    report = _report(f"echo {key}")

    written, made = _written_while_running(report, between=lambda: register_secret(key))

    assert made == len(report.results) + len(report.verdicts)  # with the key unknown
    assert key not in written
    assert f"echo {MASK} #0" in written
    assert f"echo {MASK} !" in written
