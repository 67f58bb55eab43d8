"""A one-run command's results leave the collector's sight as they accumulate."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime

from modelaudit.cli.settle import Settler
from modelaudit.probe.result import Attempt, ProbeResult
from modelaudit.vocabulary import ErrorClass, ProbeKind

AT = datetime(2026, 12, 1, tzinfo=UTC)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_results_are_frozen_every_few_and_fresh_garbage_is_freed_not_frozen() -> None:
    settler = Settler(every=3)
    results = [
        ProbeResult("p", f"m{n}", ProbeKind.COMPLETION, (Attempt(1, AT, ErrorClass.OK),))
        for n in range(3)
    ]
    garbage = _Cycle()
    freed = weakref.ref(garbage)
    del garbage
    frozen = gc.get_freeze_count()

    for result in results[:2]:
        settler.result(result)
    assert gc.get_freeze_count() == frozen  # not yet

    settler.result(results[2])

    assert gc.get_freeze_count() > frozen
    assert freed() is None  # collected before the freeze, never kept for good
