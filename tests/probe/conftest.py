"""Control-check targets on loopback: the probe's offline detection never leaves 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.http import FakeServer, Reply, closed_port


@pytest.fixture
def online() -> Iterator[str]:
    """A control URL that answers: this machine's network works."""
    with FakeServer() as server:
        server.route("GET", "/", Reply(status=204))
        yield server.url + "/"


@pytest.fixture
def offline() -> Iterator[str]:
    """A control URL nothing listens on: this machine looks offline."""
    with closed_port() as port:
        yield port.url + "/"
