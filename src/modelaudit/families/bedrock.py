"""AWS Bedrock: the model catalog from the control plane, generations through the runtime's
Converse API, every request signed with SigV4 by botocore.

* Control plane `https://bedrock.<region>.amazonaws.com`: `GET /foundation-models`
  (ListFoundationModels: each model's `modelLifecycle`, ACTIVE or LEGACY, with its legacy
  and end-of-life times where given), then `GET /inference-profiles` (ListInferenceProfiles,
  paged by `nextToken`: a cross-region profile id such as `us.anthropic.claude-...` is a
  model id too); `GET /foundation-models/{id}` and `GET /inference-profiles/{id}` look one up.
* Runtime `https://bedrock-runtime.<region>.amazonaws.com` (`base_url`):
  `POST /model/{id}/converse` and `/converse-stream`, the stream in AWS event-stream framing
  (`families/eventstream.py`), its exceptions as `:message-type: exception` messages.

`base_url` defaults to the runtime of the provider's `region:` (or of the region the AWS
profile names); an override (a VPC endpoint, a test server) keeps the control plane on the
host with `bedrock-runtime` read as `bedrock`, or on the same host when it has no such label.
The credential is botocore's: named parts, a profile of the shared config, or its default
chain (environment, shared files, SSO, web identity, instance metadata). botocore is the
`[bedrock]` extra, imported only when a Bedrock provider is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

from modelaudit.families.base import (
    PROBE_PROMPT,
    Authorizer,
    CatalogEntry,
    CatalogPage,
    CredentialForms,
    Family,
    Generation,
    HttpRequest,
    HttpResponse,
    ProviderError,
    StreamEnd,
    StreamEvent,
    StreamFailure,
    StreamToken,
    credential_form_problem,
    installed,
)
from modelaudit.families.envelopes import clean_message, parse_error_response
from modelaudit.families.eventstream import EventMessage, EventStreamDecoder, Frame, Malformed
from modelaudit.families.fields import (
    JsonObject,
    as_list,
    as_object,
    day,
    integer,
    load_json,
    load_json_object,
    path,
    text,
)
from modelaudit.families.framing import FramedDecoder
from modelaudit.families.headers import JSON, request_headers
from modelaudit.redact import register_secret

if TYPE_CHECKING:
    from modelaudit.families.base import Clock, Credential, OutgoingRequest
    from modelaudit.registry.schema import CredentialsRef, ModelSpec, ProviderSpec

EVENT_STREAM = "application/vnd.amazon.eventstream"
SIGNING_SERVICE = "bedrock"
"""Both the control plane and the runtime sign as `bedrock` (their `signingName`)."""
EXTRA = "pip install 'llm-modelaudit[bedrock]'"
_PAGE_SIZE = 1000
_REGION_IN_HOST = re.compile(
    r"(?:^|\.)bedrock(?:-runtime)?(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\."
)
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+")
_FILTER_STOPS = frozenset({"guardrail_intervened", "content_filtered"})

# An exception message of the stream, by its `:exception-type`, gets the HTTP status the
# same exception has outside a stream (the service model's error shapes), so that the one
# classifier reads both alike.
_EXCEPTION_STATUS = {
    "throttlingexception": 429,
    "servicequotaexceededexception": 429,
    "modelnotreadyexception": 429,
    "serviceunavailableexception": 503,
    "internalserverexception": 500,
    "modelstreamerrorexception": 424,
    "modelerrorexception": 424,
    "modeltimeoutexception": 408,
    "validationexception": 400,
    "accessdeniedexception": 403,
    "resourcenotfoundexception": 404,
}


class BedrockFamily(Family):
    name = "bedrock"
    credential_forms: ClassVar[CredentialForms] = CredentialForms(
        key=False,
        parts={"access_key_id": True, "secret_access_key": True, "session_token": False},
        profile=True,
        chain=True,
    )

    def missing_dependency(self) -> str | None:
        if not installed("botocore"):
            return f"api `bedrock` signs with botocore, which is not installed: {EXTRA}"
        return None

    def default_base_url(self, fields: Mapping[str, object]) -> str | None:
        region = fields.get("region")
        if not isinstance(region, str):
            region = profile_region(_profile_of(fields.get("credentials")))
        if region is None:
            raise ValueError(
                "api `bedrock` needs `region:` (such as us-east-1), or a region in the AWS "
                "profile (AWS_REGION, or `region` in ~/.aws/config), or `base_url`"
            )
        return f"https://bedrock-runtime.{region}.amazonaws.com"

    def check_region(self, region: str | None) -> str | None:
        if region is not None and not _REGION.fullmatch(region):
            return f"`{region}` is not an AWS region name (such as us-east-1 or eu-central-1)"
        return None

    def check_credentials(self, api_key: bool, credentials: CredentialsRef | None) -> str | None:
        if credentials is None and not api_key:
            return (
                "api `bedrock` needs `credentials`: `{chain: default}` (botocore finds them: "
                "environment, ~/.aws files, SSO, web identity, instance metadata), "
                "`{profile: NAME}`, or `{parts: {access_key_id: env:VAR, "
                "secret_access_key: env:VAR, session_token: env:VAR}}`"
            )
        return credential_form_problem(self.name, self.credential_forms, api_key, credentials)

    def hosts(self, provider: ProviderSpec) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_origin(url) for url in (provider.base_url, _control(provider))))

    def authorizer(self, provider: ProviderSpec) -> Authorizer:
        return SigV4Signer(self, provider)

    # -- catalog

    def catalog_request(self, provider: ProviderSpec) -> HttpRequest:
        url = f"{_control(provider)}/foundation-models"
        return HttpRequest("GET", url, self._headers(provider))

    def parse_catalog(self, provider: ProviderSpec, response: HttpResponse) -> CatalogPage:
        listing = load_json_object(response.body, "a model list")
        if "modelSummaries" in listing:
            models = listing["modelSummaries"]
            if not isinstance(models, list):
                raise ValueError("expected `modelSummaries` to be a list")
            entries = tuple(_model_entry(m) for m in models if _model_id(m))
            return CatalogPage(entries, next_request=self._profiles_page(provider, None))
        profiles = listing.get("inferenceProfileSummaries")
        if not isinstance(profiles, list):
            raise ValueError("expected `modelSummaries` or `inferenceProfileSummaries`")
        entries = tuple(_profile_entry(p) for p in profiles if _profile_id(p))
        token = text(listing.get("nextToken"))
        next_request = self._profiles_page(provider, token) if token else None
        return CatalogPage(entries, next_request=next_request)

    def retrieve_request(self, provider: ProviderSpec, model: ModelSpec) -> HttpRequest:
        collection = "inference-profiles" if is_profile_id(model.id) else "foundation-models"
        url = f"{_control(provider)}/{collection}/{quote(model.id, safe='')}"
        return HttpRequest("GET", url, self._headers(provider))

    def parse_retrieve(
        self, provider: ProviderSpec, model: ModelSpec, response: HttpResponse
    ) -> CatalogEntry:
        found = load_json_object(response.body, "a model")
        details = as_object(found.get("modelDetails"))
        if details is not None and _model_id(details):
            return _model_entry(details)
        if _profile_id(found):
            return _profile_entry(found)
        raise ValueError("expected `modelDetails` or an inference profile")

    # -- generation

    def completion_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        return HttpRequest(
            method="POST",
            url=_model_url(provider, model, "converse"),
            headers=self._headers(provider, json_body=True),
            json_body=_converse_body(max_tokens),
        )

    def parse_completion(
        self, response: HttpResponse, request: HttpRequest | None = None
    ) -> Generation:
        body = load_json_object(response.body, "a Converse reply")
        content = path(body, "output", "message", "content")
        if not isinstance(content, list):
            raise ValueError("expected `output.message.content`")
        stop = text(body.get("stopReason"))
        return Generation(
            finish_reason=stop,
            output_tokens=integer(path(body, "usage", "outputTokens")),
            text_chars=sum(_block_chars(block) for block in content),
            filtered=stop in _FILTER_STOPS,
        )

    def stream_request(
        self, provider: ProviderSpec, model: ModelSpec, max_tokens: int, variant: int = 0
    ) -> HttpRequest:
        return HttpRequest(
            method="POST",
            url=_model_url(provider, model, "converse-stream"),
            headers=self._headers(provider, json_body=True, accept=EVENT_STREAM),
            json_body=_converse_body(max_tokens),
            stream=True,
        )

    def stream_decoder(self, request: HttpRequest | None = None) -> ConverseStreamDecoder:
        return ConverseStreamDecoder()

    def parse_error(self, response: HttpResponse) -> ProviderError:
        return parse_error_response(response)

    def _headers(
        self, provider: ProviderSpec, *, json_body: bool = False, accept: str = JSON
    ) -> dict[str, str]:
        return request_headers(provider, accept=accept, json_body=json_body)

    def _profiles_page(self, provider: ProviderSpec, token: str | None) -> HttpRequest:
        query: dict[str, str | int] = {"maxResults": _PAGE_SIZE}
        if token is not None:
            query["nextToken"] = token
        url = f"{_control(provider)}/inference-profiles?{urlencode(query, quote_via=quote)}"
        return HttpRequest("GET", url, self._headers(provider))


def is_profile_id(model_id: str) -> bool:
    """An inference profile id is a geography (`us`, `eu`, `apac`, `global`...) before a
    model id (`provider.model`): two dots where a model id has one."""
    return not model_id.startswith("arn:") and model_id.count(".") >= 2


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _control(provider: ProviderSpec) -> str:
    """The control plane's base URL, beside the runtime's (`base_url`)."""
    parts = urlsplit(provider.base_url)
    labels = parts.netloc.split(".")
    swapped = [re.sub(r"^bedrock-runtime", "bedrock", label) for label in labels]
    return f"{parts.scheme}://{'.'.join(swapped)}"


def _model_url(provider: ProviderSpec, model: ModelSpec, operation: str) -> str:
    # A model id carries `:` (`...-v1:0`) and an ARN `/`: each is one path segment.
    return f"{provider.base_url}/model/{quote(model.id, safe='')}/{operation}"


def _converse_body(max_tokens: int) -> JsonObject:
    return {
        "messages": [{"role": "user", "content": [{"text": PROBE_PROMPT}]}],
        "inferenceConfig": {"maxTokens": max_tokens, "temperature": 0},
    }


def _block_chars(block: object) -> int:
    content = as_object(block) or {}
    reasoning = path(content, "reasoningContent", "reasoningText", "text")
    return len(text(content.get("text")) or "") + len(text(reasoning) or "")


def _model_id(model: object) -> str | None:
    return text(path(model, "modelId"))


def _profile_id(profile: object) -> str | None:
    return text(path(profile, "inferenceProfileId"))


def _model_entry(model: object) -> CatalogEntry:
    """A foundation model: its lifecycle status (ACTIVE, LEGACY) and, where given, the day
    it reaches its end of life."""
    summary = as_object(model) or {}
    lifecycle = as_object(summary.get("modelLifecycle")) or {}
    status = (text(lifecycle.get("status")) or "").lower()
    notes = [
        f"{label} {when.isoformat()}"
        for label, key in (("legacy since", "legacyTime"),
                           ("extended access from", "publicExtendedAccessTime"))
        if (when := day(lifecycle.get(key))) is not None
    ]  # fmt: skip
    outputs = [m.upper() for m in as_list(summary.get("outputModalities")) if isinstance(m, str)]
    return CatalogEntry(
        id=str(_model_id(summary)),
        retires=day(lifecycle.get("endOfLifeTime")),
        lifecycle=status if status and status != "active" else None,
        note="; ".join(notes) or None,
        owned_by=text(summary.get("providerName")),
        generates_text="TEXT" in outputs if outputs else None,
    )


def _profile_entry(profile: object) -> CatalogEntry:
    """An inference profile: the id of the foundation model it routes to (from its ARN)."""
    summary = as_object(profile) or {}
    arns = [text(path(m, "modelArn")) for m in as_list(summary.get("models"))]
    model_ids = [arn.rsplit("/", 1)[-1] for arn in arns if arn and "/" in arn]
    status = (text(summary.get("status")) or "").lower()
    return CatalogEntry(
        id=str(_profile_id(summary)),
        lifecycle=status if status and status != "active" else None,
        canonical_id=model_ids[0] if model_ids else None,
    )


def _profile_of(credentials: object) -> str | None:
    profile = getattr(credentials, "profile", None)
    if profile is None and isinstance(credentials, Mapping):
        profile = credentials.get("profile")
    return profile if isinstance(profile, str) else None


def profile_region(profile: str | None) -> str | None:
    """The region botocore would use for `profile` (the default one when None): AWS_REGION,
    AWS_DEFAULT_REGION, then the profile's `region` in the shared config. Read without
    botocore when the environment names it."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if profile is None and os.environ.get(variable, "").strip():
            return os.environ[variable].strip()
    if not installed("botocore"):
        return None
    import botocore.exceptions
    import botocore.session

    try:
        region = botocore.session.Session(profile=profile).get_config_variable("region")
    except botocore.exceptions.BotoCoreError:
        return None
    return region if isinstance(region, str) and region else None


