"""The known vendors and local servers (`vendors.yaml`), typed.

One table that `init`, `discover --from-env`, the LiteLLM import and the README's vendor
list all read. `python -m modelaudit.registry.vendors` prints the README's table.
"""

from __future__ import annotations

import fnmatch
import os
import re
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelaudit.families import FAMILIES
from modelaudit.registry.schema import check_jurisdiction
from modelaudit.vocabulary import Hosting, ServerEngine

_ENV_VAR = re.compile(r"[A-Z_][A-Z0-9_]*")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdConventions(_Entry):
    snapshots: str | None = None
    """How a dated (fixed) id looks, in words for people."""
    aliases: str | None = None
    """How a floating id looks, in words for people."""
    undated: Literal["alias", "snapshot", "unknown"] = "unknown"
    """What an id without a date or version stamp is at this vendor."""
    lookup_resolves: bool = False
    """The look-up by id answers an alias with the snapshot it points at."""


class Vendor(_Entry):
    name: str
    title: str
    api: str
    base_url: str | None = None
    """None when there is no common endpoint (Azure: each resource has its own)."""
    base_url_env: str
    keys: tuple[str, ...] = Field(min_length=1)
    jurisdiction: str
    hosting: Literal[Hosting.VENDOR, Hosting.THIRD_PARTY]
    weights: Literal["closed", "open", "mixed"]
    router: bool = False
    from_env: bool = True
    litellm: tuple[str, ...] = ()
    bare_ids: tuple[str, ...] = ()
    ids: IdConventions = Field(default_factory=IdConventions)
    docs: str

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"`{value}` is not a providers.yaml provider name")
        return value

    @field_validator("api")
    @classmethod
    def _family(cls, value: str) -> str:
        if value not in FAMILIES:
            raise ValueError(f"unknown api `{value}`")
        return value

    @field_validator("jurisdiction")
    @classmethod
    def _iso(cls, value: str) -> str:
        return check_jurisdiction(value)

    @field_validator("base_url_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_VAR.fullmatch(value):
            raise ValueError(f"`{value}` is not an environment variable name")
        return value

    @field_validator("keys")
    @classmethod
    def _key_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            cls._env_name(name)
        return value

    @model_validator(mode="after")
    def _base_url_fits_family(self) -> Vendor:
        if self.base_url is not None:
            problem = FAMILIES[self.api].check_base_url(self.base_url)
            if problem:
                raise ValueError(f"{self.name}: {problem}")
        return self

    def resolved_base_url(self) -> str | None:
        """`base_url_env` when set (a proxy, a regional endpoint, a test's fake), else the
        table's base URL."""
        override = os.environ.get(self.base_url_env, "").strip()
        return override.rstrip("/") if override else self.base_url

    def key_set(self) -> str | None:
        """The first key variable that is set and not empty (its name, never its value)."""
        return next((name for name in self.keys if os.environ.get(name, "").strip()), None)

    def serves_bare_id(self, model_id: str) -> bool:
        return any(fnmatch.fnmatchcase(model_id, pattern) for pattern in self.bare_ids)


class LocalServer(_Entry):
    engine: ServerEngine
    title: str
    ports: tuple[int, ...] = Field(min_length=1)
    api: Literal["openai", "ollama"]
    path: str
    litellm: tuple[str, ...] = ()


class VendorTable(_Entry):
    version: Literal[1]
    vendors: tuple[Vendor, ...]
    servers: tuple[LocalServer, ...]

    @model_validator(mode="after")
    def _unique(self) -> VendorTable:
        for what, values in (
            ("vendor name", [v.name for v in self.vendors]),
            ("base_url_env", [v.base_url_env for v in self.vendors]),
            (
                "LiteLLM prefix",
                [p for v in self.vendors for p in v.litellm]
                + [p for s in self.servers for p in s.litellm],
            ),
            ("server engine", [s.engine for s in self.servers]),
        ):
            seen: set[object] = set()
            for value in values:
                if value in seen:
                    raise ValueError(f"{what} `{value}` appears twice")
                seen.add(value)
        return self

    def vendor(self, name: str) -> Vendor | None:
        return next((v for v in self.vendors if v.name == name), None)

    def server(self, engine: ServerEngine) -> LocalServer:
        return next(s for s in self.servers if s.engine is engine)

    def default_ports(self) -> tuple[int, ...]:
        """Every server's default ports, each once, in the table's order."""
        return tuple(dict.fromkeys(p for s in self.servers for p in s.ports))


@cache
def table() -> VendorTable:
    text = resources.files("modelaudit.registry").joinpath("vendors.yaml").read_text("utf-8")
    return VendorTable.model_validate(yaml.safe_load(text))


def readme_table() -> str:
    """The README's vendor list, as Markdown (the test keeps the README equal to it)."""
    rows = [
        "| Vendor | `init` name | api | Base URL (override) | Key | Jurisdiction | Hosting "
        "| Snapshot ids |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v in table().vendors:
        base = f"`{v.base_url}`" if v.base_url else "your resource's endpoint"
        keys = " or ".join(f"`{k}`" for k in v.keys)
        snapshots = v.ids.snapshots or (
            "dateless ids are fixed" if v.ids.undated == "snapshot" else ""
        )
        rows.append(
            f"| {v.title} | `{v.name}` | `{v.api}` | {base} (`{v.base_url_env}`) | {keys} "
            f"| {v.jurisdiction} | {v.hosting.value} | {snapshots.replace('|', '/')} |"
        )
    rows += [
        "",
        "| Local server | Default ports (127.0.0.1) | api |",
        "|---|---|---|",
    ]
    for s in table().servers:
        ports = ", ".join(str(p) for p in s.ports)
        rows.append(f"| {s.title} (`server: {s.engine.value}`) | {ports} | `{s.api}` |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(readme_table())
