"""Google Vertex AI on loopback: an OAuth token endpoint and the Vertex API behind it.

`GoogleTokenServer` is `oauth2.googleapis.com/token`: it grants a bearer token for a
service account's signed JWT assertion (`grant_type=urn:ietf:params:oauth:grant-type:
jwt-bearer`), checking the RS256 signature itself with the account's public key
(`cryptography`, never modelaudit's or google-auth's code), the audience and the scope;
and for an authorized user's refresh token (`grant_type=refresh_token`). Tokens live
`lifetime_s`; `issued` lists them in order.
`service_account_file` writes a key file whose `token_uri` points at it.

`FakeVertex` serves one project and location, `Authorization: Bearer` with a token the
token server issued (else 401 UNAUTHENTICATED):

* `publishers/google/models/{m}:generateContent` / `:streamGenerateContent` (FakeGemini's
  rendering: Vertex and the Gemini API answer alike);
* `publishers/anthropic/models/{m}:rawPredict` / `:streamRawPredict` (FakeAnthropic's, the
  model in the path, `anthropic_version: vertex-2023-10-16` required in the body);
* `publishers/mistralai/models/{m}:rawPredict` / `:streamRawPredict` and
  `endpoints/openapi/chat/completions` (FakeOpenAI's chat completions).

Script a model with `fake.behave(id, ...)` whichever publisher serves it; unknown models
get Vertex's 404 "Publisher Model ... was not found".
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.base import Behaviour, ErrorSpec, FamilyFake, GenerationKind, Model
from tests.fakes.gemini import GEMINI_ERRORS, FakeGemini, g_error
from tests.fakes.http import FakeServer, Reply, Request, json_reply
from tests.fakes.openai import FakeOpenAI

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
"""The audience a service account's assertion names (google-auth sends it whatever the
file's `token_uri`; Google's endpoint accepts it)."""

VERTEX_ERRORS: Mapping[str, ErrorSpec] = {
    "model_not_found": ErrorSpec(
        404,
        g_error(
            404,
            "NOT_FOUND",
            "Publisher Model `{model}` was not found or your project does not have access to "
            "it. Please ensure you are using a valid model version. For more information, see: "
            "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions",
        ),
        "model_not_found",
        "google-gemini/gemini-cli#15498 and litellm reports (tests/corpus/vertex.yaml)",
    ),
    "auth_failed": ErrorSpec(
        401,
        g_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED",
                    "domain": "googleapis.com",
                    "metadata": {"service": "aiplatform.googleapis.com"},
                }
            ],
        ),
        "auth_failed",
        "Google APIs' 401 for a token they did not issue",
    ),
    "rate_limited": ErrorSpec(
        429,
        g_error(
            429,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for aiplatform.googleapis.com/"
            "online_prediction_requests_per_base_model with base model: {model}. "
            "Please submit a quota increase request. "
            "https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.",
        ),
        "rate_limited",
        "cline/cline#651 (tests/corpus/vertex.yaml)",
    ),
    "access_denied": ErrorSpec(
        403,
        g_error(
            403,
            "PERMISSION_DENIED",
            "Permission 'aiplatform.endpoints.predict' denied on resource "
            "'//aiplatform.googleapis.com/{model}' (or it may not exist).",
        ),
        "access_denied",
        "rpurinton/gemini-php#2 (tests/corpus/vertex.yaml)",
    ),
    "not_enabled": ErrorSpec(
        400,
        g_error(
            400,
            "FAILED_PRECONDITION",
            "Project `{project}` is not allowed to use Publisher Model `{model}`",
        ),
        "access_denied",
        "yym68686/uni-api#41 (tests/corpus/vertex.yaml)",
    ),
}


# --- the token endpoint -------------------------------------------------------------------


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_account_file(
    path: Path,
    key: rsa.RSAPrivateKey,
    token_uri: str,
    *,
    client_email: str = "prober@probe-project.iam.gserviceaccount.com",
    project_id: str = "probe-project",
) -> Path:
    """A service-account key file as the Cloud console downloads it."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem,
        "client_email": client_email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "universe_domain": "googleapis.com",
    }
    path.write_text(json.dumps(info, indent=2))
    return path


class GoogleTokenServer:
    """`POST /token` for service accounts (a JWT it verifies) and authorized users."""

    def __init__(
        self,
        *,
        accounts: Mapping[str, rsa.RSAPublicKey] | None = None,
        users: Mapping[str, tuple[str, str]] | None = None,
        lifetime_s: int = 3600,
        prefix: str = "ya29.fake-token-",
    ) -> None:
        self.prefix = prefix
        """Token N is `{prefix}N`."""
        self.accounts = dict(accounts or {})
        """client_email -> public key."""
        self.users = dict(users or {})
        """refresh_token -> (client_id, client_secret)."""
        self.lifetime_s = lifetime_s
        self.issued: list[str] = []
        self.refused: list[str] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self.server = FakeServer()
        self.server.route("POST", "/token", self._token)

    @property
    def url(self) -> str:
        return f"{self.server.url}/token"

    def __enter__(self) -> GoogleTokenServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def _token(self, request: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        grant = form.get("grant_type")
        if grant == JWT_GRANT:
            problem = self._assertion_problem(form.get("assertion", ""))
        elif grant == "refresh_token":
            expected = self.users.get(form.get("refresh_token", ""))
            given = (form.get("client_id", ""), form.get("client_secret", ""))
            problem = None if expected == given else "Token has been expired or revoked."
        else:
            problem = f"unsupported grant_type {grant!r}"
        if problem is not None:
            with self._lock:
                self.refused.append(problem)
            return json_reply({"error": "invalid_grant", "error_description": problem}, status=400)
        with self._lock:
            token = f"{self.prefix}{next(self._numbers)}"
            self.issued.append(token)
        body = {"access_token": token, "expires_in": self.lifetime_s, "token_type": "Bearer"}
        return json_reply(body)

    def _assertion_problem(self, assertion: str) -> str | None:
        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(payload_b64))
            signature = _b64url_decode(signature_b64)
        except ValueError:
            return "Invalid JWT: not three base64url JSON parts"
        if header.get("alg") != "RS256":
            return "Invalid JWT: alg is not RS256"
        key = self.accounts.get(claims.get("iss", ""))
        if key is None:
            return "Invalid JWT: unknown issuer"
        try:
            key.verify(
                signature,
                f"{header_b64}.{payload_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:  # cryptography's InvalidSignature
            return "Invalid JWT Signature."
        if claims.get("aud") not in (GOOGLE_TOKEN_AUDIENCE, self.url):
            return f"Invalid JWT: aud is not {GOOGLE_TOKEN_AUDIENCE}"
        if SCOPE not in str(claims.get("scope", "")).split():
            return "Invalid JWT: the cloud-platform scope is missing"
        now = time.time()
        if not claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0):
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
        return None


