"""The non-secret headers of every request a family builds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelaudit.registry.schema import ProviderSpec

JSON = "application/json"
EVENT_STREAM = "text/event-stream"
NDJSON = "application/x-ndjson"


def request_headers(
    provider: ProviderSpec,
    *,
    accept: str = JSON,
    json_body: bool = False,
    fixed: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Content negotiation, the family's `fixed` headers (such as `anthropic-version`), then
    the provider's configured headers, which win: they are how a user pins a beta or a
    different version. Credentials are never here; the runner adds `auth_headers`."""
    headers = {"accept": accept}
    if json_body:
        headers["content-type"] = JSON
    headers.update(fixed or {})
    headers.update(provider.headers)
    return headers
