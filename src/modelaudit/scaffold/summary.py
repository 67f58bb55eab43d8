"""What `modelaudit init` says on stderr once the registry is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelaudit.output.base import Formatter
from modelaudit.words import plural

if TYPE_CHECKING:
    from modelaudit.scaffold.build import Built


@dataclass(frozen=True)
class Written:
    built: Built
    where: str
    """`stdout` or the file's path."""
    next_steps: bool
    """Whether to say what to run next (with `-c` the file written)."""


class InitSummary(Formatter[Written]):
    def write_safe(self, value: Written) -> None:
        self.text("\n".join(lines(value)))


def lines(written: Written) -> list[str]:
    built, where = written.built, written.where
    draft = built.draft
    active = draft.active()
    models = sum(len(p.models) for p in active)
    pinned = sum(m.pinned for p in active for m in p.models)
    out = [
        f"wrote {where}: {plural(len(active), 'provider')}, {plural(models, 'model')}, "
        f"{pinned} pinned ({plural(built.requests_sent, 'request')} sent to read model "
        "lists; no tokens)"
    ]
    out += [
        f"warning: {p.name}: written commented out: {p.commented_out}"
        for p in draft.providers
        if p.commented_out is not None
    ]
    out += [f"warning: {item}" for item in built.unmapped]
    out += [f"note: {note}" for note in draft.notes]
    if written.next_steps:
        out.append(
            f"next: modelaudit config check -c {where}, then modelaudit probe --dry-run -c {where}"
        )
    return out
