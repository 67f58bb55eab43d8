"""`init --from-litellm`: a LiteLLM proxy config (`model_list`, `router_settings`) as a
draft registry.

Each deployment's `litellm_params.model` prefix names the provider (`groq/...`,
`hosted_vllm/...`; a bare name only where the vendor table says LiteLLM sends it to a
vendor), `api_base` its endpoint, `api_key: os.environ/VAR` its key (`env:VAR`); the
`model_name` becomes a tag, and the router's `fallbacks` between model names become our
`fallbacks` between the models behind them. Nothing is guessed: a deployment that cannot
be mapped (Bedrock and Vertex until those families exist, wildcards, a value from an
unset variable) is reported with its line and the reason, and a provider at an unknown
public host is written commented out until its jurisdiction is filled in. Nothing is sent.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from modelaudit.discovery.ids import IdKind, shape
from modelaudit.discovery.weights import weights_name
from modelaudit.errors import UsageError
from modelaudit.registry import yamlsafe
from modelaudit.registry.schema import ProviderSpec
from modelaudit.registry.vendors import LocalServer, Vendor, table
from modelaudit.scaffold.draft import Draft, DraftModel, DraftProvider
from modelaudit.vocabulary import Hosting, ServerEngine, Weights

MAX_BYTES = 2 * 1024 * 1024
_ENV_REF = "os.environ/"
# LiteLLM providers modelaudit cannot probe yet, and why.
_NO_FAMILY = {
    "bedrock": "AWS Bedrock has no api family in modelaudit yet",
    "bedrock_converse": "AWS Bedrock has no api family in modelaudit yet",
    "sagemaker": "AWS SageMaker has no api family in modelaudit",
    "vertex_ai": "Google Vertex AI has no api family in modelaudit yet",
    "vertex_ai_beta": "Google Vertex AI has no api family in modelaudit yet",
    "azure_ai": "Azure AI Foundry's model inference API has no api family in modelaudit",
    "cohere": "Cohere's native API has no api family in modelaudit",
    "cohere_chat": "Cohere's native API has no api family in modelaudit",
    "huggingface": "Hugging Face's inference endpoints API has no api family in modelaudit",
    "text-completion-openai": "the legacy completions API is not probed (chat only)",
    "watsonx": "IBM watsonx has no api family in modelaudit",
    "replicate": "Replicate has no api family in modelaudit",
}
_NO_KEY_WORDS = frozenset({"", "none", "null", "empty", "no-key", "nokey"})


@dataclass(frozen=True)
class Unmapped:
    where: str
    what: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}: not imported: {self.why}"


@dataclass(frozen=True)
class _Endpoint:
    """What makes two deployments the same provider of ours."""

    api: str
    base_url: str
    hosting: Hosting
    key_env: str | None
    api_version: str | None = None
    server: ServerEngine | None = None
    jurisdiction: str | None = None
    name: str = ""
    vendor: Vendor | None = None
    unknown_host: bool = False


@dataclass
class _Deployment:
    endpoint: _Endpoint
    model_id: str
    group: str
    line: int
    info_id: str | None = None
    base_model: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Config:
    path: Path
    document: yamlsafe.Document
    env: Mapping[str, str]
    credentials: Mapping[str, Mapping[str, object]]

    def where(self, *keys: str | int) -> str:
        position = self.document.values.get(tuple(keys))
        return f"{self.path}:{position.line if position else 1}"

    def line(self, *keys: str | int) -> int:
        position = self.document.values.get(tuple(keys))
        return position.line if position else 1

    def value(self, raw: object) -> tuple[str | None, str | None]:
        """A value as LiteLLM reads it: `os.environ/VAR` from the config's
        `environment_variables`, then this process's environment. Returns (value, the
        variable it came from)."""
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            return None, None
        text = str(raw).strip()
        if not text.startswith(_ENV_REF):
            return text, None
        name = text.removeprefix(_ENV_REF)
        found = self.env.get(name) or os.environ.get(name)
        return (found.strip() if found else None), name


def import_litellm(path: Path) -> tuple[Draft, list[Unmapped]]:
    config = _read(path)
    model_list = _mapping(config.document.data).get("model_list")
    if not isinstance(model_list, list) or not model_list:
        raise UsageError(f"{path}:1:1: not a LiteLLM config: no `model_list` of deployments")
    deployments: list[_Deployment] = []
    unmapped: list[Unmapped] = []
    for index, item in enumerate(model_list):
        found = _deployment(config, index, item)
        if isinstance(found, Unmapped):
            unmapped.append(found)
        else:
            deployments.append(found)
    draft, providers = _draft(config, deployments, unmapped)
    _fallbacks(config, draft, _refs_by_name(draft, providers, deployments), unmapped)
    return draft, unmapped


def _read(path: Path) -> _Config:
    from modelaudit.fileio import FileError, read_bytes

    try:
        raw = read_bytes(path, MAX_BYTES)
    except FileError as exc:
        if exc.too_big:
            raise UsageError(
                f"{path}: over {MAX_BYTES // 1_048_576} MiB: not a LiteLLM config?"
            ) from None
        raise UsageError(f"{path}: {exc.reason}") from None
    try:
        text = raw.decode("utf-8")
        document, problems = yamlsafe.parse(text)
    except UnicodeDecodeError:
        raise UsageError(f"{path}:1:1: not UTF-8 text") from None
    except yamlsafe.YamlSyntaxError as exc:
        where = exc.problem.position
        raise UsageError(f"{path}:{where.line}:{where.column}: {exc.problem.message}") from None
    if problems and not document.values:
        first = problems[0]
        raise UsageError(f"{path}:{first.position.line}:{first.position.column}: {first.message}")
    data = _mapping(document.data)
    env = {
        str(k): str(v)
        for k, v in _mapping(data.get("environment_variables")).items()
        if isinstance(v, str | int | float)
    }
    credentials = {}
    listed = data.get("credential_list")
    for item in listed if isinstance(listed, list) else []:
        entry = _mapping(item)
        name = entry.get("credential_name")
        if isinstance(name, str):
            credentials[name] = _mapping(entry.get("credential_values"))
    return _Config(path, document, env, credentials)


def _mapping(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _deployment(config: _Config, index: int, item: object) -> _Deployment | Unmapped:
    entry = _mapping(item)
    group = entry.get("model_name")
    params = _mapping(entry.get("litellm_params"))
    credential = params.get("litellm_credential_name")
    if isinstance(credential, str):
        params = {**config.credentials.get(credential, {}), **params}
    model = params.get("model")
    where = config.where("model_list", index, "litellm_params", "model")
    if not isinstance(group, str) or not isinstance(model, str) or not model.strip():
        return Unmapped(
            config.where("model_list", index),
            f"model_list[{index}]",
            "no model_name or litellm_params.model",
        )
    what = f"{model} (model_name `{group}`)"
    if "*" in model:
        return Unmapped(where, what, "a wildcard route: list the models you use one by one")
    endpoint = _endpoint(config, model, params, what, where)
    if isinstance(endpoint, Unmapped):
        return endpoint
    prefix, _, rest = model.partition("/")
    model_id = rest if rest and (prefix in _prefixes()) else model
    info = _mapping(entry.get("model_info"))
    info_id, base_model = info.get("id"), info.get("base_model")
    deployment = _Deployment(
        endpoint,
        model_id,
        group,
        config.line("model_list", index, "litellm_params", "model"),
        info_id=info_id if isinstance(info_id, str) else None,
        base_model=_without_prefix(base_model) if isinstance(base_model, str) else None,
    )
    literal = _literal_key(config, params)
    if literal:
        deployment.notes.append(literal)
    return deployment


def _without_prefix(model: str) -> str:
    """`azure/gpt-4o` -> `gpt-4o` (a base_model is written with LiteLLM's prefix)."""
    prefix, sep, rest = model.partition("/")
    return rest if sep and prefix in _prefixes() else model


def _prefixes() -> dict[str, Vendor | LocalServer]:
    found: dict[str, Vendor | LocalServer] = {}
    for vendor in table().vendors:
        found.update(dict.fromkeys(vendor.litellm, vendor))
    for server in table().servers:
        found.update(dict.fromkeys(server.litellm, server))
    return found


def _endpoint(
    config: _Config, model: str, params: dict[str, object], what: str, where: str
) -> _Endpoint | Unmapped:
    prefix, sep, _ = model.partition("/")
    api_base, base_var = config.value(params.get("api_base") or params.get("base_url"))
    if base_var and api_base is None:
        return Unmapped(where, what, f"its api_base comes from {base_var}, which is not set here")
    key_env = _key_env(config, params)
    target = _prefixes().get(prefix) if sep else _bare_vendor(model)
    if target is None:
        reason = _NO_FAMILY.get(prefix) if sep else None
        if reason is None:
            reason = (
                f"LiteLLM provider `{prefix}` is not in modelaudit's vendor table"
                if sep
                else "a model name without a provider prefix that modelaudit cannot place: "
                "write it with one (openai/..., groq/...)"
            )
        return Unmapped(where, what, reason)
    if isinstance(target, LocalServer):
        return _self_hosted(target, api_base, key_env, where, what)
    if target.name == "openai" and api_base and not _same_host(api_base, target.base_url):
        return _compatible_server(api_base, key_env)
    return _vendor_endpoint(config, target, api_base, key_env, params, where, what)


def _bare_vendor(model: str) -> Vendor | None:
    return next((v for v in table().vendors if v.serves_bare_id(model)), None)


def _vendor_endpoint(
    config: _Config,
    vendor: Vendor,
    api_base: str | None,
    key_env: str | None,
    params: dict[str, object],
    where: str,
    what: str,
) -> _Endpoint | Unmapped:
    base_url = (api_base or vendor.base_url or "").rstrip("/")
    if not base_url:
        return Unmapped(where, what, f"{vendor.title} needs api_base (the resource's endpoint)")
    api_version = None
    if vendor.api == "azure-openai":
        api_version, version_var = config.value(params.get("api_version"))
        api_version = api_version or os.environ.get("AZURE_API_VERSION")
        if api_version is None and not base_url.endswith("/openai/v1"):
            unset = f" ({version_var} is not set here)" if version_var else ""
            return Unmapped(where, what, f"an Azure deployment needs api_version{unset}")
    return _Endpoint(
        api=vendor.api,
        base_url=base_url,
        hosting=vendor.hosting,
        key_env=key_env or vendor.keys[0],
        api_version=api_version,
        jurisdiction=vendor.jurisdiction,
        name=vendor.name,
        vendor=vendor,
    )


def _self_hosted(
    server: LocalServer, api_base: str | None, key_env: str | None, where: str, what: str
) -> _Endpoint | Unmapped:
    if api_base is None and server.engine is ServerEngine.OLLAMA:
        api_base = "http://localhost:11434"  # LiteLLM's own default for ollama/
    if api_base is None:
        return Unmapped(where, what, f"{server.title} needs api_base (where the server listens)")
    return _Endpoint(
        api=server.api,
        base_url=api_base.rstrip("/"),
        hosting=Hosting.SELF_HOSTED,
        key_env=key_env,
        server=server.engine,
        name=server.engine.value,
    )


def _compatible_server(api_base: str, key_env: str | None) -> _Endpoint:
    """`openai/` with an api_base elsewhere: a known vendor's host, a server on this
    machine or network (self-hosted), or a public host whose operator is unknown."""
    for vendor in table().vendors:
        if vendor.api == "openai" and vendor.base_url and _same_host(api_base, vendor.base_url):
            return _Endpoint(
                api="openai",
                base_url=api_base.rstrip("/"),
                hosting=vendor.hosting,
                key_env=key_env or vendor.keys[0],
                jurisdiction=vendor.jurisdiction,
                name=vendor.name,
                vendor=vendor,
            )
    host = urlsplit(api_base).hostname or ""
    local = _private(host)
    return _Endpoint(
        api="openai",
        base_url=api_base.rstrip("/"),
        hosting=Hosting.SELF_HOSTED if local else Hosting.THIRD_PARTY,
        key_env=key_env,
        name=_host_name(host),
        unknown_host=not local,
    )


def _same_host(url: str, other: str | None) -> bool:
    return other is not None and urlsplit(url).hostname == urlsplit(other).hostname


def _private(host: str) -> bool:
    if host in ("localhost", "0.0.0.0") or host.endswith((".local", ".internal", ".lan")):  # noqa: S104 - a name compared, nothing bound
        return True
    if "." not in host:
        return True  # a single-label name resolves on the local network only
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def _host_name(host: str) -> str:
    """A provider name from a host: `api.awanllm.com` -> `awanllm`; an address -> `local`
    (this machine or network) or `server`."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return "local" if _private(host) else "server"
    generic = ("api", "www", "openai", "inference", "v1", "com", "ai", "io", "net", "org")
    labels = [label for label in host.split(".") if label not in generic]
    if not labels:
        return "local" if _private(host) else "server"
    return re.sub(r"[^a-z0-9-]+", "-", labels[0].lower()).strip("-") or "server"


def _key_env(config: _Config, params: dict[str, object]) -> str | None:
    raw = params.get("api_key")
    if isinstance(raw, str) and raw.strip().startswith(_ENV_REF):
        return raw.strip().removeprefix(_ENV_REF)
    return None


def _literal_key(config: _Config, params: dict[str, object]) -> str | None:
    """A credential written into the config itself (never copied into the registry)."""
    for name in ("api_key", "azure_ad_token"):
        raw = params.get(name)
        if raw is None or (isinstance(raw, str) and raw.strip().startswith(_ENV_REF)):
            continue
        if isinstance(raw, str) and raw.strip().lower() in _NO_KEY_WORDS:
            continue
        return f"the config holds a literal {name}: not copied (keys are read from env: or file:)"
    return None


# --- the draft ---------------------------------------------------------------------------------


def _draft(
    config: _Config, deployments: list[_Deployment], unmapped: list[Unmapped]
) -> tuple[Draft, dict[_Endpoint, DraftProvider]]:
    draft = Draft()
    providers: dict[_Endpoint, DraftProvider] = {}
    names = _names([d.endpoint for d in deployments])
    for deployment in deployments:
        endpoint = deployment.endpoint
        provider = providers.get(endpoint)
        if provider is None:
            provider = _provider(config, endpoint, names[endpoint])
            providers[endpoint] = provider
            draft.providers.append(provider)
        model = next((m for m in provider.models if m.id == deployment.model_id), None)
        if model is None:
            model = _model(endpoint, deployment)
            provider.models.append(model)
        tag = _tag(deployment.group)
        if tag and tag not in model.tags:
            model.tags.append(tag)
        model.comments.append(
            f"LiteLLM model_name `{deployment.group}` ({config.path.name}:{deployment.line})"
        )
        for note in deployment.notes:
            if note not in provider.comments:
                provider.comments.append(note)
    for endpoint, provider in list(providers.items()):
        problem = _invalid(provider)
        if problem is None:
            continue
        draft.providers.remove(provider)
        del providers[endpoint]
        for deployment in deployments:
            if deployment.endpoint == endpoint:
                what = f"{deployment.model_id} (model_name `{deployment.group}`)"
                unmapped.append(Unmapped(f"{config.path}:{deployment.line}", what, problem))
    return draft, providers


def _names(endpoints: list[_Endpoint]) -> dict[_Endpoint, str]:
    """Each provider's name: the vendor's or engine's, with its host's name when several
    share it (`azure-openai-my-endpoint-europe`), numbered when still not unique."""
    unique = list(dict.fromkeys(endpoints))
    shared = Counter(e.name for e in unique)
    names: dict[_Endpoint, str] = {}
    taken: set[str] = set()
    for endpoint in unique:
        name = endpoint.name
        if shared[name] > 1:
            label = _host_name(urlsplit(endpoint.base_url).hostname or "")
            if label not in (name, "local", "server"):
                name = f"{name}-{label}"
        base, number = name, 2
        while name in taken:
            name, number = f"{base}-{number}", number + 1
        taken.add(name)
        names[endpoint] = name
    return names


def _provider(config: _Config, endpoint: _Endpoint, name: str) -> DraftProvider:
    provider = DraftProvider(
        name=name,
        api=endpoint.api,
        base_url=endpoint.base_url,
        hosting=endpoint.hosting,
        api_key_env=endpoint.key_env,
        api_version=endpoint.api_version,
        server=endpoint.server,
        jurisdiction=endpoint.jurisdiction,
        comments=[f"from {config.path.name}: " + _origin_words(endpoint)],
    )
    if endpoint.unknown_host:
        provider.commented_out = (
            f"{urlsplit(endpoint.base_url).hostname} is a public host modelaudit does not "
            "know: add `jurisdiction:` (the ISO code of its operator's country), then "
            "uncomment this provider"
        )
    return provider


def _origin_words(endpoint: _Endpoint) -> str:
    if endpoint.vendor is not None:
        return f"{endpoint.vendor.title} (jurisdiction and hosting from modelaudit's vendor table)"
    if endpoint.server is not None:
        return f"a {endpoint.server.value} server you run"
    if endpoint.hosting is Hosting.SELF_HOSTED:
        return (
            "an OpenAI-compatible server on your machine or network "
            "(hosting inferred from its address)"
        )
    return "an OpenAI-compatible server at a public host"


def _model(endpoint: _Endpoint, deployment: _Deployment) -> DraftModel:
    if endpoint.hosting is Hosting.SELF_HOSTED:
        weights, why = Weights.OPEN, "open (served by your own server)"
    elif endpoint.vendor is not None and endpoint.vendor.weights == "open":
        weights, why = Weights.OPEN, f"open ({endpoint.vendor.title} serves open weights)"
    elif endpoint.vendor is not None and endpoint.vendor.weights == "closed":
        weights, why = Weights.CLOSED, f"closed ({endpoint.vendor.title} serves closed models)"
    else:
        weights, why = Weights.CLOSED, "closed assumed (open or closed is not known here): check"
    model = DraftModel(id=deployment.model_id, weights=weights, base_model=deployment.base_model)
    id_shape = shape(deployment.base_model or deployment.model_id)
    if endpoint.api == "azure-openai" and deployment.base_model is None:
        model.comments.append(
            "a deployment name: add `base_model:` (the model behind it) for its lifecycle data"
        )
    elif id_shape.kind is IdKind.SNAPSHOT:
        model.comments.append(f"fixed id: {id_shape.why}")
    elif endpoint.hosting is not Hosting.SELF_HOSTED:
        model.comments.append(
            "no date in the id: if it is a floating alias, pin a dated snapshot "
            f"(`modelaudit discover --provider {endpoint.name}` lists them)"
        )
    model.comments.append(f"weights: {why}")
    if weights is Weights.OPEN:
        named = weights_name(deployment.model_id)
        if named is not None:
            model.weights_key, model.weights_label = named.key, named.label
    return model


def _tag(group: str) -> str:
    return re.sub(r"[\s,]+", "-", group.strip())


def _invalid(provider: DraftProvider) -> str | None:
    """What the registry schema says about the provider, or None when it accepts it."""
    try:
        ProviderSpec.model_validate(
            {
                "name": provider.name,
                "api": provider.api,
                "base_url": provider.base_url,
                "api_key": f"env:{provider.api_key_env}" if provider.api_key_env else None,
                "api_version": provider.api_version,
                "hosting": provider.hosting.value,
                "server": provider.server.value if provider.server else None,
                "jurisdiction": provider.jurisdiction or ("US" if provider.commented_out else None),
                "models": [{"id": m.id, "weights": m.weights.value} for m in provider.models],
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        return f"{'.'.join(str(p) for p in first['loc'])}: {message}"
    return None


# --- fallbacks ---------------------------------------------------------------------------------


def _fallbacks(
    config: _Config, draft: Draft, refs: dict[str, list[str]], unmapped: list[Unmapped]
) -> None:
    data = _mapping(config.document.data)
    for section in ("router_settings", "litellm_settings"):
        settings = _mapping(data.get(section))
        rules = settings.get("fallbacks")
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            for source, targets in _mapping(rule).items():
                where = config.where(section, "fallbacks", index)
                _apply_fallback(draft, refs, source, targets, where, unmapped)
        defaults = settings.get("default_fallbacks")
        if isinstance(defaults, list):
            where = config.where(section, "default_fallbacks")
            for group in list(refs):
                _apply_fallback(draft, refs, group, defaults, where, unmapped)
        for kind in ("context_window_fallbacks", "content_policy_fallbacks"):
            if settings.get(kind):
                draft.notes.append(
                    f"{config.where(section, kind)}: {kind} not imported: they move a request "
                    "that is too long or refused, not one the model failed to serve"
                )


def _refs_by_name(
    draft: Draft, providers: dict[_Endpoint, DraftProvider], deployments: list[_Deployment]
) -> dict[str, list[str]]:
    """A model_name (and a model_info id) -> the refs of the active models behind it."""
    active = {id(p) for p in draft.active()}
    refs: dict[str, list[str]] = {}
    for deployment in deployments:
        provider = providers.get(deployment.endpoint)
        if provider is None or id(provider) not in active:
            continue
        ref = f"{provider.name}/{deployment.model_id}"
        for name in (deployment.group, deployment.info_id):
            if name and ref not in refs.setdefault(name, []):
                refs[name].append(ref)
    return refs


def _apply_fallback(
    draft: Draft,
    refs: dict[str, list[str]],
    source: str,
    targets: object,
    where: str,
    unmapped: list[Unmapped],
) -> None:
    wanted = [str(t) for t in targets] if isinstance(targets, list) else []
    if source not in refs:
        unmapped.append(
            Unmapped(where, f"fallbacks of `{source}`", "no imported model has that model_name")
        )
        return
    found: list[str] = []
    for target in wanted:
        if target not in refs:
            unmapped.append(
                Unmapped(
                    where,
                    f"fallback `{target}` of `{source}`",
                    "no imported model has that model_name",
                )
            )
            continue
        found += refs[target]
    for ref in refs[source]:
        matches = draft.find(ref)
        for _, model in matches:
            added = [r for r in found if r != ref and r not in model.fallbacks]
            model.fallbacks += added
            if added:
                model.comments.append(
                    f"fallbacks: from the LiteLLM router's fallbacks of `{source}`"
                )
