"""`modelaudit init`: write a commented providers.yaml from what this machine can see."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelaudit.cli import console
from modelaudit.cli.discover import LocalPortsOption, OnlyOption

if TYPE_CHECKING:
    from modelaudit.scaffold.build import Built, Request
    from modelaudit.scaffold.draft import Draft

STDOUT = Path("-")


def init(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write. Default: $MODELAUDIT_CONFIG, then ./providers.yaml. "
            "`-` writes to stdout.",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    interactive: Annotated[
        bool, typer.Option("--interactive", "-i", help="Ask which models to pin.")
    ] = False,
    from_litellm: Annotated[
        Path | None,
        typer.Option(
            "--from-litellm",
            help="Import a LiteLLM proxy config (model_list, router_settings.fallbacks).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    from_openrouter: Annotated[
        bool,
        typer.Option(
            "--from-openrouter",
            help="Write OpenRouter's whole catalog (narrow it with --only).",
        ),
    ] = False,
    only: OnlyOption = None,
    pin: Annotated[
        list[str] | None,
        typer.Option(
            "--pin",
            help="Pin this model: provider/id or an id; an alias pins its dated snapshot "
            "(repeatable).",
        ),
    ] = None,
    local_ports: LocalPortsOption = None,
    no_local: Annotated[
        bool, typer.Option("--no-local", help="Do not look for servers on loopback ports.")
    ] = False,
) -> int:
    """Write a commented providers.yaml: the known vendors whose keys are set, the LLM
    servers on this machine's loopback ports, their models (pins as dated snapshots), and
    open-weight fallbacks across them. Or import a LiteLLM config."""
    from modelaudit.errors import UsageError
    from modelaudit.scaffold.build import Request, build
    from modelaudit.scaffold.from_catalogs import Selection
    from modelaudit.scaffold.render import render
    from modelaudit.scaffold.write import check_target, write_new

    target = _target(output)
    if target != STDOUT:
        check_target(target, force=force)
    request = Request(
        litellm=from_litellm,
        openrouter=from_openrouter,
        selection=Selection(tuple(only or ())),
        pins=tuple(pin or ()),
    )
    if request.from_environment and not no_local:
        request = _with_ports(request, local_ports)
    built = build(request, _ask_pins if interactive else None)
    if not built.draft.active():
        raise UsageError(_nothing_found(built))
    from modelaudit.outgoing import outgoing

    text = render(outgoing(built.draft))  # what servers named, redacted before it is YAML
    if target == STDOUT:
        _check_text(text)
        console.data(text)
    else:
        write_new(target, text, force=force, check=_check_file)
    _report(built, target)
    return 0


def _target(output: Path | None) -> Path:
    import os

    from modelaudit.registry.loader import CONFIG_ENV, DEFAULT_NAME

    if output is not None:
        return output
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env) if from_env else Path(DEFAULT_NAME)


def _with_ports(request: Request, option: str | None) -> Request:
    from dataclasses import replace

    from modelaudit.discovery.localscan import ports_to_scan

    try:
        ports = ports_to_scan(option)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--local-ports") from None
    return replace(request, ports=ports)


def _check_file(path: Path) -> None:
    """The written file must load as it is: otherwise the draft is a bug, never the user's."""
    from modelaudit import registry
    from modelaudit.errors import ConfigError

    try:
        registry.load(path)
    except ConfigError as exc:
        raise AssertionError(f"init drafted an invalid registry: {exc.problems}") from None


def _check_text(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "providers.yaml"
        path.write_text(text, encoding="utf-8")
        _check_file(path)


def _ask_pins(draft: Draft) -> list[str]:
    refs: list[str] = []
    for provider in draft.active():
        console.info(f"{provider.name} ({provider.base_url}):")
        for number, model in enumerate(provider.models, 1):
            also = f" (alias: {', '.join(model.also)})" if model.also else ""
            console.info(f"  {number:>3}  {model.id}{also}")
        chosen = _numbers(provider.name, len(provider.models))
        refs += [provider.ref(provider.models[n - 1]) for n in chosen]
    return refs


def _numbers(name: str, count: int) -> list[int]:
    while True:
        answer = typer.prompt(
            f"Pin which {name} models? (numbers such as 1,3; Enter for none)",
            default="",
            show_default=False,
            err=True,
        )
        words = [w.strip() for w in answer.replace(" ", ",").split(",") if w.strip()]
        if all(w.isdigit() and 1 <= int(w) <= count for w in words):
            return sorted({int(w) for w in words})
        console.warn(f"answer with numbers from 1 to {count}, separated by commas")


def _nothing_found(built: Built) -> str:
    from modelaudit.registry.vendors import table

    lines = ["nothing to write: no provider with a model was found"]
    lines += [f"  {note}" for note in built.draft.notes]
    lines += [f"  {item}" for item in built.unmapped]
    keys = ", ".join(v.keys[0] for v in table().vendors if v.from_env)
    lines.append(
        f"  export a vendor's key ({keys}...), start a local server, or import a config "
        "with --from-litellm"
    )
    return "\n".join(lines)


def _report(built: Built, target: Path) -> None:
    from modelaudit.scaffold.summary import InitSummary, Written

    where = "stdout" if target == STDOUT else str(target)
    written = Written(built, where, next_steps=target != STDOUT)
    InitSummary(console.human(), console.options()).write(written)
