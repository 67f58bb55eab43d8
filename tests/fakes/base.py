"""What every family fake shares: scripted behaviours, listed models, the error library
format, and the assembly of a reply (timing, stalls, cuts, resets) from a family's rendering.

A family fake (`FakeOpenAI`, `FakeAnthropic`, ...) renders the real wire format; this module
decides *how* it is delivered. Tests script per model:

    fake.behave("gpt-5", Behaviour.error("rate_limited", retry_after="2"))
    fake.behave("gpt-4o-mini", [Behaviour.error("overloaded"), Behaviour.ok()])
    fake.behave("old-model", Behaviour.unlisted())
    fake.behave("slow", Behaviour.ok(text="hello there", ttft_s=0.2, gap_s=0.05), on="stream")
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from tests.fakes.http import FakeServer, Handler, Reply, Request, html_reply, redirect

if TYPE_CHECKING:
    import trustme

__all__ = [
    "ERROR_CLASSES",
    "Behaviour",
    "ErrorSpec",
    "FamilyFake",
    "Frame",
    "GenContext",
    "Model",
    "StreamPlan",
    "http_date",
]

ERROR_CLASSES = frozenset(
    {
        "ok",
        "model_not_found",
        "model_deprecated",
        "auth_failed",
        "access_denied",
        "quota_exhausted",
        "rate_limited",
        "overloaded",
        "server_error",
        "timeout",
        "connect_failed",
        "dns_failed",
        "tls_failed",
        "protocol_error",
        "bad_request",
        "content_filtered",
        "model_substituted",
    }
)
"""modelaudit's closed set of error classes (kept here so the fakes import nothing from src)."""

GenerationKind = Literal["any", "completion", "stream"]
Endpoint = Literal["catalog", "retrieve", "health"]
"""The endpoints other than generation that tests script (`behave_catalog`...)."""


def http_date(seconds_from_now: float) -> str:
    """An RFC 9110 HTTP date `seconds_from_now` in the future (for `retry-after`)."""
    when = datetime.now(UTC) + timedelta(seconds=seconds_from_now)
    return format_datetime(when.replace(microsecond=0), usegmt=True)


# --- models ---------------------------------------------------------------------------------


@dataclass(frozen=True, init=False)
class Model:
    """A model the fake serves. Keyword fields other than `served_as` and `listed` go into its
    catalog entry, with the family's own names:
    `Model("gpt-4", shutdown_date="2026-06-01")`, `Model("m", deprecation="2026-01-31T00:00:00Z")`,
    `Model("llama-3-8b", active=False)`, `Model("gpt-35-turbo", lifecycle_status="deprecated")`."""

    id: str
    meta: Mapping[str, Any]
    served_as: str | None
    """The model name the replies carry (e.g. a dated snapshot for an alias)."""
    listed: bool
    """False: served but absent from the catalog."""

    def __init__(
        self,
        id: str,
        meta: Mapping[str, Any] | None = None,
        served_as: str | None = None,
        listed: bool = True,
        **fields: Any,
    ) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "meta", {**(meta or {}), **fields})
        object.__setattr__(self, "served_as", served_as)
        object.__setattr__(self, "listed", listed)

    @staticmethod
    def of(value: str | Model) -> Model:
        return value if isinstance(value, Model) else Model(value)


