"""The run's one `httpx.AsyncClient`: every probe request and the control check go through it.

An origin reached directly is served by the probe's own HTTP/1.1 transport
(`modelaudit.probe.http1`); an origin the environment sends through a proxy (`HTTPS_PROXY`
and friends, unless `NO_PROXY` names it, by urllib's rules) is mounted on httpx's own
transport, which speaks to proxies, wrapped so that it hands back the same `WireTimes` in
`response.extensions["timings"]`. Each origin has a pool of its own, sized to the caps of
the providers it serves, and verifies TLS with its provider's CA bundle when it has one.
Redirects are never followed; cookies are never kept (a run sends no cookie).
"""

from __future__ import annotations

import ssl
import time
from typing import TYPE_CHECKING, Any

import httpx

from modelaudit.families import FAMILIES
from modelaudit.probe.http1 import H11Transport, Origin
from modelaudit.probe.plan import ca_bundle_path
from modelaudit.probe.timing import TIMINGS, WireTimes

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Mapping
    from pathlib import Path

    from modelaudit.probe.http1 import Trace
    from modelaudit.registry.schema import ProviderSpec

USER_AGENT = "modelaudit"
MAX_CA_BUNDLE_BYTES = 4 * 1024 * 1024
"""A system's whole CA bundle is a few hundred KiB."""
DEFAULT_HEADERS = {
    "user-agent": USER_AGENT,
    "accept": "*/*",
    # A compressed stream may be held back by the compressor, delaying the first token.
    "accept-encoding": "identity",
}


def ssl_context(ca_bundle: Path | None = None) -> ssl.SSLContext:
    """Verification on; `SSL_CERT_FILE`/`SSL_CERT_DIR` honoured; a provider's bundle added."""
    context = httpx.create_ssl_context(trust_env=True)
    if ca_bundle is not None:
        from modelaudit.fileio import read_bytes

        # Read by fileio (a regular file, capped): OpenSSL would read a FIFO or a device
        # without end. PEM is text; anything else is handed over as DER.
        data = read_bytes(ca_bundle, MAX_CA_BUNDLE_BYTES)
        try:
            context.load_verify_locations(cadata=data.decode("ascii"))
        except UnicodeDecodeError:
            context.load_verify_locations(cadata=data)
    context.set_alpn_protocols(["http/1.1"])
    return context


def provider_tls(provider: ProviderSpec, base_dir: Path) -> dict[str, ssl.SSLContext]:
    """Each of `provider`'s hosts (its family's `hosts`) mapped to a TLS context that also
    trusts its `ca_bundle`; empty when it has none. Raises OSError (`ssl.SSLError` for a
    file that is not PEM)."""
    path = ca_bundle_path(provider, base_dir)
    if path is None:
        return {}
    context = ssl_context(path)
    return dict.fromkeys(FAMILIES[provider.api].hosts(provider), context)


def make_client(
    total_connections: int,
    connect_s: float,
    tls: Mapping[str, ssl.SSLContext] | None = None,
    pools: Mapping[str, int] | None = None,
    destinations: Iterable[str] = (),
) -> httpx.AsyncClient:
    """The run's client. `tls` maps an origin (`scheme://host[:port]`) to the TLS context of
    a provider with its own CA bundle; `pools` maps an origin to the connections its pool
    may hold (else `total_connections`); `destinations` names other URLs the run will
    reach (the control targets). Whether the environment sends an origin through a proxy
    is decided here, for every origin named: one not named is reached directly."""
    default_tls = _Once(ssl_context)
    tls_of = {Origin.of(prefix): context for prefix, context in (tls or {}).items()}
    limit_of = {Origin.of(prefix): limit for prefix, limit in (pools or {}).items()}
    direct = H11Transport(
        default_limit=total_connections, default_tls=default_tls, limits=limit_of, tls=tls_of
    )
    origins = {*tls_of, *limit_of, *(Origin.of(url) for url in destinations)}
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    for origin in sorted(origins, key=str):
        proxy = _proxy_url(origin)
        if proxy is not None:
            verify = tls_of.get(origin) or default_tls()
            limits = _limits(limit_of.get(origin, total_connections))
            mounts[_pattern(origin)] = Timed(
                httpx.AsyncHTTPTransport(verify=verify, limits=limits, proxy=proxy)
            )
    return _CookielessClient(
        transport=direct,
        mounts=mounts,
        follow_redirects=False,
        # httpx bounds the connection setup; every later deadline is the exchange's.
        timeout=httpx.Timeout(None, connect=connect_s),
        trust_env=False,  # proxies are decided above; TLS honours SSL_CERT_FILE itself
        headers=DEFAULT_HEADERS,
        # Credentials are the family's authorizer's, added before the request is sent; httpx
        # adds none (not even from a URL's user:password@, which the registry refuses).
        auth=httpx.Auth(),
    )


