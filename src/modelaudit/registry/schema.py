"""The `providers.yaml` schema (version 1): a public contract, documented in the README.

Every model forbids unknown fields, so a typo is an error rather than a silently ignored
setting. Checks that need the whole document (unique names, fallbacks that resolve) live
in `modelaudit.registry.crosscheck`, where they can point at the offending line.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from modelaudit.families import FAMILIES
from modelaudit.registry.alerting import Alerts, Maintenance
from modelaudit.registry.jurisdictions import COMMON_MISTAKES, ISO_3166_ALPHA2
from modelaudit.registry.sendable import header_problem, url_problem
from modelaudit.vocabulary import Hosting, ProbeKind, ServerEngine, Weights

if TYPE_CHECKING:
    from modelaudit.families.base import Family

_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
MAX_ID_CHARS = 256
"""The longest model id (a catalog's longer ids are not kept either)."""
MAX_SECONDS = 86_400.0
"""No timeout, backoff or wait of a probe lasts longer than a day."""


class _Strict(BaseModel):
    # A YAML `.inf` or `.nan` is refused: no timeout, weight or SLO is infinite.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy that forgets the lookups the original cached from its fields
        (`cached_property`): with `update`, they would describe the original."""
        copied = super().model_copy(update=update, deep=deep)
        for klass in type(self).__mro__:
            for name, value in vars(klass).items():
                if isinstance(value, cached_property):
                    copied.__dict__.pop(name, None)
        return copied

    def _written(self, earlier: str, later: str) -> str:
        """Of two fields in conflict, the one to point at: the later, unless only the
        earlier was written (the other is a default the user may not know of)."""
        only_earlier = earlier in self.model_fields_set and later not in self.model_fields_set
        return earlier if only_earlier else later


CONFLICTS_ERROR = "field_conflicts"
"""The pydantic error type of a cross-field check; its ctx `conflicts` holds every one."""


@dataclass(frozen=True)
class FieldConflict:
    """A problem between fields of one mapping, told under the field to change."""

    field: str
    message: str


def conflicts_error(conflicts: list[FieldConflict]) -> PydanticCustomError:
    """One pydantic error carrying every conflict, so that none waits for the next run."""
    summary = "; ".join(f"{c.field}: {c.message}" for c in conflicts)
    return PydanticCustomError(
        CONFLICTS_ERROR, "{summary}", {"summary": summary, "conflicts": tuple(conflicts)}
    )


class KeyRef(_Strict):
    """Where a key is read from at send time. The key itself never enters the registry."""

    source: Literal["env", "file"]
    name: str
    """The environment variable's name, or the file's path."""

    def __str__(self) -> str:
        return f"{self.source}:{self.name}"


NOT_A_KEY_REF = (
    "must be text naming where the key is: write `api_key: env:VARIABLE_NAME`, or "
    "`api_key: file:/path/to/key`"
)


def parse_key_ref(value: object) -> object:
    """Accept `env:VAR` and `file:PATH`; refuse anything that could be a literal key."""
    if value is None or isinstance(value, dict):
        return value  # a mapping is checked field by field as a KeyRef
    if not isinstance(value, str):
        # Never echo the value, whatever its type: a number may be the key itself.
        raise ValueError(NOT_A_KEY_REF)
    source, sep, name = value.partition(":")
    if sep and source == "env":
        if not _ENV_VAR.fullmatch(name):
            raise ValueError(
                "`env:` must be followed by an environment variable name "
                "(letters, digits and _), e.g. env:OPENAI_API_KEY"
            )
        return {"source": "env", "name": name}
    if sep and source == "file":
        if not name.strip():
            raise ValueError("`file:` must be followed by a path, e.g. file:~/.config/keys/openai")
        return {"source": "file", "name": name}
    # Never echo the value: it may be a real key.
    raise ValueError(
        "must name where the key is, not be the key itself: export the key and write "
        "`api_key: env:VARIABLE_NAME`, or store it in a file readable only by you and write "
        "`api_key: file:/path/to/key`"
    )


ApiKey = Annotated[KeyRef, Field(description="env:VAR or file:PATH")]
_PART_NAME = re.compile(r"[a-z][a-z0-9_]*")
CREDENTIAL_FORMS = (
    "`credentials` takes one of: `parts: {NAME: env:VAR, ...}` (each part env: or file:), "
    "`profile: NAME` (a profile of the vendor's own configuration), "
    "`chain: default` (the vendor SDK's default chain)"
)


class CredentialsRef(_Strict):
    """A credential that is more than one key, or one the vendor's SDK finds: exactly one
    of `parts`, `profile` and `chain`. Like `api_key`, it says where the credential is,
    never what it is."""

    parts: dict[str, KeyRef] | None = None
    """Named parts (`access_key_id`, `secret_access_key`...), each read from env: or file:."""
    profile: str | None = None
    chain: Literal["default"] | None = None

    @field_validator("parts", mode="before")
    @classmethod
    def _parts_are_references(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        for name in value:
            if not isinstance(name, str) or not _PART_NAME.fullmatch(name):
                raise ValueError(
                    "a credential part's name is lower-case letters, digits and _ "
                    "(e.g. secret_access_key)"
                )
        return {name: parse_key_ref(ref) for name, ref in value.items()}

    @field_validator("profile")
    @classmethod
    def _profile_is_a_name(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or value != value.strip()):
            raise ValueError("`profile` names a profile: write `profile: NAME`")
        return value

    @field_validator("chain", mode="before")
    @classmethod
    def _chain_is_default(cls, value: object) -> object:
        if value is not None and value != "default":
            # Never echo the value: someone may have put a key where the word goes.
            raise ValueError("`chain` names the vendor SDK's chain: write `chain: default`")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> CredentialsRef:
        forms = [self.parts is not None, self.profile is not None, self.chain is not None]
        if sum(forms) != 1:
            raise ValueError(f"{CREDENTIAL_FORMS}; exactly one")
        if self.parts is not None and not self.parts:
            raise ValueError("`parts` names at least one part: `parts: {NAME: env:VAR}`")
        return self

    def __str__(self) -> str:
        if self.parts is not None:
            return ", ".join(str(ref) for ref in self.parts.values())
        if self.profile is not None:
            return f"profile:{self.profile}"
        return "chain:default"


def _fraction_not_percent(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= 100:
        raise ValueError(f"availability is a fraction: write {value / 100:g} for {value:g}%")
    return value


Availability = Annotated[float, BeforeValidator(_fraction_not_percent), Field(gt=0, le=1)]


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|[ \t]+)\d")


def _day_only(value: object) -> object:
    """A date, or a YYYY-MM-DD text; refuse a timestamp rather than cut it to its date."""
    if isinstance(value, datetime):
        raise _timestamp_error(value.isoformat(), value.date())
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value  # 2026-02-30: the strict date check reports it
    if isinstance(value, str) and _TIMESTAMP.match(value):
        raise _timestamp_error(value, None)
    return value


def _timestamp_error(text: str, day: date | None) -> ValueError:
    example = day.isoformat() if day else "2026-06-30"
    return ValueError(
        f"expected a date (YYYY-MM-DD), got a timestamp `{text}`: write the day alone, "
        f"e.g. {example} (a time and offset can move the day)"
    )


Day = Annotated[date, BeforeValidator(_day_only), Strict()]
"""A calendar day written YYYY-MM-DD: a timestamp or a number of seconds is refused, never
silently cut or converted to a date."""


def _printable(value: str) -> str:
    """Text shown in tables and reports: no control or formatting character (YAML's
    double-quoted escapes such as \\e or \\u202e can put one there)."""
    if not value.isprintable():
        bad = next(c for c in value if not c.isprintable())
        raise ValueError(
            f"contains U+{ord(bad):04X}, which is not a printable character: remove it"
        )
    return value


Text = Annotated[str, AfterValidator(_printable)]
"""Text from the registry that reports and tables show."""
Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS)]


class Timeouts(_Strict):
    connect_s: Seconds = 5.0
    first_byte_s: Seconds = 30.0
    first_token_s: Seconds = 30.0
    stall_s: Seconds = 15.0
    total_s: Seconds = 60.0

    @model_validator(mode="after")
    def _total_covers_phases(self) -> Timeouts:
        if self.total_s < self.connect_s:
            field = self._written("connect_s", "total_s")
            raise conflicts_error([FieldConflict(field, "total_s must be at least connect_s")])
        return self


class Concurrency(_Strict):
    total: int = Field(16, ge=1, le=1024)
    """How many requests may be in flight at once across all providers."""
    per_provider: int = Field(4, ge=1, le=256)
    """In flight at once per vendor or third-party provider."""
    per_self_hosted: int = Field(1, ge=1, le=256)
    """In flight at once per self-hosted provider (a GPU serializes requests)."""


class Budget(_Strict):
    max_requests: int = Field(1000, ge=1)
    """Requests a run may send, retries included; checked before each send."""
    max_output_tokens: int = Field(20000, ge=1)
    """Output tokens a run may ask for (the sum of every generation's cap)."""
    output_tokens_per_probe: int = Field(16, ge=1, le=4096)
    """The output cap of one generation: small, but enough for a reasoning model to answer."""


class Retry(_Strict):
    attempts: int = Field(3, ge=1, le=10)
    """Attempts per probe for transient failures (429, 5xx, timeouts, resets)."""
    backoff_s: float = Field(0.5, ge=0, le=MAX_SECONDS)
    max_backoff_s: float = Field(8.0, ge=0, le=MAX_SECONDS)
    max_retry_after_s: float = Field(20.0, ge=0, le=MAX_SECONDS)
    """A server's `retry-after` longer than this is not waited for."""


class Slo(_Strict):
    availability: Availability = 0.99
    """Target share of successful probes, as a fraction (0.995 = 99.5%)."""
    p95_latency_ms: float = Field(10000.0, gt=0)
    """Budget for the 95th percentile of completion latency."""


class SloOverride(_Strict):
    availability: Availability | None = None
    p95_latency_ms: float | None = Field(None, gt=0)


def effective_slo(default: Slo, override: SloOverride | None) -> Slo:
    """A model's SLO: its own targets where it sets them, the registry defaults elsewhere."""
    if override is None:
        return default
    return Slo(
        availability=override.availability or default.availability,
        p95_latency_ms=override.p95_latency_ms or default.p95_latency_ms,
    )


class Control(_Strict):
    """The control check that tells "this machine is offline" from "every provider is down"."""

    urls: tuple[str, ...] = (
        "https://www.gstatic.com/generate_204",
        "https://one.one.one.one/",
    )
    timeout_s: Seconds = 5.0

    @field_validator("urls")
    @classmethod
    def _urls_are_http(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            _check_http_url(url)
        return value


_REGION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,63}")


class StoreSetting(_Strict):
    """`defaults.store`: the history store of the commands that read this registry, when
    neither `--db` nor `$MODELAUDIT_DB` names one."""

    url: str = Field(min_length=1)
    """A file path, `sqlite:///PATH`, `postgresql://USER@HOST/DB`, or `env:VAR` / `file:PATH`
    naming where that text is."""
    password: ApiKey | None = None
    """`env:VAR` or `file:PATH`: the database password, kept out of the URL."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        return {"url": value} if isinstance(value, str) else value

    @field_validator("password", mode="before")
    @classmethod
    def _password_is_a_reference(cls, value: object) -> object:
        return parse_key_ref(value)

    @field_validator("url")
    @classmethod
    def _no_password_in_the_url(cls, value: str) -> str:
        if "://" in value and urlsplit(value).password:
            raise ValueError(
                "write the database password as `password: env:VARIABLE_NAME` (or file:PATH), "
                "not in the URL"
            )
        return value


class Defaults(_Strict):
    timeouts: Timeouts = Field(default_factory=Timeouts)
    kinds: tuple[ProbeKind, ...] = (ProbeKind.CATALOG, ProbeKind.COMPLETION)
    concurrency: Concurrency = Field(default_factory=Concurrency)
    budget: Budget = Field(default_factory=Budget)
    retry: Retry = Field(default_factory=Retry)
    slo: Slo = Field(default_factory=Slo)
    control: Control = Field(default_factory=Control)
    region: str | None = None
    """The region this registry's probe agent stamps on its runs (default: the host name)."""
    store: StoreSetting | None = None

    @field_validator("region")
    @classmethod
    def _region_is_a_word(cls, value: str | None) -> str | None:
        if value is not None and not _REGION.fullmatch(value):
            raise ValueError(
                "a region is one word of letters, digits and . _ : @ / - (at most 64 "
                "characters), e.g. eu-west"
            )
        return value

    @field_validator("kinds")
    @classmethod
    def _kinds_not_empty(cls, value: tuple[ProbeKind, ...]) -> tuple[ProbeKind, ...]:
        if not value:
            raise ValueError("list at least one probe kind, e.g. [catalog, completion]")
        return tuple(dict.fromkeys(value))


class Regulatory(_Strict):
    gated: bool = False
    """The provider's frontier models are under government pre-release control."""
    notes: Text | None = None


class Limits(_Strict):
    concurrency: int | None = Field(None, ge=1, le=256)
    """Overrides the default per-provider concurrency."""


class ModelSpec(_Strict):
    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    """The server's own name for the model, whatever characters it holds (`init` drafts
    them as served); shown escaped wherever it is shown (`outgoing`)."""
    weights: Weights
    license: Text | None = None
    family: Text | None = None
    pinned: bool = False
    retires: Day | None = None
    fallbacks: tuple[str, ...] = ()
    tags: tuple[Text, ...] = ()
    slo: SloOverride | None = None
    base_model: str | None = Field(None, max_length=MAX_ID_CHARS)
    """azure-openai only: the model behind the deployment named by `id`, for lifecycle data."""
    maintenance: Maintenance = ()
    """When this model is expected not to serve (besides its provider's windows)."""
    endpoint: str | None = None
    """Which generation endpoint of its API the model is probed on, where the API has
    several (`openai`: `chat-completions` by default, or `responses`)."""
    served_as: tuple[str, ...] = ()
    """Other model names a reply for `id` may carry: a gateway's model group or a proxy
    alias (`gpt-4o-mini-2024-07-18` for a LiteLLM group `fast`), or `"*"` for a router
    that answers with whichever model it chose. Any other name is a substitution."""

    @field_validator("fallbacks")
    @classmethod
    def _fallbacks_are_refs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for ref in value:
            provider, sep, model = ref.partition("/")
            if not sep or not provider or not model:
                raise ValueError(
                    f"fallback `{ref}` must be written provider/model, "
                    "e.g. anthropic/claude-sonnet-4-5"
                )
        return value

    @field_validator("tags")
    @classmethod
    def _tags_are_words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tag in value:
            if not tag or any(c.isspace() or c == "," for c in tag):
                raise ValueError(f"tag `{tag}` must be one word without spaces or commas")
        return value


class ProviderSpec(_Strict):
    name: str
    api: str
    base_url: str
    api_key: ApiKey | None = None
    credentials: CredentialsRef | None = None
    """A credential that is more than one key, or one the vendor's SDK finds (see the
    family's `credential_forms`); never together with `api_key`."""
    headers: dict[str, str] = Field(default_factory=dict)
    api_version: Text | None = None
    """azure-openai: the `api-version` query parameter; gemini: the path version (v1beta)."""
    region: Text | None = None
    """bedrock: the AWS region its endpoints are in (`us-east-1`); `base_url` then defaults
    to that region's runtime."""
    project: str | None = None
    """vertex: the Google Cloud project the models are called in, or `env:VARIABLE` naming
    where it is (`env:GOOGLE_CLOUD_PROJECT`)."""
    location: str | None = None
    """vertex: the region (`us-central1`, `europe-west4`...) or `global`; it also gives the
    default `base_url`."""
    server: ServerEngine | None = None
    hosting: Hosting
    jurisdiction: str | None = None
    regulatory: Regulatory = Field(default_factory=Regulatory)
    limits: Limits = Field(default_factory=Limits)
    ca_bundle: Path | None = None
    """A PEM file of CA certificates to trust for this provider (self-signed servers)."""
    models: tuple[ModelSpec, ...] = Field(min_length=1)
    maintenance: Maintenance = ()
    """When every model of this provider is expected not to serve."""

    @model_validator(mode="before")
    @classmethod
    def _base_url_from_family(cls, data: object) -> object:
        """A family whose endpoints follow from other fields (Bedrock's from `region`)
        gives the `base_url` a provider leaves out."""
        if not isinstance(data, dict) or "base_url" in data:
            return data
        api = data.get("api")
        family = FAMILIES.get(api) if isinstance(api, str) else None
        base_url = family.default_base_url(data) if family is not None else None
        return data if base_url is None else {**data, "base_url": base_url}

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, value: str) -> str:
        if not _PROVIDER_NAME.fullmatch(value):
            raise ValueError(
                f"provider name `{value}` must be lower-case letters, digits, '.', '_' or '-' "
                "(it is the first half of a provider/model reference)"
            )
        return value

    @field_validator("api")
    @classmethod
    def _api_is_known(cls, value: str) -> str:
        if value not in FAMILIES:
            known = ", ".join(sorted(FAMILIES))
            raise ValueError(
                f"unknown api `{value}` (one of: {known}; "
                "every OpenAI-compatible vendor or server is `openai`)"
            )
        return value

    @field_validator("api_key", mode="before")
    @classmethod
    def _key_is_reference(cls, value: object) -> object:
        return parse_key_ref(value)

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        _check_http_url(value)
        return value.rstrip("/")

    @field_validator("headers", mode="before")
    @classmethod
    def _headers_can_be_sent(cls, value: object) -> object:
        """No credential (it belongs in `api_key`), nothing the HTTP client sets itself, and
        names and values HTTP can carry; each name once, whatever its case."""
        if not isinstance(value, dict):
            return value  # the type check says what is wrong
        conflicts, seen = [], set()
        for name, header_value in value.items():
            if not isinstance(name, str) or not isinstance(header_value, str):
                continue  # the type check says what is wrong
            problem = header_problem(name, header_value)
            if problem is None and name.strip().lower() in seen:
                problem = f"header `{name}` is set twice (header names ignore case)"
            if problem:
                conflicts.append(FieldConflict(name, problem))
            seen.add(name.strip().lower())
        if conflicts:
            raise conflicts_error(conflicts)
        return value

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction_is_iso(cls, value: str | None) -> str | None:
        return None if value is None else check_jurisdiction(value)

    @model_validator(mode="after")
    def _consistent(self) -> ProviderSpec:
        fields = {name: getattr(self, name) for name in CROSS_CHECKED_FIELDS}
        conflicts = provider_conflicts({k: v for k, v in fields.items() if v is not None})
        conflicts.extend(self._endpoint_conflicts())
        if conflicts:
            raise conflicts_error(conflicts)
        return self

    def _endpoint_conflicts(self) -> list[FieldConflict]:
        family = FAMILIES.get(self.api)
        conflicts = []
        for model in self.models:
            problem = family and model.endpoint and family.check_endpoint(self, model.endpoint)
            if problem:
                conflicts.append(FieldConflict("models", f"model `{model.id}`: {problem}"))
        return conflicts

    @property
    def credential_ref(self) -> KeyRef | CredentialsRef | None:
        """Where the provider's credential is read, whichever form it takes; None when it
        needs none."""
        return self.api_key or self.credentials

    def concurrency(self, defaults: Concurrency) -> int:
        if self.limits.concurrency is not None:
            return self.limits.concurrency
        if self.hosting is Hosting.SELF_HOSTED:
            return defaults.per_self_hosted
        return defaults.per_provider

    def model(self, model_id: str) -> ModelSpec | None:
        return self._models_by_id.get(model_id)

    @cached_property
    def _models_by_id(self) -> dict[str, ModelSpec]:
        found: dict[str, ModelSpec] = {}
        for m in self.models:
            found.setdefault(m.id, m)  # the first, as a scan would find
        return found


CROSS_CHECKED_FIELDS = (
    "hosting",
    "server",
    "jurisdiction",
    "api",
    "base_url",
    "api_version",
    "region",
    "api_key",
    "credentials",
    "project",
    "location",
)


def provider_conflicts(
    fields: Mapping[str, object], invalid: Collection[str] = ()
) -> list[FieldConflict]:
    """Every problem between the fields of one provider.

    `fields` holds the provider's fields that are set and valid on their own (validated
    values); `invalid` names those set but wrong, whose own error is reported instead:
    a rule reading one is skipped, so each problem is told once.
    """
    conflicts: list[FieldConflict] = []
    hosting = fields.get("hosting")
    if hosting is not None and hosting is not Hosting.SELF_HOSTED:
        if "jurisdiction" not in fields and "jurisdiction" not in invalid:
            conflicts.append(
                FieldConflict(
                    "jurisdiction",
                    "a vendor or third-party provider needs `jurisdiction`: the ISO code of the "
                    "country its operator is established in (self-hosted providers may leave "
                    "it out)",
                )
            )
        if "server" in fields:
            conflicts.append(
                FieldConflict(
                    "server", "`server` names a self-hosted engine: set `hosting: self-hosted`"
                )
            )
    api, base_url, api_version = (fields.get(k) for k in ("api", "base_url", "api_version"))
    family = FAMILIES.get(api) if isinstance(api, str) else None
    if family is None:
        return conflicts
    base_url = base_url if isinstance(base_url, str) else None
    if base_url is not None and (problem := family.check_base_url(base_url)):
        conflicts.append(FieldConflict("base_url", problem))
    if "api_version" not in invalid:
        version = api_version if isinstance(api_version, str) else None
        if problem := family.check_api_version(version, base_url):
            conflicts.append(FieldConflict("api_version", problem))
    region = fields.get("region")
    if problem := family.check_region(region if isinstance(region, str) else None):
        conflicts.append(FieldConflict("region", problem))
    conflicts.extend(_credential_conflicts(family, fields, invalid))
    placement = {name: fields.get(name) for name in ("project", "location")}
    for name, problem in family.check_placement(
        base_url,
        *(value if isinstance(value, str) else None for value in placement.values()),
    ):
        if name not in invalid:
            conflicts.append(FieldConflict(name, problem))
    return conflicts


def _credential_conflicts(
    family: Family, fields: Mapping[str, object], invalid: Collection[str]
) -> list[FieldConflict]:
    if "api_key" in invalid or "credentials" in invalid:
        return []
    credentials = fields.get("credentials")
    structured = credentials if isinstance(credentials, CredentialsRef) else None
    has_key = "api_key" in fields
    if has_key and structured is not None:
        return [
            FieldConflict(
                "credentials", "set `api_key` or `credentials`, not both: remove one of them"
            )
        ]
    problem = family.check_credentials(has_key, structured)
    if problem is None:
        return []
    return [FieldConflict("credentials" if structured is not None else "api_key", problem)]


RiskWeight = Annotated[float, Field(ge=0, le=100)]


class RiskWeights(_Strict):
    """The most points each factor can add to a model's risk score (0 turns a factor off).

    A factor's points are its weight times how bad its evidence is (0 to 1). They order
    the models within a stage of the triage ladder (broken now, retiring, missing its SLO,
    exposed) and are the score of a merely exposed model; a weight never moves a model
    between stages (see `modelaudit.risk.score`).
    """

    availability: RiskWeight = 30.0
    """Availability against the model's SLO."""
    latency: RiskWeight = 10.0
    """p95 completion latency against the model's SLO."""
    lifecycle: RiskWeight = 35.0
    """Gone, retirement announced (more as the date nears), floating alias, throttled down."""
    control: RiskWeight = 15.0
    """Closed weights at the vendor (you can lose it) to open weights you host (you hold it)."""
    substitutability: RiskWeight = 25.0
    """No healthy fallback (one that answered in its latest run and meets its SLO)."""
    regulatory: RiskWeight = 10.0
    """A government-gated provider, or one outside `home_jurisdiction`."""
    concentration: RiskWeight = 10.0
    """The share of the pinned models on the same vendor or in the same jurisdiction."""


class RiskLevels(_Strict):
    """The lowest score of each level; below `elevated` a model is `low`."""

    elevated: int = Field(30, ge=1, le=100)
    high: int = Field(55, ge=1, le=100)
    critical: int = Field(80, ge=1, le=100)

    @model_validator(mode="after")
    def _ascending(self) -> RiskLevels:
        if not self.elevated < self.high < self.critical:
            raise conflicts_error(
                [
                    FieldConflict(
                        self._written("elevated", "high")
                        if self.high <= self.elevated
                        else self._written("high", "critical"),
                        "levels must rise: elevated < high < critical "
                        f"(got {self.elevated}, {self.high}, {self.critical})",
                    )
                ]
            )
        return self


class Risk(_Strict):
    """How `modelaudit report` and `drill` score business-continuity risk."""

    weights: RiskWeights = Field(default_factory=RiskWeights)
    levels: RiskLevels = Field(default_factory=RiskLevels)
    retirement_horizon_days: int = Field(180, ge=1, le=3650)
    """How far ahead an announced retirement starts to count; it counts more as it nears."""
    home_jurisdiction: str | None = None
    """Your own jurisdiction (ISO 3166-1 alpha-2): providers elsewhere add regulatory risk."""

    @field_validator("home_jurisdiction")
    @classmethod
    def _home_is_iso(cls, value: str | None) -> str | None:
        return None if value is None else check_jurisdiction(value)


class Registry(_Strict):
    version: Literal[1]
    defaults: Defaults = Field(default_factory=Defaults)
    providers: tuple[ProviderSpec, ...] = Field(min_length=1)
    risk: Risk = Field(default_factory=Risk)
    alerts: Alerts | None = None
    """Who is told when a model goes, and of what (docs/alerts.md)."""

    def provider(self, name: str) -> ProviderSpec | None:
        return self._providers_by_name.get(name)

    @cached_property
    def _providers_by_name(self) -> dict[str, ProviderSpec]:
        found: dict[str, ProviderSpec] = {}
        for p in self.providers:
            found.setdefault(p.name, p)  # the first, as a scan would find
        return found

    def open_family(self, family: str) -> tuple[tuple[ProviderSpec, ModelSpec], ...]:
        """Every model of these open weights (`family:`, `weights: open`), in registry order:
        looked up, not searched, so a report's fallback search stays linear in models."""
        return self._open_families.get(family, ())

    @cached_property
    def _open_families(self) -> dict[str, tuple[tuple[ProviderSpec, ModelSpec], ...]]:
        found: dict[str, list[tuple[ProviderSpec, ModelSpec]]] = {}
        for p in self.providers:
            for m in p.models:
                if m.family is not None and m.weights is Weights.OPEN:
                    found.setdefault(m.family, []).append((p, m))
        return {family: tuple(members) for family, members in found.items()}

    def resolve(self, ref: str) -> tuple[ProviderSpec, ModelSpec] | None:
        """Find `provider/model` (model ids may contain '/', provider names never do)."""
        provider_name, _, model_id = ref.partition("/")
        provider = self.provider(provider_name)
        model = provider.model(model_id) if provider else None
        return (provider, model) if provider and model else None

    def slo_for(self, model: ModelSpec) -> Slo:
        return effective_slo(self.defaults.slo, model.slo)


def check_jurisdiction(value: str) -> str:
    """An ISO 3166-1 alpha-2 code, or a ValueError that says which one was meant."""
    if value in COMMON_MISTAKES:
        raise ValueError(
            f"`{value}` is not an ISO 3166-1 alpha-2 code: use {COMMON_MISTAKES[value]}"
        )
    if value.upper() in ISO_3166_ALPHA2 and value != value.upper():
        raise ValueError(f"write the country code in capitals: {value.upper()}")
    if value not in ISO_3166_ALPHA2:
        raise ValueError(
            f"`{value}` is not an ISO 3166-1 alpha-2 country code (e.g. US, CN, FR, GB)"
        )
    return value


def _check_http_url(url: str) -> None:
    problem = url_problem(url)
    if problem:
        raise ValueError(problem)
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError("the URL must not have a ?query or #fragment")
