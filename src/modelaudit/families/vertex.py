"""Google Vertex AI (`api: vertex`): Gemini, Claude and open models in a Google Cloud
project and location, with Application Default Credentials.

A model's id says which publisher serves it, and so the route and the wire format, each
spoken by the family that owns it:

* `gemini-2.5-flash` (no `/`): `publishers/google/models/{id}:generateContent`
  (`:streamGenerateContent?alt=sse`), the gemini wire;
* `claude-...` (no `/`, `@` before a version): `publishers/anthropic/models/{id}:rawPredict`
  (`:streamRawPredict`), the anthropic wire with `anthropic_version: vertex-2023-10-16`;
* `mistralai/{model}`: `publishers/mistralai/models/{model}:rawPredict`
  (`:streamRawPredict`), the openai chat wire;
* any other `{publisher}/{model}` (`meta/llama-...-maas`, `deepseek-ai/...`, `qwen/...`,
  `openai/gpt-oss-...`): the OpenAI-compatible `endpoints/openapi/chat/completions`;

every path under `{base_url}/v1/projects/{project}/locations/{location}`, where `base_url`
is `https://{location}-aiplatform.googleapis.com` (`https://aiplatform.googleapis.com` for
`global`) unless the provider names another. Vertex has no per-project list of the models
it serves (Model Garden's publisher list is not what a project may call), so there is no
`catalog` probe: the generation decides.

The token comes from google-auth's default chain (`GOOGLE_APPLICATION_CREDENTIALS`: a
service account, an authorized user or an external account file; gcloud's
`application_default_credentials.json`; the metadata server), fetched in a thread once per
provider and run and again when the run's clock says it expired. google-auth is the
`[vertex]` extra, imported only when a vertex provider sends a request.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

from modelaudit.families.anthropic import AnthropicFamily, messages_body
from modelaudit.families.base import (
    Authorizer,
    CatalogPage,
    CredentialForms,
    CredentialUnreachable,
    Family,
    Generation,
    HttpRequest,
    HttpResponse,
    ProviderError,
    StreamDecoder,
    installed,
)
from modelaudit.families.envelopes import parse_error_response
from modelaudit.families.gemini import GeminiFamily, generate_body
from modelaudit.families.headers import EVENT_STREAM, JSON, request_headers
from modelaudit.families.openai import (
    OpenAIFamily,
    alternative_chat_variant,
    chat_body,
    streamed,
    token_limit_param,
)
from modelaudit.redact import register_secret

if TYPE_CHECKING:
    from collections.abc import Mapping

    from modelaudit.families.base import Clock, Credential, OutgoingRequest
    from modelaudit.families.fields import JsonObject
    from modelaudit.registry.schema import ModelSpec, ProviderSpec

VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
EXTRA = "pip install 'llm-modelaudit[vertex]'"
_HOST = "aiplatform.googleapis.com"
_LOCATION = re.compile(r"global|[a-z]+(?:-[a-z]+)+[0-9]+")
_HOST_WORD = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# A project id (`my-project-123`), a project number, or a legacy `example.com:project`.
_PROJECT = re.compile(r"[a-z0-9][a-z0-9.:-]{0,99}")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GEMINI = GeminiFamily()
_ANTHROPIC = AnthropicFamily()
_CHAT = OpenAIFamily()

Wire = Literal["gemini", "anthropic", "chat"]


@dataclass(frozen=True)
class Route:
    """Where a model is called and in which wire format."""

    wire: Wire
    publisher: str
    model: str
    """The model's name in its publisher's path, or in the body of a chat request."""
    openapi: bool = False
    """Through the OpenAI-compatible `endpoints/openapi` (the model in the body)."""


def route_of(model_id: str) -> Route:
    publisher, slash, name = model_id.partition("/")
    if not slash:
        if model_id.startswith("claude"):
            return Route("anthropic", "anthropic", model_id)
        return Route("gemini", "google", model_id)
    if publisher == "mistralai":
        return Route("chat", publisher, name)
    return Route("chat", publisher, model_id, openapi=True)


def wire_of(request: HttpRequest | None) -> Wire:
    """Which wire format `request`'s reply is in, read from its URL."""
    target = urlsplit(request.url).path if request is not None else ""
    if target.endswith(("Predict", "/chat/completions")):
        return "anthropic" if "/publishers/anthropic/" in target else "chat"
    return "gemini"


def location_host(location: str) -> str:
    return f"https://{_HOST}" if location == "global" else f"https://{location}-{_HOST}"