# --- behaviours -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """How the fake answers one attempt. Build with the static constructors and refine with
    the `.delayed()` / `.trickled()` / `.paced()` methods."""

    kind: str = "ok"
    name: str | None = None
    """The error name (`error`, `stream_error`)."""
    params: Mapping[str, Any] = field(default_factory=dict)
    text: str = "ok"
    reasoning: str = ""
    """Reasoning text streamed before the answer (`reasoning_content`, thinking blocks)."""
    variant: str = "normal"
    """`normal`, `empty_length` (a reasoning model out of budget), `filtered`, `prompt_filtered`."""
    works_unlisted: bool = False
    # delivery
    delay_s: float = 0.0
    ttft_s: float = 0.0
    gap_s: float = 0.0
    trickle: tuple[int, float] | None = None
    stalls: tuple[int, float] | None = None
    """(after this many stream frames, pause this long) then carry on."""
    cuts: bool = False
    cut_after: int | None = None
    abrupt: bool = False
    stream_error_after: int | None = None
    reset_after: int | None = None
    garbles: bool = False
    """Some JSON (a body, one stream event) does not parse."""
    reply: Reply | Handler | None = None
    redirect_to: str | FakeServer | FamilyFake | None = None
    html_status: int = 200
    drops_next: bool = False
    """After this reply, the connection is dropped when the next request arrives on it."""

    # -- constructors

    @staticmethod
    def ok(
        text: str = "ok", *, reasoning: str = "", ttft_s: float = 0.0, gap_s: float = 0.0
    ) -> Behaviour:
        """A normal reply. `text` is split into word pieces (one stream chunk each); the
        request's max-tokens limit is honoured (then the finish reason is the length one)."""
        return Behaviour(text=text, reasoning=reasoning, ttft_s=ttft_s, gap_s=gap_s)

    @staticmethod
    def error(name: str, **params: Any) -> Behaviour:
        """A named real error from the fake's library (`fake.library`). Common params:
        `retry_after` (seconds, or an HTTP date string: see `http_date`), `retry_after_ms`,
        `message` (override the text), `status` (override the status)."""
        return Behaviour(kind="error", name=name, params=dict(params))

    @staticmethod
    def unlisted(*, works: bool = False) -> Behaviour:
        """Not in the catalog. Using it gives the family's unknown-model error, unless
        `works=True` (a model that answers but is not listed)."""
        return Behaviour(kind="unlisted", works_unlisted=works)

    @staticmethod
    def empty_length(reasoning: str = "Let me think") -> Behaviour:
        """A reasoning model that spent its whole budget thinking: 200, no answer text,
        the family's length stop (`length`, `max_tokens`, `MAX_TOKENS`). The model is alive."""
        return Behaviour(text="", reasoning=reasoning, variant="empty_length")

    @staticmethod
    def filtered(*, prompt: bool = False) -> Behaviour:
        """A 200 content-filter stop (`finish_reason: content_filter`, Anthropic `refusal`,
        Gemini `finishReason: SAFETY`, or with `prompt=True` Gemini `promptFeedback.blockReason`
        / Azure's prompt filter)."""
        return Behaviour(text="", variant="prompt_filtered" if prompt else "filtered")

    @staticmethod
    def needs_max_completion_tokens() -> Behaviour:
        """OpenAI o-series / gpt-5: a request with `max_tokens` gets 400 unsupported_parameter;
        the same request with `max_completion_tokens` succeeds."""
        return Behaviour(kind="needs_max_completion_tokens")

    @staticmethod
    def slow_headers(seconds: float) -> Behaviour:
        return Behaviour(delay_s=seconds)

    @staticmethod
    def trickling(nbytes: int = 1, pause_s: float = 0.01) -> Behaviour:
        """A 200 whose body (or stream) arrives `nbytes` at a time."""
        return Behaviour(trickle=(nbytes, pause_s))

    @staticmethod
    def stall(after: int = 2, seconds: float = 30.0) -> Behaviour:
        """A stream that stops after `after` frames for `seconds`, then finishes normally
        (a non-streamed body pauses half-way)."""
        return Behaviour(text="ok then more", stalls=(after, seconds))

    @staticmethod
    def cut(after: int | None = None, *, abrupt: bool = False) -> Behaviour:
        """A stream without its terminator (`[DONE]`, `message_stop`, the finishReason event,
        `done: true`). `after`: keep only the first n frames. `abrupt`: also break the HTTP
        framing (no final 0-chunk; httpx raises RemoteProtocolError) instead of ending the
        message cleanly. A non-streamed body is cut short of its Content-Length."""
        return Behaviour(text="ok then more", cuts=True, cut_after=after, abrupt=abrupt)

    @staticmethod
    def stream_error(name: str = "overloaded", *, after: int | None = None) -> Behaviour:
        """A 200 stream that carries an error event after `after` frames (default: after the
        first piece of text): Anthropic `event: error`, `data: {"error": ...}`, Ollama
        `{"error": ...}` line. The stream then ends without its terminator."""
        return Behaviour(
            kind="stream_error", name=name, text="ok then more", stream_error_after=after
        )

    @staticmethod
    def malformed() -> Behaviour:
        """A 200 whose JSON (or one stream event) does not parse."""
        return Behaviour(garbles=True)

    @staticmethod
    def html(status: int = 200) -> Behaviour:
        """An HTML page (a captive portal or proxy login page) instead of the API's JSON."""
        return Behaviour(kind="html", html_status=status)

    @staticmethod
    def reset(after: int | None = None) -> Behaviour:
        """A TCP RST instead of a reply, or after `after` stream frames."""
        return Behaviour(kind="reset", reset_after=after)

    @staticmethod
    def redirect(to: str | FakeServer | FamilyFake) -> Behaviour:
        """A 307 to another server (same path and query when `to` is a server)."""
        return Behaviour(kind="redirect", redirect_to=to)

    @staticmethod
    def raw(reply: Reply | Handler) -> Behaviour:
        """Any Reply, or a handler that builds one."""
        return Behaviour(kind="raw", reply=reply)

    # -- refinements

    def delayed(self, seconds: float) -> Behaviour:
        """Also wait `seconds` before the status line."""
        return replace(self, delay_s=seconds)

    def trickled(self, nbytes: int = 1, pause_s: float = 0.01) -> Behaviour:
        return replace(self, trickle=(nbytes, pause_s))

    def paced(self, ttft_s: float = 0.0, gap_s: float = 0.0) -> Behaviour:
        return replace(self, ttft_s=ttft_s, gap_s=gap_s)

    def dropping_next(self) -> Behaviour:
        """Keep the connection alive, then drop it silently when the next request arrives
        (llama.cpp's server after some streams): the client's pooled connection fails with
        "Server disconnected without sending a response"."""
        return replace(self, drops_next=True)


