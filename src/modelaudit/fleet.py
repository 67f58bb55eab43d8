"""Who is probing: the agent's region and id, stamped on every run it stores.

A fleet is several agents (one per region or office, each with its own network path and
keys) writing to one shared store. The region is `--region`, then `$MODELAUDIT_REGION`, then
`defaults.region` in providers.yaml, then the host name; the agent id is `$MODELAUDIT_AGENT`,
then the host name.
"""

from __future__ import annotations

import os
import re
import socket
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

from modelaudit.errors import UsageError
from modelaudit.store.base import Origin

if TYPE_CHECKING:
    from pathlib import Path

    from modelaudit.registry.schema import StoreSetting

REGION_ENV = "MODELAUDIT_REGION"
AGENT_ENV = "MODELAUDIT_AGENT"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,63}")
"""A region or agent id: one word of at most 64 characters (a host name fits)."""


def check_name(value: str, source: str) -> str:
    if not _NAME.fullmatch(value):
        raise UsageError(
            f"{source}: `{value}` is not a region or agent name (one word of letters, digits "
            "and . _ : @ / -, at most 64 characters, e.g. eu-west or office-paris)"
        )
    return value


def resolve(region: str | None = None, configured: str | None = None) -> Origin:
    """The origin of this process's runs (`configured`: `defaults.region`)."""
    host = socket.gethostname() or "localhost"
    if region is not None:
        chosen = check_name(region, "--region")
    elif os.environ.get(REGION_ENV):
        chosen = check_name(os.environ[REGION_ENV], f"${REGION_ENV}")
    elif configured:
        chosen = check_name(configured, "defaults.region")
    else:
        chosen = host
    agent = os.environ.get(AGENT_ENV) or host
    return Origin(chosen, check_name(agent, f"${AGENT_ENV}") if agent != host else host)


def regions_filter(values: list[str] | None) -> frozenset[str]:
    """`--region` on the reading commands (repeatable): which regions to keep."""
    return frozenset(check_name(v, "--region") for v in values or ())


def store_address(setting: StoreSetting | None, base_dir: Path) -> str | None:
    """`defaults.store` as an address for `store.backends.locate`: its `env:`/`file:` URL
    read, and its password (registered with the redaction function) put into the URL."""
    if setting is None:
        return None
    from modelaudit.credentials import read_key
    from modelaudit.registry.schema import KeyRef

    url = setting.url
    source, sep, name = url.partition(":")
    if sep and source in ("env", "file") and not name.startswith("//"):
        try:
            url = read_key(KeyRef(source=source, name=name), base_dir)
        except LookupError as exc:
            raise UsageError(f"defaults.store: {exc}") from None
    if setting.password is None:
        return url
    try:
        password = read_key(setting.password, base_dir)
    except LookupError as exc:
        raise UsageError(f"defaults.store.password: {exc}") from None
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        raise UsageError(
            "defaults.store.password needs a URL with a user name, e.g. "
            "postgresql://audit@db.internal/modelaudit"
        )
    user, _, host = parts.netloc.rpartition("@")
    netloc = f"{user.partition(':')[0]}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
