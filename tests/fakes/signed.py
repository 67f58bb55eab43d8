"""Loopback fakes of APIs that authenticate otherwise than with one static key.

`FakeSignedOpenAI` speaks the OpenAI wire format but takes no key: every request must carry
an HMAC signature (the `MA-HMAC` scheme below, in the spirit of AWS SigV4: a key id, a date,
and a signature over the method, the request target, the host, the date and the body's
hash). The fake recomputes the signature itself from the bytes it received, with the
secret it was given, and never calls modelaudit's code, so a test proves what went over the
wire, not that our signer agrees with itself.

`TokenServer` hands out short-lived bearer tokens (OAuth's client-credentials grant, as a
service account's token endpoint does), and `FakeTokenOpenAI` accepts only the tokens it
issued.

    MA-HMAC:  x-ma-date: 20261130T120000Z
              authorization: MA-HMAC key_id=<id>, signature=<hex>
              signed string: method \\n target \\n host \\n date \\n sha256(body) [\\n session]
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from typing import Any

from tests.fakes.http import FakeServer, Reply, Request, json_reply
from tests.fakes.openai import FakeOpenAI

SCHEME = "MA-HMAC"
DATE_HEADER = "x-ma-date"
SESSION_HEADER = "x-ma-session"


def string_to_sign(request: Request) -> str:
    """What the client must have signed, read from the request as the server received it."""
    parts = [
        request.method,
        request.target,
        request.headers.get("host", ""),
        request.headers.get(DATE_HEADER, ""),
        hashlib.sha256(request.body).hexdigest(),
    ]
    if SESSION_HEADER in request.headers:
        parts.append(request.headers[SESSION_HEADER])
    return "\n".join(parts)


class FakeSignedOpenAI(FakeOpenAI):
    """An OpenAI-compatible API that authenticates each request by its MA-HMAC signature.

    `keys` maps a key id to its secret; `date`, when set, is the only `x-ma-date` accepted
    (a test with a fixed clock); `session`, when set, must come in `x-ma-session`.
    `verified` and `rejected` count what the fake saw."""

    list_needs_auth = True

    def __init__(
        self,
        *,
        keys: dict[str, str],
        date: str | None = None,
        session: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.keys = keys
        self.date = date
        self.session = session
        self.verified: list[Request] = []
        self.rejected: list[tuple[Request, str]] = []
        self._count_lock = threading.Lock()

    def check_auth(self, request: Request) -> Reply | None:
        problem = self._problem(request)
        with self._count_lock:
            if problem is None:
                self.verified.append(request)
            else:
                self.rejected.append((request, problem))
        if problem is None:
            return None
        return json_reply(
            {
                "error": {
                    "message": problem,
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            status=401,
        )

    def _problem(self, request: Request) -> str | None:
        scheme, _, fields = request.headers.get("authorization", "").partition(" ")
        if scheme != SCHEME:
            return "no MA-HMAC authorization"
        values = dict(part.strip().partition("=")[::2] for part in fields.split(","))
        secret = self.keys.get(values.get("key_id", ""))
        if secret is None:
            return "unknown key id"
        if self.date is not None and request.headers.get(DATE_HEADER) != self.date:
            return f"the date is not {self.date}"
        received = request.headers.get(SESSION_HEADER)
        if self.session is not None and received != self.session:
            # As careless servers do: the error echoes what it was sent.
            return f"the session token {received!r} is not the one issued"
        expected = hmac.new(
            secret.encode(), string_to_sign(request).encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, values.get("signature", "")):
            return "the signature does not match"
        return None


class TokenServer:
    """A token endpoint: `POST /token` with `client_id` and `client_secret` (form-encoded)
    answers `{"access_token": "tok-N", "expires_in": lifetime_s, "token_type": "Bearer"}`."""

    def __init__(self, *, client_id: str, client_secret: str, lifetime_s: int = 3600) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.lifetime_s = lifetime_s
        self.issued: list[str] = []
        self._numbers = itertools.count(1)
        self.server = FakeServer()
        self.server.route("POST", "/token", self._token)

    def _token(self, request: Request) -> Reply:
        from urllib.parse import parse_qs

        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return json_reply({"error": "invalid_client"}, status=401)
        token = f"tok-{next(self._numbers)}"
        self.issued.append(token)
        return Reply(
            headers={"content-type": "application/json"},
            body=json.dumps(
                {"access_token": token, "expires_in": self.lifetime_s, "token_type": "Bearer"}
            ).encode(),
        )

    @property
    def url(self) -> str:
        return f"{self.server.url}/token"

    def __enter__(self) -> TokenServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


class FakeTokenOpenAI(FakeOpenAI):
    """An OpenAI-compatible API that accepts a bearer token only if `tokens` issued it."""

    list_needs_auth = True

    def __init__(self, *, tokens: TokenServer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = tokens
        self.seen: list[str] = []

    def check_auth(self, request: Request) -> Reply | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        self.seen.append(token)
        if scheme.lower() == "bearer" and token in self.tokens.issued:
            return None
        return self.error_reply("auth_failed")