# --- errors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorSpec:
    """One real error reply. Strings in `body` may contain `{model}`, `{project}`,
    `{request_id}`, `{retry_s}` and `{api_version}`, filled in when rendered."""

    status: int
    body: Any
    expected: str
    """The error class modelaudit should assign (one of ERROR_CLASSES)."""
    source: str
    """Where the shape comes from: `reference §5.2`, an issue thread, a measured server..."""
    headers: Mapping[str, str] = field(default_factory=dict)
    raw_body: str | None = None
    """A non-JSON body (used instead of `body`)."""
    note: str = ""


def _fill(obj: Any, values: Mapping[str, str]) -> Any:
    if isinstance(obj, str):
        for key, value in values.items():
            obj = obj.replace("{" + key + "}", value)
        return obj
    if isinstance(obj, list):
        return [_fill(v, values) for v in obj]
    if isinstance(obj, dict):
        return {k: _fill(v, values) for k, v in obj.items()}
    return obj


# --- what a family renders --------------------------------------------------------------------

FrameKind = Literal["head", "content", "end"]


@dataclass(frozen=True)
class Frame:
    data: bytes
    kind: FrameKind = "content"
    """`head` (role chunk, message_start...), `content` (text), `end` (finish, usage,
    terminator): a cut stream loses its `end` frames."""
    text: bool = False
    """An `end` frame that also carries text (Gemini's last event): paced like content."""


@dataclass
class StreamPlan:
    frames: list[Frame]
    headers: dict[str, str]
    status: int = 200


@dataclass
class GenContext:
    """Everything a family needs to render one generation."""

    request: Request
    body: dict[str, Any]
    model_id: str
    served_model: str
    stream: bool
    pieces: list[str]
    reasoning_pieces: list[str]
    finish: Literal["stop", "length", "filter"]
    prompt_tokens: int
    variant: str
    seq: int
    created: int

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_pieces)

    @property
    def output_tokens(self) -> int:
        return len(self.pieces) + len(self.reasoning_pieces)


_WORDS = re.compile(r"\s*\S+|\s+")


def split_pieces(text: str) -> list[str]:
    """Word pieces as a tokenizer would stream them: "hello there" → ["hello", " there"]."""
    return _WORDS.findall(text)


# --- the base fake ------------------------------------------------------------------------------


def model_in_body(request: Request) -> str | None:
    """The `model` field of a JSON request body (OpenAI, Anthropic, Ollama), if any."""
    try:
        body = request.json()
    except ValueError:
        return None
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else None