def signing_region(provider: ProviderSpec) -> str | None:
    """The region a request is signed for: the provider's `region:`, the one in its
    `base_url`'s host (`bedrock-runtime.eu-west-1.amazonaws.com`, a VPC endpoint's), or the
    profile's."""
    if provider.region is not None:
        return provider.region
    match = _REGION_IN_HOST.search(urlsplit(provider.base_url).hostname or "")
    if match:
        return match[1]
    return profile_region(_profile_of(provider.credentials))


# --- signing -----------------------------------------------------------------------------


class SigV4Signer(Authorizer):
    """Signs each request with botocore's SigV4 signer, dated by the runner's clock. The
    credential comes from botocore, once per run (refreshable ones refresh themselves)."""

    def __init__(self, family: BedrockFamily, provider: ProviderSpec) -> None:
        super().__init__(family)
        self.provider = provider
        self._credentials: Any = None
        self._region: str | None = None
        import asyncio  # here, not at the top: `config check` never makes an authorizer

        self._lock = asyncio.Lock()

    async def headers(
        self, request: OutgoingRequest, credential: Credential, clock: Clock
    ) -> Mapping[str, str]:
        import asyncio

        async with self._lock:
            if self._credentials is None:
                self._credentials, self._region = await asyncio.to_thread(self._resolve, credential)
        frozen = await asyncio.to_thread(self._credentials.get_frozen_credentials)
        for secret in (frozen.secret_key, frozen.token):
            if secret:
                register_secret(secret)
        return sign(request, frozen, self._region or "", clock)

    def _resolve(self, credential: Credential) -> tuple[Any, str]:
        if self.family.missing_dependency():
            raise LookupError(self.family.missing_dependency())
        import botocore.credentials
        import botocore.exceptions
        import botocore.session

        region = signing_region(self.provider)
        if region is None:
            raise LookupError("no AWS region: set `region:` on the provider or AWS_REGION")
        if credential.parts:
            parts = credential.parts
            found = botocore.credentials.Credentials(
                parts["access_key_id"], parts["secret_access_key"], parts.get("session_token")
            )
            return found, region
        where = f"profile {credential.profile!r}" if credential.profile else "the default chain"
        try:
            session = botocore.session.Session(profile=credential.profile)
            chained = session.get_credentials()
        except botocore.exceptions.BotoCoreError as exc:
            raise LookupError(
                f"botocore could not read AWS credentials from {where}: {exc}"
            ) from None
        if chained is None:
            raise LookupError(
                f"botocore found no AWS credentials in {where} (environment, ~/.aws files, "
                "SSO, web identity, instance metadata)"
            )
        return chained, region


