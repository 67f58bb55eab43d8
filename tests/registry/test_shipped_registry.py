"""The shipped `providers.yaml` at the repository root: what a user relies on when they
run modelaudit with the registry we ship, or copy it as a starting point."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from modelaudit.redact import looks_like_key
from modelaudit.registry import LoadedRegistry, load
from modelaudit.registry.schema import Registry
from modelaudit.vocabulary import Hosting, ServerEngine

SHIPPED = Path(__file__).resolve().parents[2] / "providers.yaml"

# The default ports of the local servers the shipped registry points at.
LOCAL_PORTS = {ServerEngine.VLLM: 8000, ServerEngine.LLAMACPP: 8080, ServerEngine.OLLAMA: 11434}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

_RETIRES_LINE = re.compile(r"^\s*(?:-\s+)?retires:\s*\S")
_URL = re.compile(r"https?://\S+")


@pytest.fixture(scope="module")
def loaded() -> LoadedRegistry:
    # The autouse fixture chdirs into a temp dir, so the file is found from __file__.
    return load(SHIPPED)


@pytest.fixture(scope="module")
def registry(loaded: LoadedRegistry) -> Registry:
    return loaded.registry


def test_the_shipped_registry_loads(registry: Registry) -> None:
    assert registry.version == 1
    assert len(registry.providers) >= 10
    assert sum(len(p.models) for p in registry.providers) >= 30


def test_every_vendor_and_host_has_a_jurisdiction_and_an_env_key(registry: Registry) -> None:
    for provider in registry.providers:
        if provider.hosting is Hosting.SELF_HOSTED:
            continue
        assert provider.jurisdiction, provider.name
        if provider.credentials is not None:  # a cloud's own chain (vertex: Google's ADC)
            assert provider.credentials.chain == "default", provider.name
            continue
        assert provider.api_key is not None, provider.name
        assert provider.api_key.source == "env", provider.name
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*_API_KEY", provider.api_key.name), provider.name


def test_self_hosted_providers_need_no_key(registry: Registry) -> None:
    for provider in registry.providers:
        if provider.hosting is Hosting.SELF_HOSTED:
            assert provider.api_key is None, provider.name
            assert provider.server is not None, provider.name


def test_every_family_is_served_by_at_least_two_providers(registry: Registry) -> None:
    served_by: dict[str, set[str]] = defaultdict(set)
    for provider in registry.providers:
        for model in provider.models:
            if model.family:
                served_by[model.family].add(provider.name)
    assert served_by, "the shipped registry should link open weights across hosts"
    lonely = {family: hosts for family, hosts in served_by.items() if len(hosts) < 2}
    assert not lonely, f"families served by a single provider: {lonely}"


def test_every_pinned_model_has_a_fallback_that_resolves(registry: Registry) -> None:
    pinned = [(p, m) for p in registry.providers for m in p.models if m.pinned]
    assert pinned
    for provider, model in pinned:
        assert model.fallbacks, f"{provider.name}/{model.id} is pinned but has no fallback"
        for ref in model.fallbacks:
            assert registry.resolve(ref) is not None, f"{provider.name}/{model.id}: {ref}"


def test_every_retirement_date_cites_its_source() -> None:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    found = 0
    for index, line in enumerate(lines):
        if line.lstrip().startswith("#") or not _RETIRES_LINE.match(line):
            continue
        found += 1
        same = line.partition("#")[2]
        previous = lines[index - 1].strip() if index else ""
        cited = _URL.search(same) or (previous.startswith("#") and _URL.search(previous))
        assert cited, f"providers.yaml:{index + 1}: `retires` without a source URL comment"
    assert found, "the shipped registry should carry announced retirements"


def test_listed_retirements_are_still_ahead(registry: Registry) -> None:
    # A model past its retirement date is gone: it does not belong in the shipped file.
    # (Compared with the day the file was last reviewed, so the suite stays deterministic.)
    reviewed = date(2026, 11, 29)
    for provider in registry.providers:
        for model in provider.models:
            if model.retires is not None:
                assert model.retires > reviewed, f"{provider.name}/{model.id}"


def test_local_endpoints_point_at_this_machine_on_their_default_ports(
    registry: Registry,
) -> None:
    seen = set()
    for provider in registry.providers:
        if provider.hosting is not Hosting.SELF_HOSTED:
            continue
        assert provider.server in LOCAL_PORTS, provider.name
        parts = urlsplit(provider.base_url)
        assert parts.hostname in LOOPBACK, provider.base_url
        assert parts.port == LOCAL_PORTS[provider.server], provider.base_url
        seen.add(provider.server)
    assert seen == set(LOCAL_PORTS)


def test_no_literal_key_is_present() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert not looks_like_key(text)
    for line in text.splitlines():
        key, sep, value = line.strip().lstrip("- ").partition(":")
        if sep and key == "api_key":
            assert value.strip().startswith(("env:", "file:")), line
