"""Each provider host gets a connection pool of its own, sized to the caps of the providers
it serves; a host's pool verifies certificates with its own CA bundle only, and a proxy
named by the environment is still used."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.fakes import Behaviour, FakeOpenAI
from tests.probe.runs import probe, provider, write_fast_registry

if TYPE_CHECKING:
    from pathlib import Path

DELAY_S = 0.2
MODELS = ["m0", "m1", "m2", "m3"]
COMPLETION = ["completion"]


def capped(name: str, base_url: str, cap: int, **extra: object) -> dict[str, object]:
    return provider(name, "openai", base_url, MODELS, limits={"concurrency": cap}, **extra)


def test_two_providers_on_one_host_are_probed_side_by_side_up_to_their_caps(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(models=MODELS) as fake:
        for model in MODELS:
            fake.behave(model, Behaviour.ok().delayed(DELAY_S))
        providers = [capped("first", fake.base_url, 1), capped("second", fake.base_url, 2)]
        write_fast_registry(isolated_env, providers, control_url=online, kinds=COMPLETION)
        run = probe(capsys)
        connections = fake.connections

    assert {v["verdict"] for v in run.document["verdicts"]} == {"up"}
    # 1 + 2 requests in flight at once, each held for the delay: one connection each. A
    # host pool sized to one provider's cap would have made the others queue for it.
    assert connections == 3


def test_a_host_pool_verifies_with_its_own_ca_bundle_and_only_that(
    isolated_env: Path, online: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import trustme

    with (
        FakeOpenAI(models=MODELS, tls=trustme.CA()) as trusted,
        FakeOpenAI(models=MODELS, tls=trustme.CA()) as untrusted,
    ):
        providers = [
            capped("trusted", trusted.base_url, 2, ca_bundle=str(trusted.ca_path)),
            capped("untrusted", untrusted.base_url, 2),
        ]
        write_fast_registry(isolated_env, providers, control_url=online, kinds=COMPLETION)
        run = probe(capsys)

    classes = {(r["provider"], r["error_class"]) for r in run.document["results"]}
    assert classes == {("trusted", "ok"), ("untrusted", "tls_failed")}


def test_requests_still_go_through_the_proxy_the_environment_names(
    isolated_env: Path,
    online: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with FakeOpenAI(models=MODELS) as proxy:
        # The fake answers the proxied (absolute-form) requests itself; sent direct, they
        # would have to resolve a name that cannot exist.
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        providers = [capped("behind-proxy", "http://upstream.invalid/v1", 2)]
        write_fast_registry(isolated_env, providers, control_url=online, kinds=COMPLETION)
        run = probe(capsys)
        proxied = len(proxy.generation_requests())

    assert {v["verdict"] for v in run.document["verdicts"]} == {"up"}
    assert proxied == len(MODELS)