class VertexFamily(Family):
    name: ClassVar[str] = "vertex"
    credential_forms: ClassVar[CredentialForms] = CredentialForms(key=False, chain=True)

    def default_base_url(self, fields: Mapping[str, object]) -> str | None:
        location = fields.get("location")
        if not isinstance(location, str):
            raise ValueError(
                "api `vertex` needs `location:` (a region such as us-central1, or global), "
                "or `base_url`"
            )
        # Any host-safe word: an unknown location is then told once, as a location.
        return location_host(location) if _HOST_WORD.fullmatch(location) else None

    def check_base_url(self, base_url: str) -> str | None:
        parts = urlsplit(base_url)
        if parts.path not in ("", "/"):
            return (
                f"base_url is the host alone (`{parts.scheme}://{parts.netloc}`), or leave it "
                "out: modelaudit adds /v1/projects/{project}/locations/{location}/..."
            )
        return None

    def check_placement(
        self, base_url: str | None, project: str | None, location: str | None
    ) -> list[tuple[str, str]]:
        problems = []
        if project is None:
            problems.append(
                ("project", "api `vertex` needs `project`: the Google Cloud project id")
            )
        elif _project_variable(project) is None and not _PROJECT.fullmatch(project):
            problems.append(
                ("project", f"`{project}` is not a Google Cloud project id (or env:VARIABLE)")
            )
        if location is None:
            problems.append(
                (
                    "location",
                    "api `vertex` needs `location`: a region such as us-central1, or global",
                )
            )
        elif not _LOCATION.fullmatch(location):
            problems.append(
                ("location", f"`{location}` is not a Vertex location (us-central1, global...)")
            )
        elif base_url is not None and _wrong_region_host(base_url, location):
            problems.append(
                (
                    "location",
                    f"base_url `{base_url}` serves another location than `{location}`: "
                    f"write `{location_host(location)}`, or leave base_url out",
                )
            )
        return problems

    def missing_dependency(self) -> str | None:
        if not installed("google.auth"):
            return f"api `vertex` needs google-auth: {EXTRA}"
        return None

    def credential_unavailable(self, provider: ProviderSpec) -> str | None:
        """No Application Default Credentials this machine could use, or the project's
        variable unset: told before any request, so that the provider is skipped like a
        keyed one whose key is not set."""
        variable = _project_variable(provider.project)
        if variable is not None and not os.environ.get(variable):
            return (
                f"{variable} is not set: export the Google Cloud project id to probe this provider"
            )
        return adc_unavailable()

    def authorizer(self, provider: ProviderSpec) -> Authorizer:
        return GoogleToken(self)

    def catalog_request(self, provider: ProviderSpec) -> HttpRequest | None:
        return None

    def parse_catalog(self, provider: ProviderSpec, response: HttpResponse) -> CatalogPage:
        raise NotImplementedError("Vertex has no per-project model list")

    def served_names(self, model: ModelSpec) -> tuple[str, ...]:
        """Claude answers `claude-sonnet-4-5@20250929` as `claude-sonnet-4-5-20250929`; an
        open model under its name without the publisher."""
        route = route_of(model.id)
        if route.wire == "anthropic":
            return (model.id.replace("@", "-"),)
        return (model.id.partition("/")[2],) if "/" in model.id else ()

    def completion_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        return self._generation(provider, model, max_tokens, variant, stream=False)

    def stream_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        return self._generation(provider, model, max_tokens, variant, stream=True)

    def alternative_variant(self, error: ProviderError, variant: int) -> int | None:
        """A refused chat parameter (open models), else Gemini's thinking budget."""
        chat = alternative_chat_variant(error, variant)
        return chat if chat is not None else _GEMINI.alternative_variant(error, variant)

    def parse_completion(
        self, response: HttpResponse, request: HttpRequest | None = None
    ) -> Generation:
        return _family(wire_of(request)).parse_completion(response)

    def stream_decoder(self, request: HttpRequest | None = None) -> StreamDecoder:
        return _family(wire_of(request)).stream_decoder()

    def parse_error(self, response: HttpResponse) -> ProviderError:
        return parse_error_response(response)

    def _generation(
        self,
        provider: ProviderSpec,
        model: ModelSpec,
        max_tokens: int,
        variant: int,
        *,
        stream: bool,
    ) -> HttpRequest:
        route = route_of(model.id)
        project = quote(project_of(provider), safe=":")
        root = f"{provider.base_url}/v1/projects/{project}/locations/{provider.location}"
        headers = request_headers(provider, accept=EVENT_STREAM if stream else JSON, json_body=True)
        body: JsonObject
        if route.openapi:
            url = f"{root}/endpoints/openapi/chat/completions"
            body = _chat(route, max_tokens, variant, stream)
        else:
            model_path = quote(route.model, safe="@")
            url = f"{root}/publishers/{route.publisher}/models/{model_path}:"
            if route.wire == "gemini":
                url += "streamGenerateContent?alt=sse" if stream else "generateContent"
                body = generate_body(max_tokens, variant)
            else:
                url += "streamRawPredict" if stream else "rawPredict"
                body = (
                    _claude(route, max_tokens, stream)
                    if route.wire == "anthropic"
                    else _chat(route, max_tokens, variant, stream)
                )
        return HttpRequest("POST", url, headers=headers, json_body=body, stream=stream)


def _project_variable(project: str | None) -> str | None:
    """The variable an `env:VARIABLE` project names (None for a literal project id)."""
    if project is None or not project.startswith("env:"):
        return None
    name = project.removeprefix("env:")
    return name if _VARIABLE.fullmatch(name) else None


