"""Each provider host gets a connection pool of its own, sized to the caps of the providers
it serves: latency measures the server rather than a wait for a pooled connection, and a
host's own pool still verifies certificates (with its CA bundle when it has one), and a
proxy named by the environment is still used."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from modelaudit import registry
from modelaudit.probe import runner
from modelaudit.probe.plan import Selection, make_plan
from modelaudit.vocabulary import ErrorClass, ProbeKind, Verdict
from tests.fakes import Behaviour, FakeOpenAI

if TYPE_CHECKING:
    from pathlib import Path

    from modelaudit.probe.result import RunReport

DELAY_S = 0.2
MODELS = [f"m{i}" for i in range(4)]


def _provider(name: str, base_url: str, cap: int, extra: str = "") -> str:
    models = "".join(f"\n      - {{id: {m}, weights: closed}}" for m in MODELS)
    return (
        f"  - name: {name}\n    api: openai\n    base_url: {base_url}\n    hosting: vendor\n"
        f"    jurisdiction: US\n    limits: {{concurrency: {cap}}}\n{extra}    models:{models}\n"
    )


def _run(tmp_path: Path, providers: str) -> RunReport:
    path = tmp_path / "providers.yaml"
    defaults = "  retry: {attempts: 1}\n  control: {urls: ['http://127.0.0.1:9/']}\n"
    path.write_text(f"version: 1\ndefaults:\n{defaults}providers:\n{providers}")
    plan = make_plan(registry.load(path), Selection(), (ProbeKind.COMPLETION,))
    return runner.run_sync(plan)


def test_two_providers_on_one_host_never_wait_for_a_pooled_connection(tmp_path: Path) -> None:
    with FakeOpenAI(models=MODELS) as fake:
        for model in MODELS:
            fake.behave(model, Behaviour.ok().delayed(DELAY_S))
        report = _run(
            tmp_path,
            _provider("first", fake.base_url, 1) + _provider("second", fake.base_url, 2),
        )
        connections = fake.connections
    assert {v.verdict for v in report.verdicts} == {Verdict.UP}
    latencies = [r.final.latency_ms for r in report.results]
    # A pool smaller than the 3 requests the caps let through at once would hold some of
    # them back for a whole delay, and that wait would be reported as the server's latency.
    assert all(ms is not None and ms < DELAY_S * 1000 * 1.75 for ms in latencies), latencies
    assert connections <= 3


def test_a_host_pool_verifies_with_its_own_ca_bundle_and_only_that(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    with (
        FakeOpenAI(models=MODELS, tls=trustme.CA()) as trusted,
        FakeOpenAI(models=MODELS, tls=trustme.CA()) as untrusted,
    ):
        report = _run(
            tmp_path,
            _provider("trusted", trusted.base_url, 2, f"    ca_bundle: {trusted.ca_path}\n")
            + _provider("untrusted", untrusted.base_url, 2),
        )
    classes = {(r.provider, r.final.error_class) for r in report.results}
    assert classes == {("trusted", ErrorClass.OK), ("untrusted", ErrorClass.TLS_FAILED)}


def test_requests_still_go_through_the_proxy_the_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAI(models=MODELS) as proxy:
        # The fake answers the proxied (absolute-form) requests itself; sent direct, they
        # would have to resolve a name that cannot exist.
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        report = _run(tmp_path, _provider("behind-proxy", "http://upstream.invalid/v1", 2))
        proxied = len(proxy.generation_requests())
    assert {v.verdict for v in report.verdicts} == {Verdict.UP}
    assert proxied == len(MODELS)