# --- the API ------------------------------------------------------------------------------


class _Publisher(FamilyFake):
    """What the publishers' fakes share: rendered through FakeVertex's routes (they never
    start a server of their own), its tokens, Vertex's errors."""

    family = "vertex"

    def __init__(self, outer: FakeVertex, models: Sequence[str | Model]) -> None:
        self.outer = outer
        super().__init__(models=models)
        self.library.update(VERTEX_ERRORS)

    def install_routes(self) -> None:
        pass

    def check_auth(self, request: Request) -> Reply | None:
        return self.outer.check_auth(request)


class _VertexClaude(_Publisher, FakeAnthropic):
    def validate(self, request: Request, body: dict[str, Any], stream: bool) -> Reply | None:
        if body.get("anthropic_version") != VERTEX_ANTHROPIC_VERSION:
            message = f"anthropic_version: Input should be '{VERTEX_ANTHROPIC_VERSION}'"
            return json_reply(g_error(400, "INVALID_ARGUMENT", message), status=400)
        if "model" in body:
            message = "model: Extra inputs are not permitted"
            return json_reply(g_error(400, "INVALID_ARGUMENT", message), status=400)
        return super().validate(request, body, stream)

    def served_name(self, model_id: str) -> str:
        # Vertex answers claude-sonnet-4-5@20250929 as claude-sonnet-4-5-20250929.
        return super().served_name(model_id).replace("@", "-")


class _VertexChat(_Publisher, FakeOpenAI):
    pass


class FakeVertex(FakeGemini):
    """One project and location of Vertex AI; `base_url` is the host root."""

    family = "vertex"
    ERRORS: ClassVar[Mapping[str, ErrorSpec]] = {**GEMINI_ERRORS, **VERTEX_ERRORS}

    def __init__(
        self,
        *,
        tokens: GoogleTokenServer,
        project: str = "probe-project",
        location: str = "us-central1",
        models: Sequence[str | Model] = (),
    ) -> None:
        self.tokens = tokens
        self.project = project
        self.location = location
        self.seen_tokens: list[str] = []
        split = {"gemini": [], "claude": [], "chat": []}  # type: dict[str, list[str | Model]]
        for model in models:
            split[_publisher_of(Model.of(model).id)].append(model)
        super().__init__(models=split["gemini"])
        self.claude = _VertexClaude(self, split["claude"])
        self.chat = _VertexChat(self, split["chat"])

    @property
    def root(self) -> str:
        return f"/v1/projects/{self.project}/locations/{self.location}"

    def install_routes(self) -> None:
        google = f"{self.root}/publishers/google/models"
        for action in ("generateContent", "streamGenerateContent"):
            self.server.route("POST", f"{google}/{{model}}:{action}", self._serve_action)
        for action in ("rawPredict", "streamRawPredict"):
            self.server.route(
                "POST", f"{self.root}/publishers/anthropic/models/{{model}}:{action}", self._claude
            )
            self.server.route(
                "POST", f"{self.root}/publishers/mistralai/models/{{model}}:{action}", self._mistral
            )
        self.server.route("POST", f"{self.root}/endpoints/openapi/chat/completions", self._openapi)

    def check_auth(self, request: Request) -> Reply | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            self.seen_tokens.append(token)
        if scheme.lower() == "bearer" and token in self.tokens.issued:
            return None
        return self.error_reply("auth_failed")

    def behave(
        self,
        model_id: str,
        behaviour: Behaviour | Sequence[Behaviour],
        *,
        on: GenerationKind = "any",
    ) -> None:
        target: FamilyFake = {"gemini": self, "claude": self.claude, "chat": self.chat}[
            _publisher_of(model_id)
        ]
        if target is self:
            super().behave(model_id, behaviour, on=on)
        else:
            target.behave(model_id, behaviour, on=on)

    def _claude(self, request: Request) -> Reply:
        model, _, action = request.path.rsplit("/models/", 1)[-1].partition(":")
        return self.claude.serve_generation(request, model, action == "streamRawPredict")

    def _mistral(self, request: Request) -> Reply:
        model, _, action = request.path.rsplit("/models/", 1)[-1].partition(":")
        return self.chat.serve_generation(
            request, f"mistralai/{model}", action.startswith("stream")
        )

    def _openapi(self, request: Request) -> Reply:
        try:
            stream = request.json().get("stream") is True
        except (ValueError, AttributeError):
            stream = False
        return self.chat.serve_generation(request, None, stream)


def _publisher_of(model_id: str) -> str:
    if "/" in model_id:
        return "chat"
    return "claude" if model_id.startswith("claude") else "gemini"
