"""Test-only families whose credential is not one static key, built on the family interface
exactly as a real one would be (docs/extending.md, "A family that signs").

`HmacTestFamily` (`api: hmac-test`) signs every request with the MA-HMAC scheme that
`tests.fakes.signed.FakeSignedOpenAI` checks, from a credential of several parts; its API
is split across two hosts (the catalog on a control host, generations on `base_url`), as
Bedrock's is. `TokenTestFamily` (`api: token-test`) fetches a short-lived bearer token from
a token endpoint with the vendor SDK's "default chain" (here: two environment variables it
reads itself) or from a named profile of its own configuration file, keeps it for the run
and fetches another when the clock says it expired.
Both speak the OpenAI wire format otherwise. Register one for a test with
`monkeypatch.setitem(FAMILIES, family.name, family)`.
"""

from __future__ import annotations

import asyncio
import configparser
import hashlib
import hmac
import json
import os
import urllib.parse
import urllib.request
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from modelaudit.families.base import (
    Authorizer,
    CatalogPage,
    CredentialForms,
    HttpRequest,
    HttpResponse,
)
from modelaudit.families.openai import OpenAIFamily
from modelaudit.redact import register_secret

if TYPE_CHECKING:
    from collections.abc import Mapping

    from modelaudit.families.base import Clock, Credential, OutgoingRequest
    from modelaudit.registry.schema import ProviderSpec


class HmacTestFamily(OpenAIFamily):
    name: ClassVar[str] = "hmac-test"
    credential_forms: ClassVar[CredentialForms] = CredentialForms(
        key=False, parts={"key_id": True, "secret": True, "session": False}
    )

    def __init__(self, control_url: str) -> None:
        self.control_url = control_url.rstrip("/")
        """The control host's base URL (where the model list is)."""

    def hosts(self, provider: ProviderSpec) -> tuple[str, ...]:
        parts = urllib.parse.urlsplit(self.control_url)
        return (*super().hosts(provider), f"{parts.scheme}://{parts.netloc}")

    def catalog_request(self, provider: ProviderSpec) -> HttpRequest | None:
        request = super().catalog_request(provider)
        assert request is not None
        return replace(request, url=f"{self.control_url}/models", authenticated=True)

    def parse_catalog(self, provider: ProviderSpec, response: HttpResponse) -> CatalogPage:
        """The OpenAI list, plus a `next_url` some servers add: the next page, wherever it
        points (a link the server chose, which may name any host)."""
        page = super().parse_catalog(provider, response)
        body = response.json()
        next_url = body.get("next_url") if isinstance(body, dict) else None
        if isinstance(next_url, str):
            return replace(page, next_request=HttpRequest("GET", next_url))
        return page

    def authorizer(self, provider: ProviderSpec) -> Authorizer:
        return HmacSigner(self)


class HmacSigner(Authorizer):
    async def headers(
        self, request: OutgoingRequest, credential: Credential, clock: Clock
    ) -> Mapping[str, str]:
        date = clock().strftime("%Y%m%dT%H%M%SZ")
        url = urllib.parse.urlsplit(request.url)
        target = f"{url.path}?{url.query}" if url.query else url.path
        signed = [
            request.method,
            target,
            request.headers["host"],
            date,
            hashlib.sha256(request.body).hexdigest(),
        ]
        headers = {"x-ma-date": date}
        session = credential.parts.get("session")
        if session is not None:
            signed.append(session)
            headers["x-ma-session"] = session
        secret = credential.parts["secret"].encode()
        signature = hmac.new(secret, "\n".join(signed).encode(), hashlib.sha256).hexdigest()
        key_id = credential.parts["key_id"]
        headers["authorization"] = f"MA-HMAC key_id={key_id}, signature={signature}"
        return headers


class TokenTestFamily(OpenAIFamily):
    """Its "SDK" finds the client id and secret as AWS's and Google's do: in a named
    profile of its own configuration file (`~/.token-test/credentials`, INI), or, for the
    default chain, in two environment variables."""

    name: ClassVar[str] = "token-test"
    credential_forms: ClassVar[CredentialForms] = CredentialForms(
        key=False, profile=True, chain=True
    )
    ID_VARIABLE: ClassVar[str] = "TOKEN_TEST_CLIENT_ID"
    SECRET_VARIABLE: ClassVar[str] = "TOKEN_TEST_CLIENT_SECRET"
    CONFIG: ClassVar[str] = ".token-test/credentials"

    def __init__(self, token_url: str) -> None:
        self.token_url = token_url

    def authorizer(self, provider: ProviderSpec) -> Authorizer:
        return TokenFetcher(self)


class TokenFetcher(Authorizer):
    """Fetches a token as an SDK would (a blocking call, run in a thread), keeps it, and
    fetches another once the clock is within a minute of its expiry."""

    REFRESH_MARGIN = timedelta(minutes=1)

    def __init__(self, family: TokenTestFamily) -> None:
        super().__init__(family)
        self.token_url = family.token_url
        self.token: str | None = None
        self.expires: datetime | None = None
        self.fetches = 0
        self._lock = asyncio.Lock()

    async def headers(
        self, request: OutgoingRequest, credential: Credential, clock: Clock
    ) -> Mapping[str, str]:
        async with self._lock:
            now = clock()
            if self.token is None or self.expires is None or now >= self.expires:
                self.token, lifetime = await asyncio.to_thread(self._fetch, credential)
                self.expires = now + timedelta(seconds=lifetime) - self.REFRESH_MARGIN
            return {"authorization": f"Bearer {self.token}"}

    @staticmethod
    def _client(credential: Credential) -> tuple[str, str]:
        """The client id and secret, from the profile named, else the environment."""
        if credential.profile is None:
            client_id = os.environ.get(TokenTestFamily.ID_VARIABLE)
            secret = os.environ.get(TokenTestFamily.SECRET_VARIABLE)
            if not client_id or not secret:
                raise LookupError(f"{TokenTestFamily.SECRET_VARIABLE} is not set")
            return client_id, secret
        config = configparser.ConfigParser()
        config.read(Path.home() / TokenTestFamily.CONFIG)
        if not config.has_section(credential.profile):
            where = f"~/{TokenTestFamily.CONFIG}"
            raise LookupError(f"profile {credential.profile!r} is not in {where}")
        section = config[credential.profile]
        return section.get("client_id", ""), section.get("client_secret", "")

    def _fetch(self, credential: Credential) -> tuple[str, int]:
        client_id, secret = self._client(credential)
        register_secret(secret)
        form = urllib.parse.urlencode({"client_id": client_id, "client_secret": secret})
        request = urllib.request.Request(self.token_url, data=form.encode(), method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.loads(response.read())
        token: str = answer["access_token"]
        register_secret(token)
        self.fetches += 1
        return token, int(answer["expires_in"])