def sign(request: OutgoingRequest, frozen: Any, region: str, clock: Clock) -> dict[str, str]:
    """The SigV4 headers for `request`, computed by botocore's signer at the clock's time
    (what `SigV4Auth.add_auth` does, with the runner's clock instead of the wall clock)."""
    from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
    from botocore.awsrequest import AWSRequest

    stamp = clock().strftime(SIGV4_TIMESTAMP)
    aws_request = AWSRequest(
        method=request.method, url=request.url, data=request.body, headers=dict(request.headers)
    )
    aws_request.context["timestamp"] = stamp
    added = {"x-amz-date": stamp}
    if frozen.token:
        added["x-amz-security-token"] = frozen.token
    for name, value in added.items():
        aws_request.headers[name] = value
    signer = SigV4Auth(frozen, SIGNING_SERVICE, region)
    canonical = signer.canonical_request(aws_request)
    signature = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
    signed = signer.signed_headers(signer.headers_to_sign(aws_request))
    added["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(aws_request)}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return added


# --- the stream --------------------------------------------------------------------------


class ConverseStreamDecoder(FramedDecoder[Frame]):
    """`messageStart`, `contentBlockStart`/`Delta`/`Stop`, `messageStop` (the stop reason),
    then `metadata` (usage): the stream ends after both. An exception message
    (`throttlingException`, `modelStreamErrorException`...) may come instead."""

    def __init__(self) -> None:
        super().__init__(EventStreamDecoder())
        self._stop_reason: str | None = None
        self._stopped = False

    def close(self) -> list[StreamEvent]:
        events = super().close()
        if self._stopped and not self._done:  # messageStop came, metadata never did
            self._done = True
            events.append(self._end(None))
        return events

    def _frame(self, frame: Frame) -> list[StreamEvent]:
        if isinstance(frame, Malformed):
            self._done = True
            return [StreamFailure(malformed=frame.reason)]
        kind = frame.header(":message-type") or "event"
        if kind != "event":
            self._done = True
            return [StreamFailure(error=_exception(frame))]
        try:
            payload = as_object(load_json(frame.payload)) or {}
        except ValueError:
            self._done = True
            return [StreamFailure(malformed="an event's payload is not JSON")]
        event = frame.header(":event-type")
        if event == "contentBlockDelta":
            return _delta_tokens(as_object(payload.get("delta")) or {})
        if event == "messageStop":
            self._stop_reason = text(payload.get("stopReason"))
            self._stopped = True
            return []
        if event == "metadata" and self._stopped:
            self._done = True
            return [self._end(integer(path(payload, "usage", "outputTokens")))]
        return []

    def _end(self, output_tokens: int | None) -> StreamEnd:
        return StreamEnd(
            finish_reason=self._stop_reason,
            output_tokens=output_tokens,
            filtered=self._stop_reason in _FILTER_STOPS,
        )


def _delta_tokens(delta: JsonObject) -> list[StreamEvent]:
    reasoning = len(text(path(delta, "reasoningContent", "text")) or "")
    if reasoning:
        return [StreamToken(chars=reasoning, reasoning=True)]
    answer = len(text(delta.get("text")) or "")
    return [StreamToken(chars=answer)] if answer else []


def _exception(frame: EventMessage) -> ProviderError:
    """An exception message, read like the same exception outside a stream."""
    name = frame.header(":exception-type") or frame.header(":error-code")
    try:
        payload = as_object(load_json(frame.payload)) or {}
    except ValueError:
        payload = {}
    message = text(payload.get("message")) or text(payload.get("Message"))
    message = message or frame.header(":error-message")
    return ProviderError(
        type=name,
        message=clean_message(message),
        status=_EXCEPTION_STATUS.get((name or "").lower()),
    )