class _Once:
    """The default TLS context, made the first time an origin needs it (loading the CA
    store takes milliseconds a run without https never spends)."""

    def __init__(self, make: Callable[[], ssl.SSLContext]) -> None:
        self._make = make
        self._made: ssl.SSLContext | None = None

    def __call__(self) -> ssl.SSLContext:
        if self._made is None:
            self._made = self._make()
        return self._made


class _NoCookies(httpx.Cookies):
    """Keeps nothing and sends nothing. (Reading a response's cookies would also cost tens
    of microseconds a request: httpx builds a urllib request and response for it.)"""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def __bool__(self) -> bool:
        return False


_NO_COOKIES = _NoCookies()


class _CookielessClient(httpx.AsyncClient):
    """httpx's client, without cookies: no request of a run carries one a server set."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        return None


def _pattern(origin: Origin) -> str:
    """httpx's mount pattern for exactly this origin."""
    return f"{origin.scheme}://{origin.authority}"


def _proxy_url(origin: Origin) -> str | None:
    """The proxy the environment names for `origin` (the platform's proxy settings,
    `NO_PROXY` by urllib's rules), or None."""
    from urllib.request import getproxies, proxy_bypass

    proxies = getproxies()
    proxy = proxies.get(origin.scheme) or proxies.get("all")
    if not proxy or proxy_bypass(origin.authority):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _limits(connections: int) -> httpx.Limits:
    return httpx.Limits(max_connections=connections, max_keepalive_connections=connections)


class Timed(httpx.AsyncBaseTransport):
    """httpx's own transport (httpcore), its exchanges stamped from httpcore's trace events
    and handed back as `WireTimes`, as the probe's own transport does: the connection
    setup from `connect_tcp` to the end of the TLS handshake, the request from its headers
    going out, each chunk when the task reading it resumes (httpcore gives no earlier mark),
    and the caller's own `trace` told every event too."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        wire = WireTimes()
        request.extensions = {**request.extensions, "trace": _stamping(wire, request)}
        response = await self._inner.handle_async_request(request)
        wire.headers = time.perf_counter()
        if wire.connect_start is not None and wire.connect_end is None:
            wire.connect_end = wire.headers
        response.stream = _Stamped(response.stream, wire)
        response.extensions = {**response.extensions, TIMINGS: wire}
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _stamping(wire: WireTimes, request: httpx.Request) -> Trace:
    outer: Trace | None = request.extensions.get("trace")

    async def trace(event: str, info: Mapping[str, Any]) -> None:
        now = time.perf_counter()
        if event == "connection.connect_tcp.started":
            wire.connect_start = now
        elif event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            wire.connect_end = now
        elif event.endswith("send_request_headers.started"):
            wire.sent = now  # the last one: a proxy's CONNECT goes first, inside the setup
        if outer is not None:
            await outer(event, info)

    return trace


class _Stamped(httpx.AsyncByteStream):
    def __init__(self, inner: Any, wire: WireTimes) -> None:
        self._inner = inner
        self._wire = wire

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._wire.arrived = time.perf_counter()
            yield chunk
        self._wire.end = time.perf_counter()

    async def aclose(self) -> None:
        await self._inner.aclose()