class FamilyFake(ABC):
    """A FakeServer speaking one family's wire format, with per-model scripting."""

    family: ClassVar[str]
    ERRORS: ClassVar[Mapping[str, ErrorSpec]]

    def __init__(
        self,
        *,
        key: str | None = None,
        models: Sequence[str | Model] = (),
        tls: trustme.CA | None = None,
    ) -> None:
        self.key = key
        self.library: dict[str, ErrorSpec] = dict(type(self).ERRORS)
        """This fake's named errors: the family's, plus a vendor's own (see each class)."""
        self.server = FakeServer(tls=tls)
        self.models: dict[str, Model] = {}
        for m in models:
            self.add_model(m)
        self._scripts: dict[tuple[str, GenerationKind], list[Behaviour]] = {}
        self._served: dict[tuple[str, GenerationKind], int] = {}
        self._endpoint_scripts: dict[Endpoint, list[Behaviour]] = {}
        self._endpoint_served: dict[Endpoint, int] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.server.fallback = self.unknown_route
        self.install_routes()

    # -- lifecycle and plumbing

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.__exit__(exc_type, exc, tb)

    @property
    def url(self) -> str:
        """Scheme, host and port: `http://127.0.0.1:PORT`."""
        return self.server.url

    @property
    def base_url(self) -> str:
        """The base URL as the family's official SDK spells it (see each family)."""
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    @property
    def connections(self) -> int:
        return self.server.connections

    @property
    def ca_path(self) -> Any:
        return self.server.ca_path

    # -- scripting

    def add_model(self, model: str | Model, **meta: Any) -> Model:
        m = Model.of(model)
        if meta:
            m = replace(m, meta={**m.meta, **meta})
        self.models[m.id] = m
        return m

    def remove_model(self, model_id: str) -> None:
        self.models.pop(model_id, None)

    def behave(
        self,
        model_id: str,
        behaviour: Behaviour | Sequence[Behaviour],
        *,
        on: GenerationKind = "any",
    ) -> None:
        """Script the next generations of `model_id` (completion and stream, or only `on`
        one of them). A list is served in order, then its last item repeats."""
        items = [behaviour] if isinstance(behaviour, Behaviour) else list(behaviour)
        if not items:
            raise ValueError("an empty list of behaviours")
        for item in items:
            if item.kind == "unlisted":
                existing = self.models.get(model_id, Model(model_id))
                self.models[model_id] = replace(existing, listed=False)
        with self._lock:
            self._scripts[(model_id, on)] = items
            self._served[(model_id, on)] = 0

    def behave_catalog(self, behaviour: Behaviour | Sequence[Behaviour]) -> None:
        """Script the model-list endpoint (`ok` renders the catalog)."""
        self._script_endpoint("catalog", behaviour)

    def behave_retrieve(self, behaviour: Behaviour | Sequence[Behaviour]) -> None:
        """Script the look-up of one model by id (`GET /v1/models/{id}`, Ollama's
        `/api/show`; `ok` renders the model or the family's not-found error)."""
        self._script_endpoint("retrieve", behaviour)

    def behave_health(self, behaviour: Behaviour | Sequence[Behaviour]) -> None:
        """Script the server's own health endpoint (self-hosted fakes; `ok` renders healthy)."""
        self._script_endpoint("health", behaviour)

    def _script_endpoint(
        self, endpoint: Endpoint, behaviour: Behaviour | Sequence[Behaviour]
    ) -> None:
        items = [behaviour] if isinstance(behaviour, Behaviour) else list(behaviour)
        with self._lock:
            self._endpoint_scripts[endpoint] = items
            self._endpoint_served[endpoint] = 0

    def _next_on_endpoint(self, endpoint: Endpoint) -> Behaviour:
        """The scripted behaviour for this request (the last one repeats), else `ok`."""
        with self._lock:
            script = self._endpoint_scripts.get(endpoint, [])
            index = self._endpoint_served.get(endpoint, 0)
            self._endpoint_served[endpoint] = index + 1
        return script[min(index, len(script) - 1)] if script else Behaviour()

    def error_reply(self, name: str, *, model: str = "unknown-model", **params: Any) -> Reply:
        """The library's error `name` as a Reply."""
        spec = self.library.get(name)
        if spec is None:
            known = ", ".join(sorted(self.library))
            raise KeyError(f"{type(self).__name__} has no error named {name!r} (known: {known})")
        return self.render_error(spec, model=model, **params)

    def generation_requests(self, model_id: str | None = None) -> list[Request]:
        return [
            r
            for r in list(self.server.requests)
            if self.is_generation(r) and (model_id is None or self.model_of(r) == model_id)
        ]

    # -- what families implement

    @abstractmethod
    def install_routes(self) -> None: ...

    @abstractmethod
    def check_auth(self, request: Request) -> Reply | None:
        """The family's reply to a missing or wrong key; None when the key is good."""

    @abstractmethod
    def catalog_reply(self, request: Request) -> Reply: ...

    @abstractmethod
    def completion_reply(self, ctx: GenContext) -> Reply: ...

    @abstractmethod
    def stream_plan(self, ctx: GenContext) -> StreamPlan: ...

    @abstractmethod
    def stream_error_frame(
        self, spec: ErrorSpec, model: str, plan: StreamPlan | None = None
    ) -> bytes: ...

    @abstractmethod
    def malformed_frame(self) -> bytes: ...

    @abstractmethod
    def is_generation(self, request: Request) -> bool: ...

    def model_of(self, request: Request) -> str | None:
        return model_in_body(request)

    def max_tokens_of(self, body: dict[str, Any]) -> int | None:
        return None

    def validate(self, request: Request, body: dict[str, Any], stream: bool) -> Reply | None:
        """The family's own 400 for a request the real API would reject."""
        return None

    def invalid_json_reply(self, request: Request) -> Reply:
        return self.error_reply("bad_request")

    def unknown_route(self, request: Request) -> Reply:
        return self.error_reply("not_found_route", model=request.path)

    def canonical_model(self, model_id: str) -> str:
        return model_id

    def serves(self, model_id: str) -> bool:
        """Whether an unscripted generation for `model_id` succeeds."""
        return model_id in self.models

    def served_name(self, model_id: str) -> str:
        model = self.models.get(self.canonical_model(model_id))
        if model is not None and model.served_as:
            return model.served_as
        return model_id

    def extra_params_reply(self, request: Request, body: dict[str, Any]) -> Reply | None:
        """The reply for `Behaviour.needs_max_completion_tokens` (OpenAI only)."""
        raise NotImplementedError(f"{type(self).__name__} has no max_completion_tokens rule")

    def render_error(self, spec: ErrorSpec, *, model: str, **params: Any) -> Reply:
        values = {
            "model": model,
            "project": str(params.get("project", "proj_FakeProject0123456789")),
            "request_id": str(params.get("request_id", f"req_fake{next(self._seq):08d}")),
            "retry_s": str(params.get("retry_s", params.get("retry_after", "20"))),
            "api_version": str(params.get("api_version", "2024-10-21")),
        }
        headers = {k: _fill(v, values) for k, v in spec.headers.items()}
        if spec.raw_body is not None:
            body_bytes = _fill(spec.raw_body, values).encode()
        else:
            body_obj = _fill(spec.body, values)
            if "message" in params:
                _override_message(body_obj, str(params["message"]))
            body_bytes = self.encode_error_body(body_obj)
        headers.setdefault("content-type", "application/json")
        if "retry_after" in params:
            headers["retry-after"] = str(params["retry_after"])
        if "retry_after_ms" in params:
            headers["retry-after-ms"] = str(params["retry_after_ms"])
        headers.update({k.lower(): str(v) for k, v in params.get("headers", {}).items()})
        return Reply(
            status=int(params.get("status", spec.status)), headers=headers, body=body_bytes
        )

    def encode_error_body(self, body: Any) -> bytes:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    # -- serving (called by the families' routes)

    def serve_catalog(self, request: Request) -> Reply:
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        behaviour = self._next_on_endpoint("catalog")
        return self._deliver_simple(request, behaviour, lambda: self.catalog_reply(request))

    def serve_retrieve(self, request: Request, model_id: str) -> Reply:
        """The look-up of one model by id: the key is checked, `behave_retrieve` scripts it,
        and unscripted it answers `retrieve_reply` for the model `retrieved` finds."""
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        behaviour = self._next_on_endpoint("retrieve")

        def render() -> Reply:
            model = self.retrieved(model_id)
            if model is None:
                return self.retrieve_not_found(model_id)
            return self.retrieve_reply(model)

        return self._deliver_simple(request, behaviour, render)

    def retrieved(self, model_id: str) -> Model | None:
        """The model a look-up by id finds: a listed one (families that resolve aliases
        override this)."""
        model = self.models.get(self.canonical_model(model_id))
        return model if model is not None and model.listed else None

    def retrieve_not_found(self, model_id: str) -> Reply:
        return self.error_reply("model_not_found", model=model_id)

    def retrieve_reply(self, model: Model) -> Reply:
        """The family's 200 answer to a look-up by id (its catalog entry by default)."""
        raise NotImplementedError(f"{type(self).__name__} cannot look a model up by id")

    def serve_health(self, request: Request, render: Callable[[], Reply]) -> Reply:
        """A health endpoint: no key needed; `behave_health` scripts it."""
        behaviour = self._next_on_endpoint("health")
        return self._deliver_simple(request, behaviour, render)

    def serve_generation(self, request: Request, model_id: str | None, stream: bool) -> Reply:
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        try:
            body = request.json() if request.body else {}
        except ValueError:
            return self.invalid_json_reply(request)
        if not isinstance(body, dict):
            return self.invalid_json_reply(request)
        invalid = self.validate(request, body, stream)
        if invalid is not None:
            return invalid
        model_id = model_id if model_id is not None else str(body.get("model", ""))
        canonical = self.canonical_model(model_id)
        behaviour = self._next_behaviour(canonical, "stream" if stream else "completion")
        if behaviour is None:
            if not self.serves(canonical):
                return self.error_reply("model_not_found", model=model_id)
            behaviour = Behaviour()
        if behaviour.kind == "unlisted":
            if not behaviour.works_unlisted:
                return self.error_reply("model_not_found", model=model_id)
            behaviour = Behaviour()
        return self._deliver_generation(request, body, model_id, stream, behaviour)

    def peek_behaviour(
        self, model_id: str, kind: GenerationKind = "completion"
    ) -> Behaviour | None:
        """The behaviour the next generation of `model_id` would get (without using it up)."""
        with self._lock:
            for key in ((model_id, kind), (model_id, "any")):
                script = self._scripts.get(key)
                if script:
                    return script[min(self._served[key], len(script) - 1)]
        return None

    def _next_behaviour(self, model_id: str, kind: GenerationKind) -> Behaviour | None:
        with self._lock:
            for key in ((model_id, kind), (model_id, "any")):
                script = self._scripts.get(key)
                if script:
                    index = self._served[key]
                    self._served[key] = index + 1
                    return script[min(index, len(script) - 1)]
        return None

    def _deliver_simple(self, request: Request, b: Behaviour, render: Callable[[], Reply]) -> Reply:
        """Catalog and health endpoints: no streams, the same misbehaviours."""
        special = self._special(request, b, model="")
        reply = special if special is not None else _decorate_body(render(), b)
        reply.drop_next = reply.drop_next or b.drops_next
        return reply

    def _special(self, request: Request, b: Behaviour, *, model: str) -> Reply | None:
        if b.kind == "error":
            assert b.name is not None
            reply = self.error_reply(b.name, model=model, **b.params)
        elif b.kind == "raw":
            assert b.reply is not None
            reply = b.reply if isinstance(b.reply, Reply) else b.reply(request)
        elif b.kind == "redirect":
            target = b.redirect_to
            if isinstance(target, FamilyFake):
                target = target.server
            query = "&".join(f"{k}={v}" for k, vs in request.query.items() for v in vs)
            path = request.path + (f"?{query}" if query else "")
            reply = (
                redirect(target, path=path)
                if isinstance(target, FakeServer)
                else redirect(str(target))
            )
        elif b.kind == "html":
            reply = html_reply(_HTML_PAGE, status=b.html_status)
        elif b.kind == "reset" and b.reset_after is None:
            reply = Reply(reset=True)
        else:
            return None
        reply.delay_s = max(reply.delay_s, b.delay_s)
        return reply

    def _deliver_generation(
        self, request: Request, body: dict[str, Any], model_id: str, stream: bool, b: Behaviour
    ) -> Reply:
        reply = self._generation_reply(request, body, model_id, stream, b)
        reply.drop_next = reply.drop_next or b.drops_next
        return reply

    def _generation_reply(
        self, request: Request, body: dict[str, Any], model_id: str, stream: bool, b: Behaviour
    ) -> Reply:
        special = self._special(request, b, model=model_id)
        if special is not None:
            return special
        if b.kind == "stream_error" and not stream:
            assert b.name is not None
            return self.error_reply(b.name, model=model_id, **b.params)
        if b.kind == "needs_max_completion_tokens":
            refused = self.extra_params_reply(request, body)
            if refused is not None:
                return refused
        ctx = self._context(request, body, model_id, stream, b)
        if not stream:
            return _decorate_body(self.completion_reply(ctx), b)
        plan = self.stream_plan(ctx)
        return self._assemble_stream(plan, b, model_id)

    def _context(
        self, request: Request, body: dict[str, Any], model_id: str, stream: bool, b: Behaviour
    ) -> GenContext:
        import time

        pieces = split_pieces(b.text)
        reasoning = split_pieces(b.reasoning)
        limit = self.max_tokens_of(body)
        finish: Literal["stop", "length", "filter"] = "stop"
        if b.variant == "empty_length":
            pieces = []
            finish = "length"
            if limit is not None:
                reasoning = (reasoning * (limit // max(1, len(reasoning)) + 1))[:limit]
        elif b.variant in ("filtered", "prompt_filtered"):
            pieces = []
            finish = "filter"
        elif limit is not None and len(reasoning) + len(pieces) > limit:
            keep = max(0, limit - len(reasoning))
            reasoning = reasoning[:limit]
            pieces = pieces[:keep]
            finish = "length"
        prompt_text = json.dumps(body.get("messages", body.get("contents", body.get("prompt", ""))))
        return GenContext(
            request=request,
            body=body,
            model_id=model_id,
            served_model=self.served_name(model_id),
            stream=stream,
            pieces=pieces,
            reasoning_pieces=reasoning,
            finish=finish,
            prompt_tokens=max(1, len(prompt_text) // 4),
            variant=b.variant,
            seq=next(self._seq),
            created=int(time.time()),
        )

    def _assemble_stream(self, plan: StreamPlan, b: Behaviour, model_id: str) -> Reply:
        frames = list(plan.frames)
        if b.garbles:
            index = next((i for i, f in enumerate(frames) if f.kind == "content"), len(frames))
            frames[index : index + 1] = [Frame(self.malformed_frame(), "content")]
        if b.kind == "stream_error":
            assert b.name is not None
            after = b.stream_error_after
            if after is None:
                after = next((i + 1 for i, f in enumerate(frames) if f.kind == "content"), 1)
            spec = self.library[b.name]
            error = self.stream_error_frame(spec, model_id, plan)
            frames = [*frames[:after], Frame(error, "end")]
        elif b.cuts:
            if b.cut_after is not None:
                frames = frames[: b.cut_after]
            else:
                frames = [f for f in frames if f.kind != "end"]
        reset = False
        if b.kind == "reset" and b.reset_after is not None:
            frames = frames[: b.reset_after]
            reset = True
        chunks: list[tuple[float, bytes]] = []
        content_seen = 0
        for i, frame in enumerate(frames):
            pause = 0.0
            if frame.kind == "content" or frame.text:
                pause = b.ttft_s if content_seen == 0 else b.gap_s
                content_seen += 1
            if b.stalls is not None and i == b.stalls[0]:
                pause += b.stalls[1]
            chunks.append((pause, frame.data))
        if b.stalls is not None and b.stalls[0] >= len(frames):
            chunks.append((b.stalls[1], b""))
        return Reply(
            status=plan.status,
            headers=dict(plan.headers),
            chunks=chunks,
            delay_s=b.delay_s,
            trickle=b.trickle,
            truncate=b.cuts and b.abrupt,
            reset=reset,
        )


def _decorate_body(reply: Reply, b: Behaviour) -> Reply:
    """Apply a behaviour's delivery to a non-streamed reply."""
    if b.garbles:
        reply.body = reply.body[: max(1, len(reply.body) // 2)]
    if b.cuts:
        reply.truncate = True
        if b.cut_after is not None:
            reply.body = reply.body[: b.cut_after]
    if b.kind == "reset" and b.reset_after is not None:
        reply.reset = True
        reply.chunks = None
    reply.delay_s = max(reply.delay_s, b.delay_s)
    if b.trickle is not None:
        reply.trickle = b.trickle
    elif b.stalls is not None and reply.body:
        half = max(1, (len(reply.body) + 1) // 2)
        reply.trickle = (half, b.stalls[1])
    return reply


def _override_message(body: Any, message: str) -> None:
    if isinstance(body, list):
        for item in body:
            _override_message(item, message)
        return
    if not isinstance(body, dict):
        return
    if "message" in body:
        body["message"] = message
    error = body.get("error")
    if isinstance(error, dict):
        _override_message(error, message)
    elif isinstance(error, str):
        body["error"] = message


_HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Network login required</title></head>
<body><h1>Please sign in to continue</h1>
<p>Your access to this network requires authentication.</p>
<form method="post" action="/login"><input name="user"><input name="password" type="password">
<button>Sign in</button></form></body></html>
"""