def project_of(provider: ProviderSpec) -> str:
    """The project id: written in the registry, or read from the variable it names (as
    google-genai reads GOOGLE_CLOUD_PROJECT)."""
    variable = _project_variable(provider.project)
    if variable is None:
        return provider.project or ""
    return os.environ.get(variable, "").strip()


def _family(wire: Wire) -> Family:
    return {"gemini": _GEMINI, "anthropic": _ANTHROPIC, "chat": _CHAT}[wire]


def _claude(route: Route, max_tokens: int, stream: bool) -> JsonObject:
    """Anthropic's Messages body, the model in the URL and the version in the body."""
    body = messages_body(route.model, max_tokens)
    del body["model"]
    body = {"anthropic_version": VERTEX_ANTHROPIC_VERSION, **body}
    if stream:
        body["stream"] = True
    return body


def _chat(route: Route, max_tokens: int, variant: int, stream: bool) -> JsonObject:
    body = chat_body(route.model, max_tokens, token_limit_param("max_tokens", variant))
    return streamed(body, variant) if stream else body


def _wrong_region_host(base_url: str, location: str) -> bool:
    host = (urlsplit(base_url).hostname or "").lower()
    if not host.endswith(_HOST):
        return False  # a proxy or a private endpoint: the user knows where it is
    return f"https://{host}" != location_host(location)


# --- the token --------------------------------------------------------------------------

_ADC_VARIABLE = "GOOGLE_APPLICATION_CREDENTIALS"
_GCLOUD_ADC = "application_default_credentials.json"
_DMI_PRODUCT = Path("/sys/class/dmi/id/product_name")
NO_ADC = (
    f"no Google Application Default Credentials: set {_ADC_VARIABLE} to a service-account "
    "file, or run `gcloud auth application-default login`"
)


def adc_unavailable() -> str | None:
    """Why google-auth's default chain would find nothing here, read offline: the file
    `GOOGLE_APPLICATION_CREDENTIALS` names, gcloud's ADC file, or a Google Compute Engine
    host (its metadata server; google-auth's own residency check, the DMI product name)."""
    named = os.environ.get(_ADC_VARIABLE)
    if named:
        if not Path(named).expanduser().is_file():
            return f"{_ADC_VARIABLE} names {named}, which is not a file"
        return None
    config = os.environ.get("CLOUDSDK_CONFIG") or str(Path.home() / ".config" / "gcloud")
    if (Path(config).expanduser() / _GCLOUD_ADC).is_file():
        return None
    try:
        on_gce = _DMI_PRODUCT.read_text(encoding="utf-8").startswith("Google")
    except OSError:
        on_gce = False
    return None if on_gce else NO_ADC


class GoogleToken(Authorizer):
    """A bearer token from google-auth's default chain, fetched in a thread, kept for the
    run and fetched again once the clock is within a minute of its expiry."""

    REFRESH_MARGIN = timedelta(minutes=1)
    DEFAULT_LIFETIME = timedelta(hours=1)

    def __init__(self, family: Family) -> None:
        super().__init__(family)
        self.token: str | None = None
        self.expires: datetime | None = None
        self.fetches = 0
        self._credentials: Any = None
        import asyncio  # here, not at the top: `config check` never makes an authorizer

        self._lock = asyncio.Lock()

    async def headers(
        self, request: OutgoingRequest, credential: Credential, clock: Clock
    ) -> Mapping[str, str]:
        import asyncio

        async with self._lock:
            now = clock()
            if self.token is None or self.expires is None or now >= self.expires:
                self.token, lifetime = await asyncio.to_thread(self._fetch)
                self.expires = now + lifetime - self.REFRESH_MARGIN
            return {"authorization": f"Bearer {self.token}"}

    def _fetch(self) -> tuple[str, timedelta]:
        """A fresh token and how long it lives (blocking: google-auth's own HTTP)."""
        try:
            import google.auth
            import google.auth.exceptions
            import google.auth.transport.requests
        except ImportError as missing:
            raise LookupError(f"api `vertex` needs google-auth: {EXTRA}") from missing
        try:
            if self._credentials is None:
                self._credentials, _ = google.auth.default(scopes=[SCOPE])
            self._credentials.refresh(google.auth.transport.requests.Request())
        except google.auth.exceptions.DefaultCredentialsError as absent:
            raise LookupError(f"{NO_ADC} ({absent})") from absent
        except google.auth.exceptions.TransportError as unreachable:
            raise CredentialUnreachable(
                f"the Google token endpoint could not be reached: {unreachable}"
            ) from unreachable
        except google.auth.exceptions.GoogleAuthError as refused:
            raise LookupError(
                f"the Google token endpoint refused the credential: {refused}"
            ) from refused
        token = self._credentials.token
        if not isinstance(token, str) or not token:
            raise LookupError("google-auth returned no access token")
        register_secret(token)
        self.fetches += 1
        return token, self._lifetime(self._credentials.expiry)

    def _lifetime(self, expiry: datetime | None) -> timedelta:
        if expiry is None:
            return self.DEFAULT_LIFETIME
        # google-auth keeps a naive UTC expiry (now + the endpoint's `expires_in`).
        remaining = expiry.replace(tzinfo=UTC) - datetime.now(UTC)
        return max(remaining, timedelta(0))
