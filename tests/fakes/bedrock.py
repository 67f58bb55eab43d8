"""AWS Bedrock: the control plane's model catalog and the runtime's Converse API on one
loopback server, every request authenticated by its SigV4 signature.

    fake = FakeBedrock(keys={"AKIDEXAMPLE": "secret"}, models=[
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        Model("anthropic.claude-3-sonnet-20240229-v1:0",
              modelLifecycle={"status": "LEGACY", "endOfLifeTime": 1767225600}),
    ], profiles={"us.anthropic.claude-sonnet-4-5-20250929-v1:0":
                 "anthropic.claude-sonnet-4-5-20250929-v1:0"})

* `GET /foundation-models` → `{"modelSummaries": [...]}` (each with `modelLifecycle`; a
  Model's keyword fields go into its summary), `GET /foundation-models/{id}` →
  `{"modelDetails": {...}}`; `GET /inference-profiles?maxResults=&nextToken=` →
  `{"inferenceProfileSummaries", "nextToken"}` (paged by `page_size`),
  `GET /inference-profiles/{id}`.
* `POST /model/{id}/converse` (JSON) and `/converse-stream` (AWS event-stream frames,
  encoded here: prelude, headers, payload, CRC32s; an error mid-stream is a
  `:message-type: exception` message).
* The signature is recomputed here from the bytes received (AWS's SigV4 specification,
  this module's own HMAC code: never modelaudit's or botocore's signer), with the secret of
  the access key named in the `Credential=` scope; `date`, when set, is the only
  `x-amz-date` accepted, and `session_token`, when set, must come in
  `x-amz-security-token`. `verified` and `rejected` record what the fake saw.
* `truncated_stream(...)` and `bad_crc_stream(...)` are replies for `Behaviour.raw`.

`base_url` is `http://127.0.0.1:PORT` (control and runtime share it; `region:` names the
region the signature must be scoped to).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import threading
import zlib
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, unquote

from tests.fakes.base import ErrorSpec, FamilyFake, Frame, GenContext, Model, StreamPlan
from tests.fakes.http import Reply, Request, json_reply

__all__ = ["BEDROCK_ERRORS", "FakeBedrock", "event_message"]

REGION = "us-east-1"
SERVICE = "bedrock"
ALGORITHM = "AWS4-HMAC-SHA256"
EVENT_STREAM = "application/vnd.amazon.eventstream"


def aws_error(type_: str, message: str, status: int, source: str, expected: str) -> ErrorSpec:
    """An AWS JSON error: `{"message"}` with the exception named in `x-amzn-ErrorType`."""
    return ErrorSpec(
        status,
        {"message": message},
        expected,
        source,
        headers={
            "x-amzn-errortype": f"{type_}:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "x-amzn-requestid": "{request_id}",
        },
    )


_REF = "reference §5.2"
_SHAPES = "botocore data bedrock-runtime service-2.json error shapes"
BEDROCK_ERRORS: Mapping[str, ErrorSpec] = {
    "model_not_found": aws_error(
        "ValidationException",
        "The provided model identifier is invalid.",
        400,
        _REF,
        "model_not_found",
    ),
    "end_of_life": aws_error(
        "ResourceNotFoundException",
        "This model version has reached the end of its life. Please refer to the AWS "
        "documentation for more details.",
        404,
        _REF,
        "model_deprecated",
    ),
    "end_of_life_validation": aws_error(
        "ValidationException",
        "The model {model} has reached the end of its life and is no longer available.",
        400,
        "issue 17 (the ValidationException form of the end-of-life message)",
        "model_deprecated",
    ),
    "legacy_denied": aws_error(
        "ResourceNotFoundException",
        "Access denied. This Model is marked by provider as Legacy and you have not been "
        "actively using the model in the last 15 days. Please upgrade to an active model on "
        "Amazon Bedrock",
        404,
        "aws-samples/amazon-bedrock-workshop#386",
        "model_deprecated",
    ),
    "access_denied": aws_error(
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
        403,
        "aws-samples/sample-agentic-frameworks-on-aws#44 (Converse)",
        "access_denied",
    ),
    "region_blocked": aws_error(
        "ValidationException",
        "Access to Anthropic models is not allowed from unsupported countries, regions, or "
        "territories. Please refer to https://www.anthropic.com/supported-countries for more "
        "information on the countries and regions Anthropic currently supports.",
        400,
        _REF,
        "access_denied",
    ),
    "auth_failed": aws_error(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        403,
        _REF,
        "auth_failed",
    ),
    "bad_signature": aws_error(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.",
        403,
        "AWS SigV4 error responses (InvalidSignatureException)",
        "auth_failed",
    ),
    "rate_limited": aws_error(
        "ThrottlingException",
        "Too many requests, please wait before trying again.",
        429,
        _REF,
        "rate_limited",
    ),
    "overloaded": aws_error(
        "ServiceUnavailableException",
        "Bedrock is unable to process your request.",
        503,
        _REF,
        "overloaded",
    ),
    "model_not_ready": aws_error(
        "ModelNotReadyException",
        "Model is not ready to serve inference requests. The AWS SDK will automatically "
        "retry the operation up to 5 times.",
        429,
        _REF,
        "overloaded",
    ),
    "server_error": aws_error(
        "InternalServerException",
        "The server encountered an internal error while processing the request.",
        500,
        _REF,
        "server_error",
    ),
    "model_error": aws_error(
        "ModelErrorException",
        "The model returned an error while processing the request.",
        424,
        _SHAPES,
        "server_error",
    ),
    "bad_request": aws_error(
        "ValidationException",
        "Malformed input request, please reformat your input and try again.",
        400,
        _SHAPES,
        "bad_request",
    ),
    "not_found_route": ErrorSpec(
        404,
        None,
        "bad_request",
        "aws-samples/aws-genai-llm-chatbot#270 (ListFoundationModels: UnknownOperationException)",
        headers={"x-amzn-errortype": "UnknownOperationException"},
        raw_body="<UnknownOperationException/>",
    ),
}

# The stream's exception messages: `:exception-type` (lower camel case, as the stream
# names them) and the payload.
_STREAM_EXCEPTION = {
    "rate_limited": "throttlingException",
    "overloaded": "serviceUnavailableException",
    "server_error": "internalServerException",
    "model_error": "modelStreamErrorException",
    "bad_request": "validationException",
    "end_of_life_validation": "validationException",
    "access_denied": "accessDeniedException",
}


def event_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers (type 7), both CRC32s correct."""
    block = b"".join(
        bytes([len(name)])
        + name.encode()
        + b"\x07"
        + struct.pack(">H", len(value))
        + value.encode()
        for name, value in ((n, str(v)) for n, v in headers.items())
    )
    total = 12 + len(block) + len(payload) + 4
    prelude = struct.pack(">II", total, len(block))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + block + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _event(kind: str, payload: Mapping[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return event_message(headers, json.dumps(payload, separators=(",", ":")).encode())


def exception_message(kind: str, message: str) -> bytes:
    headers = {
        ":exception-type": kind,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return event_message(headers, json.dumps({"message": message}).encode())


def _uri_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_uri(raw_path: str) -> str:
    """SigV4 for services other than S3: each segment of the path as sent, encoded again."""
    return "/".join(_uri_encode(segment) for segment in raw_path.split("/"))


def canonical_query(raw_query: str) -> str:
    pairs = []
    for pair in raw_query.split("&") if raw_query else []:
        name, _, value = pair.partition("=")
        pairs.append((_uri_encode(unquote(name)), _uri_encode(unquote(value))))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def _hmac(key: bytes, data: str) -> bytes:
    return hmac.new(key, data.encode(), hashlib.sha256).digest()


def signature_of(request: Request, secret: str, scope: str, signed: list[str]) -> str:
    """The signature a client holding `secret` must have sent for `request`."""
    raw_path, _, raw_query = request.target.partition("?")
    headers = "".join(
        f"{name}:{' '.join(request.headers.get(name, '').split())}\n" for name in signed
    )
    canonical = "\n".join(
        [
            request.method,
            canonical_uri(raw_path),
            canonical_query(raw_query),
            headers,
            ";".join(signed),
            hashlib.sha256(request.body).hexdigest(),
        ]
    )
    stamp = request.headers.get("x-amz-date", "")
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    day, region, service, terminal = scope.split("/")
    key = _hmac(f"AWS4{secret}".encode(), day)
    for part in (region, service, terminal):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class FakeBedrock(FamilyFake):
    family = "bedrock"
    ERRORS: ClassVar[Mapping[str, ErrorSpec]] = BEDROCK_ERRORS

    def __init__(
        self,
        *,
        keys: Mapping[str, str] | None = None,
        region: str = REGION,
        date: str | None = None,
        session_token: str | None = None,
        profiles: Mapping[str, str] | None = None,
        page_size: int = 1000,
        **kwargs: Any,
    ) -> None:
        self.keys = dict(keys or {})
        """Access key id → secret access key. Empty: any signature-shaped request passes."""
        self.region = region
        self.date = date
        self.session_token = session_token
        self.profiles = dict(profiles or {})
        """Inference profile id → the foundation model id it routes to."""
        self.page_size = page_size
        self.verified: list[Request] = []
        self.rejected: list[tuple[Request, str]] = []
        self._count_lock = threading.Lock()
        super().__init__(**kwargs)

    def install_routes(self) -> None:
        self.server.route("GET", "/foundation-models", self.serve_catalog)
        self.server.route("GET", "/foundation-models/{model}", self._serve_one_model)
        self.server.route("GET", "/inference-profiles", self._serve_profiles)
        self.server.route("GET", "/inference-profiles/{profile}", self._serve_one_profile)
        self.server.route("POST", "/model/{model}/converse", self._serve_converse)
        self.server.route("POST", "/model/{model}/converse-stream", self._serve_converse_stream)

    def is_generation(self, request: Request) -> bool:
        return request.method == "POST" and request.path.startswith("/model/")

    def model_of(self, request: Request) -> str | None:
        parts = request.path.split("/")
        return unquote(parts[2]) if len(parts) > 3 and parts[1] == "model" else None

    # -- the signature

    def check_auth(self, request: Request) -> Reply | None:
        problem, error = self._problem(request)
        with self._count_lock:
            if problem is None:
                self.verified.append(request)
            else:
                self.rejected.append((request, problem))
        return None if error is None else self.error_reply(error)

    def _problem(self, request: Request) -> tuple[str | None, str | None]:
        algorithm, _, fields = request.headers.get("authorization", "").partition(" ")
        if algorithm != ALGORITHM:
            return "no SigV4 authorization", "auth_failed"
        values = dict(part.strip().partition("=")[::2] for part in fields.split(","))
        key_id, _, scope = values.get("Credential", "").partition("/")
        signed = values.get("SignedHeaders", "").split(";")
        secret = self.keys.get(key_id)
        if secret is None:
            return f"unknown access key {key_id!r}", "auth_failed"
        stamp = request.headers.get("x-amz-date", "")
        if self.date is not None and stamp != self.date:
            return f"the date is not {self.date}", "bad_signature"
        if scope != f"{stamp[:8]}/{self.region}/{SERVICE}/aws4_request":
            return f"the scope {scope!r} is not this region's and date's", "bad_signature"
        if "host" not in signed or signed != sorted(signed):
            return "the signed headers must include host, sorted", "bad_signature"
        token = request.headers.get("x-amz-security-token")
        if self.session_token is not None and (
            token != self.session_token or "x-amz-security-token" not in signed
        ):
            return "the session token is missing or not the one issued", "auth_failed"
        expected = signature_of(request, secret, scope, signed)
        if not hmac.compare_digest(expected, values.get("Signature", "")):
            return "the signature does not match", "bad_signature"
        return None, None

    # -- catalog

    def summary(self, model: Model) -> dict[str, Any]:
        provider = model.id.split(".", 1)[0]
        summary: dict[str, Any] = {
            "modelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model.id}",
            "modelId": model.id,
            "modelName": model.id,
            "providerName": provider.capitalize(),
            "inputModalities": ["TEXT"],
            "outputModalities": ["TEXT"],
            "responseStreamingSupported": True,
            "customizationsSupported": [],
            "inferenceTypesSupported": ["ON_DEMAND"],
            "modelLifecycle": {"status": "ACTIVE"},
        }
        summary.update(model.meta)
        return summary

    def catalog_reply(self, request: Request) -> Reply:
        listed = [self.summary(m) for m in self.models.values() if m.listed]
        return json_reply({"modelSummaries": listed}, headers=self._headers())

    def _serve_one_model(self, request: Request) -> Reply:
        return self.serve_retrieve(request, request.path_params["model"])

    def retrieve_reply(self, model: Model) -> Reply:
        return json_reply({"modelDetails": self.summary(model)}, headers=self._headers())

    def retrieve_not_found(self, model_id: str) -> Reply:
        return self.render_error(
            aws_error(
                "ResourceNotFoundException",
                "The specified model does not exist",  # GetFoundationModel's, per botocore docs
                404,
                _SHAPES,
                "model_not_found",
            ),
            model=model_id,
        )

    def profile_summary(self, profile_id: str) -> dict[str, Any]:
        model_id = self.profiles[profile_id]
        geography = profile_id.split(".", 1)[0]
        regions = {"us": ["us-east-1", "us-east-2", "us-west-2"], "eu": ["eu-central-1"]}
        return {
            "inferenceProfileName": f"{geography.upper()} {model_id}",
            "inferenceProfileArn": (
                f"arn:aws:bedrock:{self.region}:123456789012:inference-profile/{profile_id}"
            ),
            "inferenceProfileId": profile_id,
            "models": [
                {"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}"}
                for region in regions.get(geography, [self.region])
            ],
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
        }

    def _serve_profiles(self, request: Request) -> Reply:
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        ids = sorted(self.profiles)
        start = int(request.query_value("nextToken") or "0")
        limit = min(self.page_size, int(request.query_value("maxResults") or "1000"))
        body: dict[str, Any] = {
            "inferenceProfileSummaries": [self.profile_summary(i) for i in ids[start:][:limit]]
        }
        if start + limit < len(ids):
            body["nextToken"] = str(start + limit)
        return json_reply(body, headers=self._headers())

    def _serve_one_profile(self, request: Request) -> Reply:
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        profile_id = request.path_params["profile"]
        if profile_id not in self.profiles:
            return self.error_reply("model_not_found", model=profile_id)
        return json_reply(self.profile_summary(profile_id), headers=self._headers())

    def canonical_model(self, model_id: str) -> str:
        return self.profiles.get(model_id, model_id)

    # -- generation

    def _serve_converse(self, request: Request) -> Reply:
        return self.serve_generation(request, request.path_params["model"], stream=False)

    def _serve_converse_stream(self, request: Request) -> Reply:
        return self.serve_generation(request, request.path_params["model"], stream=True)

    def validate(self, request: Request, body: dict[str, Any], stream: bool) -> Reply | None:
        if not isinstance(body.get("messages"), list):
            return self.error_reply("bad_request", message="messages: required")
        max_tokens = self.max_tokens_of(body)
        if max_tokens is not None and max_tokens < 1:
            return self.error_reply("bad_request")
        return None

    def max_tokens_of(self, body: dict[str, Any]) -> int | None:
        config = body.get("inferenceConfig")
        value = config.get("maxTokens") if isinstance(config, dict) else None
        return value if isinstance(value, int) else None

    def stop_reason(self, ctx: GenContext) -> str:
        return {"stop": "end_turn", "length": "max_tokens", "filter": "guardrail_intervened"}[
            ctx.finish
        ]

    def usage(self, ctx: GenContext) -> dict[str, int]:
        return {
            "inputTokens": ctx.prompt_tokens,
            "outputTokens": ctx.output_tokens,
            "totalTokens": ctx.prompt_tokens + ctx.output_tokens,
        }

    def completion_reply(self, ctx: GenContext) -> Reply:
        content: list[dict[str, Any]] = []
        if ctx.reasoning_pieces:
            content.append({"reasoningContent": {"reasoningText": {"text": ctx.reasoning}}})
        if ctx.text:
            content.append({"text": ctx.text})
        body = {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": self.stop_reason(ctx),
            "usage": self.usage(ctx),
            "metrics": {"latencyMs": 120},
        }
        return json_reply(body, headers=self._headers(ctx.seq))

    def stream_plan(self, ctx: GenContext) -> StreamPlan:
        frames = [Frame(_event("messageStart", {"role": "assistant"}), "head")]
        for piece in ctx.reasoning_pieces:
            delta = {"reasoningContent": {"text": piece}}
            frames.append(
                Frame(_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": delta}))
            )
        for piece in ctx.pieces:
            block = {
                "contentBlockIndex": 1 if ctx.reasoning_pieces else 0,
                "delta": {"text": piece},
            }
            frames.append(Frame(_event("contentBlockDelta", block)))
        frames.append(Frame(_event("contentBlockStop", {"contentBlockIndex": 0}), "end"))
        frames.append(Frame(_event("messageStop", {"stopReason": self.stop_reason(ctx)}), "end"))
        metadata = {"usage": self.usage(ctx), "metrics": {"latencyMs": 120}}
        frames.append(Frame(_event("metadata", metadata), "end"))
        headers = {"content-type": EVENT_STREAM, **self._headers(ctx.seq)}
        return StreamPlan(frames=frames, headers=headers)

    def stream_error_frame(
        self, spec: ErrorSpec, model: str, plan: StreamPlan | None = None
    ) -> bytes:
        name = next(n for n, s in self.library.items() if s is spec)
        kind = _STREAM_EXCEPTION.get(name, "internalServerException")
        message = spec.body.get("message", "") if isinstance(spec.body, dict) else ""
        return exception_message(kind, message.replace("{model}", model))

    def malformed_frame(self) -> bytes:
        """A message whose payload is not JSON (the framing itself is sound)."""
        headers = {":event-type": "contentBlockDelta", ":message-type": "event"}
        return event_message(headers, b'{"contentBlockIndex":0,"delta":{"te')

    def _headers(self, seq: int = 0) -> dict[str, str]:
        return {"x-amzn-requestid": f"00000000-fake-4000-8000-{seq:012d}"}


def _ok_frames() -> list[bytes]:
    return [
        _event("messageStart", {"role": "assistant"}),
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "ok"}}),
    ]


def truncated_stream() -> Reply:
    """A 200 stream whose body ends half-way through an event-stream message."""
    cut = _event("messageStop", {"stopReason": "end_turn"})
    return Reply(
        headers={"content-type": EVENT_STREAM},
        chunks=[(0.0, frame) for frame in _ok_frames()] + [(0.0, cut[: len(cut) // 2])],
    )


def bad_crc_stream() -> Reply:
    """A 200 stream one of whose messages has a message CRC that does not match."""
    broken = bytearray(
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "!"}})
    )
    broken[-1] ^= 0xFF
    stop = _event("messageStop", {"stopReason": "end_turn"})
    return Reply(
        headers={"content-type": EVENT_STREAM},
        chunks=[(0.0, frame) for frame in [*_ok_frames(), bytes(broken), stop]],
    )
