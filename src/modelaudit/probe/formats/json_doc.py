"""`--format json`: the whole run (or a dry run's plan) as one versioned JSON document."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Any, TypeAlias

from modelaudit import redact
from modelaudit.outgoing import Encoded, json_chunks, json_text, safe_item_encoder, safe_texts
from modelaudit.probe.document import plan_json, report_json, result_json, verdict_json
from modelaudit.probe.formats.base import ProbeFormatter

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from modelaudit.probe.plan import Plan
    from modelaudit.probe.result import ModelVerdict, ProbeResult, RunReport

TICK_S = 0.004
"""How often the results waiting are looked at while the run goes on."""
LATE_S = 0.001
"""A look that comes later than this finds the event loop busy (replies waiting): it
makes nothing."""
SLICE_S = 0.0005
"""The most a look spends making lines: what a reply arriving meanwhile may wait."""
_Maker: TypeAlias = "Callable[[Any, Callable[[str], str]], object]"
"""`result_json` or `verdict_json`: a value's dictionary, its strings made safe by the
function given."""


class JsonFormatter(ProbeFormatter):
    _ahead: _Ahead | None = None

    def started(self, plan: Plan, started_at: datetime) -> None:
        self._ahead = _Ahead()

    def result(self, result: ProbeResult) -> None:
        if self._ahead is not None:
            self._ahead.add(result, result_json)

    def model_done(self, provisional: ModelVerdict) -> None:
        # Most often the final verdict (the same value), when the run ends as it went.
        if self._ahead is not None:
            self._ahead.add(provisional, verdict_json)

    def write(self, value: RunReport) -> None:
        """Written as it is built, every value made safe item by item on the way: the
        results and verdicts one per line (a 10,000-model run's document is never held
        whole, as values or as text)."""
        self.write_safe(value)
        self.out.flush()

    def write_safe(self, value: RunReport) -> None:
        # The results and verdicts become dictionaries whose strings from outside (names,
        # details, headers) are made safe as they are put in (`safe_texts`), and whose other
        # strings are this module's own words: much cheaper than walking every value. The
        # lines of the results and verdicts that came while the run was waiting on the
        # network were made then.
        text = safe_texts()
        ahead = self._ahead.take() if self._ahead is not None else {}
        made = {
            "results": (_made(ahead, r) or result_json(r, text) for r in value.results),
            "verdicts": (_made(ahead, v) or verdict_json(v, text) for v in value.verdicts),
        }
        head = {**report_json(value, listed=False), **made}
        for chunk in json_chunks(head, listed=tuple(made), walked=tuple(made)):
            self.out.write(chunk)

    def write_plan_safe(self, plan: Plan) -> None:
        self.text(json_text(plan_json(plan), indent=2))


def _made(ahead: dict[int, tuple[object, Encoded]], item: object) -> Encoded | None:
    found = ahead.get(id(item))
    return found[1] if found is not None and found[0] is item else None


class _Ahead:
    """The lines of the document's results and verdicts, made as they come in, while the
    run's event loop has nothing else to do: the document's largest part is then written at
    the end without being made there (a 10,000-model run's took 0.35 s after its last
    reply). A line is used only for the very value it was made of (a verdict decided again
    at the end is made then). A look every `TICK_S` that comes on time (no reply was
    waiting) spends up to `SLICE_S` making lines; during a burst of replies nothing is
    made. What is still waiting at the end is made then, as is everything when a key was
    registered meanwhile (the lines made before were redacted without it)."""

    def __init__(self) -> None:
        self.text = safe_texts()
        self.encode = safe_item_encoder()
        self.generation = redact.generation()
        self.waiting: deque[tuple[Any, _Maker]] = deque()
        self.made: dict[int, tuple[object, Encoded]] = {}
        self.timer: asyncio.TimerHandle | None = None

    def add(self, item: Any, make: _Maker) -> None:
        self.waiting.append((item, make))
        if self.timer is None:
            self._look_later()

    def take(self) -> dict[int, tuple[object, Encoded]]:
        """The lines made, by their value's id; none made from now on."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.waiting.clear()
        made, self.made = self.made, {}
        return made if redact.generation() == self.generation else {}

    def _look_later(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # outside a run's event loop: everything is made at the end
            return
        due = loop.time() + TICK_S
        self.timer = loop.call_at(due, self._look, loop, due)

    def _look(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        self.timer = None
        if loop.time() - due <= LATE_S:
            until = time.perf_counter() + SLICE_S
            while self.waiting and time.perf_counter() < until:
                item, make = self.waiting.popleft()
                self.made[id(item)] = (item, self.encode(make(item, self.text)))
        if self.waiting:
            self._look_later()


FORMAT = JsonFormatter
