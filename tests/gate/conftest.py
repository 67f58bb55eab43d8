"""Fixtures of the gate's end-to-end tests: the loopback fake that serves the pinned
model, and the closed port the control check asks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.base import Model
from tests.fakes.http import closed_port
from tests.fakes.openai import FakeOpenAI
from tests.gate.loopback import KEY, PINNED, SERVED_AS


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    models = [Model("acme-small"), Model(PINNED, served_as=SERVED_AS)]
    with FakeOpenAI(key=KEY, models=models) as server:
        yield server


@pytest.fixture
def control_port() -> Iterator[int]:
    with closed_port() as port:
        yield port.port
