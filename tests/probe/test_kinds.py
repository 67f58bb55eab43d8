"""The registry of probe kinds: every kind is one registration that says how it runs."""

from __future__ import annotations

import inspect
import subprocess
import sys

from modelaudit.probe.kinds import KINDS
from modelaudit.vocabulary import ProbeKind


def test_every_kind_is_registered_and_resolves_to_its_probe() -> None:
    assert set(KINDS) == set(ProbeKind)
    for kind in KINDS.values():
        probe = kind.for_model() if kind.per_model else kind.for_provider()
        assert inspect.iscoroutinefunction(probe), kind


def test_the_shared_kinds_run_before_each_models_and_generations_are_per_model() -> None:
    order = list(KINDS)
    assert order.index(ProbeKind.HEALTH) < order.index(ProbeKind.CATALOG)
    assert {k.kind for k in KINDS.values() if k.per_model} == {k for k in ProbeKind if k.generates}


def test_planning_a_run_loads_no_http_client() -> None:
    code = "import sys, modelaudit.probe.plan; print('httpx' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"
