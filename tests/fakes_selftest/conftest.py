from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One plain client for the whole session (building an SSL context per call is slow).
    `trust_env=False`: a developer's proxy variables must not route loopback traffic."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client
