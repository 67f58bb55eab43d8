"""The interface every wire family implements.

A family is pure: it turns what we want to ask into an `HttpRequest`, and what came back
into an observation (`CatalogPage`, `Generation`, stream events, `ProviderError`). It never
opens a socket or reads a key; the runner does that. This keeps every family testable with
plain bytes, and keeps every decision about error classes in `modelaudit.probe.classify`,
which reads the `ProviderError` a family extracted.

The one place a family meets a credential is its `Authorizer`: given the request exactly
as it will be sent, the credential the runner read, and the clock, it returns the headers
that authenticate it (a key in a header, a signature over the request, a short-lived token
it fetched and keeps until it expires). The runner only ever calls it for a request to one
of the provider's own `hosts`.

To add a family: one new module with a `Family` subclass, one line in `families/__init__.py`
(docs/extending.md walks through it, a signing family included).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, TypeAlias
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from modelaudit.registry.schema import CredentialsRef, ModelSpec, ProviderSpec

# The fixed prompt of every generation probe: short, and answerable in one token.
PROBE_PROMPT = "Reply with the single word: ok"


@dataclass(frozen=True)
class HttpRequest:
    method: Literal["GET", "POST", "HEAD"]
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    """Headers other than credentials, including the provider's configured `headers`;
    the runner adds what the family's `Authorizer` gives."""
    json_body: object | None = None
    stream: bool = False
    authenticated: bool = True
    """False for endpoints that need no key (OpenRouter's model list, health checks)."""

    def body_bytes(self) -> bytes | None:
        if self.json_body is None:
            return None
        return json.dumps(self.json_body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    """Lower-cased header names."""
    body: bytes

    def json(self) -> object:
        """The body as JSON; raises ValueError when it is not JSON."""
        from modelaudit.families.fields import load_json

        return load_json(self.body)


BodyForm: TypeAlias = Literal["envelope", "json", "html", "text", "empty"]


@dataclass(frozen=True)
class ProviderError:
    """What a provider said about a failure, read from its own error envelope."""

    type: str | None = None
    code: str | None = None
    """The most specific code the envelope gives, as text (`insufficient_quota`, `"1211"`,
    Gemini's `ErrorInfo.reason` such as `API_KEY_INVALID`)."""
    message: str | None = None
    retry_after_s: float | None = None
    """A retry hint carried in the body (Gemini `RetryInfo.retryDelay`, "Please try again in
    1.2s", Hugging Face's `estimated_time`). The `retry-after` headers are read, with the
    clock, by `modelaudit.probe.classify`."""
    status: int | None = None
    """The HTTP status the body itself states (Gemini/vLLM/llama.cpp/OpenRouter `error.code`):
    what lets an error that arrived inside a 200 be classified like the same error outside."""
    param: str | None = None
    """The request parameter the provider blames (OpenAI-style `param`)."""
    form: BodyForm = "envelope"
    """What the body was: a provider's error `envelope`, other `json`, an `html` page,
    plain `text`, or `empty`. A page or a bare text answering a generation is seldom the
    API itself (a wrong route, a proxy, a portal)."""
    quota_ids: tuple[str, ...] = ()
    """Google `QuotaFailure` violations' `quotaId`s (`GenerateRequestsPerDayPerProjectPerModel`):
    which limits were hit, and so over which window."""
    quota_values: tuple[str, ...] = ()
    """Their `quotaValue`s, when given (`"0"`: no quota at all for this model)."""
    reported_headers: tuple[tuple[str, str], ...] = ()
    """Rate-limit headers a gateway reports inside the body (OpenRouter's
    `metadata.headers`), lower-cased names."""


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    retires: date | None = None
    """The shutdown / deprecation / expiration date the list carries, if any."""
    lifecycle: str | None = None
    """The list's own lifecycle word when it has one: `deprecated`, `legacy`, `inactive`..."""
    note: str | None = None
    """A human hint such as the replacement model the provider names."""
    # What the list says about the id itself (read by `discover` and `init`):
    aliases: tuple[str, ...] = ()
    """Other ids the list says name this same model (Mistral, llama.cpp `aliases`)."""
    canonical_id: str | None = None
    """The fixed id the list says stands behind this one (OpenRouter `canonical_slug`)."""
    digest: str | None = None
    """A content digest: entries that share one are the same weights (Ollama tags)."""
    weights_id: str | None = None
    """The open weights' repository the list names (OpenRouter `hugging_face_id`, vLLM
    and SGLang `root` when it is an `org/name`)."""
    owned_by: str | None = None
    created: int | None = None
    """Unix seconds, when the list says (orders snapshots whose date has no year)."""
    generates_text: bool | None = None
    """Whether the list says the model generates text (False: embeddings, images,
    speech...); None when it does not say."""


@dataclass(frozen=True)
class CatalogPage:
    entries: tuple[CatalogEntry, ...]
    next_request: HttpRequest | None = None
    """The request for the next page; None on the last page."""


@dataclass(frozen=True)
class Generation:
    """What a complete (non-streamed) generation reply said."""

    served_model: str | None = None
    system_fingerprint: str | None = None
    finish_reason: str | None = None
    output_tokens: int | None = None
    text_chars: int = 0
    """Characters of answer and reasoning text (an empty reply cut by the length limit is
    still a live model)."""
    filtered: bool = False
    """The reply was a content-filter block, a refusal or a safety stop: the model is alive."""
    error: ProviderError | None = None
    """An error carried inside a 200."""


# --- streaming -------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamToken:
    """A chunk with non-empty text: the first one marks the time to first token."""

    chars: int
    reasoning: bool = False


@dataclass(frozen=True)
class StreamMeta:
    served_model: str | None = None
    system_fingerprint: str | None = None


@dataclass(frozen=True)
class StreamEnd:
    """The family's terminator was seen (`[DONE]`, `message_stop`, `done: true`...)."""

    finish_reason: str | None = None
    output_tokens: int | None = None
    filtered: bool = False


@dataclass(frozen=True)
class StreamFailure:
    """An error event inside a 200 stream, or bytes that do not parse."""

    error: ProviderError | None = None
    malformed: str | None = None
    """Set when the stream broke the wire format; says how."""


StreamEvent = StreamToken | StreamMeta | StreamEnd | StreamFailure


class StreamDecoder(Protocol):
    def feed(self, data: bytes) -> list[StreamEvent]:
        """Decode the next bytes of the body (any split, even mid-line or mid-character)."""
        ...

    def close(self) -> list[StreamEvent]:
        """The body ended: flush what is buffered."""
        ...


# --- credentials -----------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingRequest:
    """A request exactly as it will be sent: what an `Authorizer` signs."""

    method: str
    url: str
    """Scheme, host, path and query, percent-encoded as they go on the wire."""
    headers: Mapping[str, str]
    """Lower-cased names: every header that will be sent (`host`, `content-length`,
    `content-type` included), before the credential's own."""
    body: bytes


def installed(module: str) -> bool:
    """Whether `module` (dotted names too) could be imported, without importing it. A dotted
    name whose parent package is absent ("google.auth" with no "google" at all) is simply not
    installed: `find_spec` raises for it instead of answering None."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ModuleNotFoundError is an ImportError
        return False


@dataclass(frozen=True)
class Credential:
    """A provider's credential, read by the runner for one request (at send time), its
    values registered with `modelaudit.redact` as they were read. It shows no value in its
    `repr`, and never becomes part of a value that crosses a seam."""

    key: str | None = None
    """`api_key`: the one key."""
    parts: Mapping[str, str] = field(default_factory=dict)
    """`credentials.parts`: each part read, by name (an optional part not set is absent)."""
    profile: str | None = None
    """`credentials.profile`: a named profile of the vendor's own configuration, read by the
    family (its SDK)."""
    chain: bool = False
    """`credentials.chain: default`: the vendor SDK's own default chain finds it."""

    def __repr__(self) -> str:
        shown = [f"parts={sorted(self.parts)}"] if self.parts else []
        if self.key is not None:
            shown.append("key=...")
        if self.profile is not None:
            shown.append(f"profile={self.profile!r}")
        if self.chain:
            shown.append("chain='default'")
        return f"Credential({', '.join(shown)})"


@dataclass(frozen=True)
class CredentialForms:
    """The forms of credential a family takes in `providers.yaml`."""

    key: bool = True
    """`api_key: env:VAR` (or `file:PATH`): one key."""
    parts: Mapping[str, bool] = field(default_factory=dict)
    """`credentials: {parts: {NAME: env:VAR, ...}}`: each part it reads, and whether it is
    required (an optional part may be left out, or its variable unset)."""
    profile: bool = False
    """`credentials: {profile: NAME}`."""
    chain: bool = False
    """`credentials: {chain: default}`."""


Clock: TypeAlias = Callable[[], datetime]
"""The current time, timezone-aware UTC (the runner's; a test's fixed one)."""


class CredentialUnreachable(Exception):  # noqa: N818 - reads as the event it is
    """An authorizer could not reach the service that issues its credential (a token
    endpoint, a metadata server): a connection failure, which says nothing about the
    credential, not a refused one (`LookupError`)."""


class Authorizer:
    """Adds a provider's credential to the requests the runner sends to its hosts. Made
    once per provider and run (`Family.authorizer`): a family that fetches short-lived
    tokens keeps them here, and refreshes them by the clock. This default puts the one key
    in the family's `auth_headers`."""

    def __init__(self, family: Family) -> None:
        self.family = family

    async def headers(
        self, request: OutgoingRequest, credential: Credential, clock: Clock
    ) -> Mapping[str, str]:
        """The headers that authenticate `request`. Raises LookupError, with a reason that
        names what to fix (never a secret), when the credential cannot be used, and
        CredentialUnreachable when what issues it could not be reached."""
        if credential.key is None:
            raise LookupError(f"api `{self.family.name}` takes one key: set `api_key`")
        return self.family.auth_headers(credential.key)


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, the port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


# --- the family ------------------------------------------------------------------------


class Family(ABC):
    name: ClassVar[str]
    default_api_version: ClassVar[str | None] = None
    credential_forms: ClassVar[CredentialForms] = CredentialForms()

    def check_base_url(self, base_url: str) -> str | None:
        """Say what is wrong with a provider's `base_url` for this family (None when fine).
        Conventions follow the family's official SDK."""
        return None

    def check_api_version(self, api_version: str | None, base_url: str | None) -> str | None:
        """Say what is wrong with a provider's `api_version` for this family (None when fine).
        `base_url` is None when it is itself invalid: judge what can be judged without it."""
        if api_version is not None:
            return f"`api_version` has no meaning for api `{self.name}`: remove it"
        return None

    def check_region(self, region: str | None) -> str | None:
        """Say what is wrong with a provider's `region` for this family (None when fine)."""
        if region is not None:
            return f"`region` has no meaning for api `{self.name}`: remove it"
        return None

    def default_base_url(self, fields: Mapping[str, object]) -> str | None:
        """The `base_url` of a provider that leaves it out, from its other fields as written
        (Bedrock's from `region`); None when the family has none (it is then required).
        Raises ValueError naming what to set when the fields cannot give one."""
        return None

    def missing_dependency(self) -> str | None:
        """What this installation lacks to use the family (an optional extra not installed),
        naming what to install; None when nothing. A provider of the family is then skipped
        with that reason. Must not import the dependency."""
        return None

    def check_placement(
        self, base_url: str | None, project: str | None, location: str | None
    ) -> list[tuple[str, str]]:
        """Say what is wrong with a provider's `project` and `location` (the field, the
        problem); `base_url` is None when it is itself invalid."""
        return [
            (name, f"`{name}` has no meaning for api `{self.name}`: remove it")
            for name, value in (("project", project), ("location", location))
            if value is not None
        ]

    def check_endpoint(self, provider: ProviderSpec, endpoint: str) -> str | None:
        """Say what is wrong with a model's `endpoint:` (which of the API's generation
        endpoints it is probed on) for this provider; None when fine."""
        return f"`endpoint` has no meaning for api `{self.name}`: remove it"

    def auth_headers(self, key: str) -> dict[str, str]:
        """The headers that carry a single `key` (what the default `Authorizer` sends)."""
        raise NotImplementedError(f"api `{self.name}` does not take a single key")

    def credential_unavailable(self, provider: ProviderSpec) -> str | None:
        """Why `provider`'s credential cannot be used on this machine, naming what to set
        (the SDK's own credential chain would find nothing, a variable it needs is unset);
        None when it can. Checked offline and without importing the SDK, whenever a
        provider's credential is read: the provider is then skipped."""
        return None

    def authorizer(self, provider: ProviderSpec) -> Authorizer:
        """What adds `provider`'s credential to its requests, for one run. Override it to
        sign each request or to fetch tokens (see `Authorizer`)."""
        return Authorizer(self)

    def hosts(self, provider: ProviderSpec) -> tuple[str, ...]:
        """The origins (`scheme://host[:port]`) `provider`'s requests go to: its credential
        is sent to these and to no other host (a redirect is never followed). One by
        default, `base_url`'s; a family whose API is split across hosts (a control plane
        and a runtime) names each."""
        parts = urlsplit(provider.base_url)
        return (f"{parts.scheme}://{parts.netloc}",)

    def check_credentials(self, api_key: bool, credentials: CredentialsRef | None) -> str | None:
        """Say what is wrong with the form of a provider's credential for this family (None
        when fine): `api_key` tells whether one is set, `credentials` is the structured one."""
        return credential_form_problem(self.name, self.credential_forms, api_key, credentials)

    @abstractmethod
    def catalog_request(self, provider: ProviderSpec) -> HttpRequest | None:
        """The first page of the model list; None when the API has no list endpoint."""

    @abstractmethod
    def parse_catalog(self, provider: ProviderSpec, response: HttpResponse) -> CatalogPage:
        """Read one 200 page of the model list; raises ValueError on a body that is not one."""

    def catalog_id(self, provider: ProviderSpec, model: ModelSpec) -> str:
        """The id under which `model` appears in the catalog."""
        return model.id

    def served_names(self, model: ModelSpec) -> tuple[str, ...]:
        """Names besides `model.id` a reply may carry for this model (`"*"`: any, when the
        family cannot say). A reply naming another model is a substitution."""
        return ()

    def retrieve_request(self, provider: ProviderSpec, model: ModelSpec) -> HttpRequest | None:
        """Ask the API about one model by id (`GET /v1/models/{id}`...): what settles a model
        the list does not show, such as an alias that resolves. None (the default) when the
        API cannot look a model up by id."""
        return None

    def parse_retrieve(
        self, provider: ProviderSpec, model: ModelSpec, response: HttpResponse
    ) -> CatalogEntry:
        """Read a 2xx answer to `retrieve_request`: the model's entry, its `id` being the one
        the API resolved the request to (the `catalog_id` when the API does not name one).
        Raises ValueError on a body that is not one. A 404 or another failure never gets
        here: it is classified like any error response."""
        raise NotImplementedError(f"api `{self.name}` cannot retrieve a model by id")

    @abstractmethod
    def completion_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        """The cheapest real generation. `variant` > 0 asks for the alternative form after
        the provider refused a parameter (see `alternative_variant`)."""

    def alternative_variant(self, error: ProviderError, variant: int) -> int | None:
        """After a 400 naming an unsupported parameter: the variant to retry once with."""
        return None

    @abstractmethod
    def parse_completion(
        self, response: HttpResponse, request: HttpRequest | None = None
    ) -> Generation:
        """Read a 200 generation reply; raises ValueError on a body that is not one.
        `request` is the request it answers: a family that speaks several wire formats
        (OpenAI's chat and Responses endpoints, Vertex's publishers) reads which from it."""

    @abstractmethod
    def stream_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        """A streamed generation."""

    @abstractmethod
    def stream_decoder(self, request: HttpRequest | None = None) -> StreamDecoder:
        """A fresh decoder for one streamed response body (the reply to `request`, whose
        URL says which wire format it is when the family speaks several)."""

    @abstractmethod
    def parse_error(self, response: HttpResponse) -> ProviderError:
        """Read the provider's error envelope from a non-2xx response (never raises)."""


def credential_form_problem(
    api: str, forms: CredentialForms, api_key: bool, credentials: CredentialsRef | None
) -> str | None:
    """What is wrong with a provider's credential form for a family taking `forms`."""
    if credentials is None:
        if api_key and not forms.key:
            return f"api `{api}` does not take a single key: set `credentials` ({_taken(forms)})"
        return None
    if credentials.parts is not None:
        if not forms.parts:
            return f"api `{api}` does not take credential parts: {_taken(forms)}"
        unknown = sorted(set(credentials.parts) - set(forms.parts))
        if unknown:
            return f"api `{api}` has no credential part `{unknown[0]}`: {_taken(forms)}"
        missing = [name for name, required in forms.parts.items() if required]
        missing = [name for name in missing if name not in credentials.parts]
        if missing:
            return f"credential part `{missing[0]}` is required for api `{api}`: {_taken(forms)}"
        return None
    if credentials.profile is not None and not forms.profile:
        return f"api `{api}` does not read a profile: {_taken(forms)}"
    if credentials.chain is not None and not forms.chain:
        return f"api `{api}` has no default credential chain: {_taken(forms)}"
    return None


def _taken(forms: CredentialForms) -> str:
    taken = []
    if forms.key:
        taken.append("`api_key: env:VAR` (or file:PATH)")
    if forms.parts:
        names = ", ".join(
            name if required else f"{name} (optional)" for name, required in forms.parts.items()
        )
        taken.append(f"`credentials: {{parts: {{...}}}}` with {names}")
    if forms.profile:
        taken.append("`credentials: {profile: NAME}`")
    if forms.chain:
        taken.append("`credentials: {chain: default}`")
    return "it takes " + " or ".join(taken) if taken else "it takes no credential"
