"""The control check: can this machine reach the outside at all?

Run only when some probe failed before any HTTP answer. If no control target answers
either, the failures say nothing about the providers: the run is inconclusive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from modelaudit.probe.result import ControlCheck
from modelaudit.redact import redact

if TYPE_CHECKING:
    from modelaudit.registry.schema import Control


async def check(client: httpx.AsyncClient, control: Control) -> ControlCheck:
    """Any HTTP answer, whatever its status, proves the network works."""
    problems = []
    for url in control.urls:
        try:
            response = await client.get(url, timeout=control.timeout_s)
        except httpx.HTTPError as exc:
            problems.append(f"{url}: {type(exc).__name__}: {exc}".splitlines()[0])
            continue
        return ControlCheck(True, url, f"{url} answered {response.status_code}")
    target = control.urls[0] if control.urls else "(no control target)"
    return ControlCheck(False, target, redact("; ".join(problems) or "no control target set"))
