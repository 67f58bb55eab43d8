"""The control check: can this machine reach the outside at all?

Run only when some probe failed before any HTTP answer. If no control target answers
either, the failures say nothing about the providers: the run is inconclusive. The
targets are tried at once, so a machine whose resolver never answers costs one timeout,
not one per target.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

from modelaudit.probe.result import ControlCheck
from modelaudit.redact import redact

if TYPE_CHECKING:
    from modelaudit.registry.schema import Control


async def check(client: httpx.AsyncClient, control: Control) -> ControlCheck:
    """Any HTTP answer, whatever its status, proves the network works."""
    if not control.urls:
        return ControlCheck(False, "(no control target)", "no control target set")
    attempts = [asyncio.create_task(_reach(client, url, control.timeout_s)) for url in control.urls]
    problems: list[str] = []
    try:
        for finished in asyncio.as_completed(attempts):
            url, answer = await finished
            if isinstance(answer, int):
                return ControlCheck(True, url, f"{url} answered {answer}")
            problems.append(f"{url}: {answer}")
    finally:
        for attempt in attempts:
            attempt.cancel()
    return ControlCheck(False, control.urls[0], redact("; ".join(sorted(problems))))


async def _reach(client: httpx.AsyncClient, url: str, timeout_s: float) -> tuple[str, int | str]:
    """The status a target answered, or what went wrong, in one line."""
    try:
        response = await client.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        cause = exc.__cause__ or exc.__context__
        words = str(exc) or (str(cause) if cause else "") or "no answer"
        return url, f"{type(exc).__name__}: {words}".splitlines()[0]
    return url, response.status_code
