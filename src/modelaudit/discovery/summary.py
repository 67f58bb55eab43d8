"""What `modelaudit discover` says on stderr after its data: a line per provider, and
what was sent."""

from __future__ import annotations

from modelaudit.discovery.document import DiscoverDocument
from modelaudit.output.base import Formatter
from modelaudit.words import plural


class DiscoverSummary(Formatter[DiscoverDocument]):
    def write_safe(self, value: DiscoverDocument) -> None:
        self.text("\n".join(lines(value)))


def lines(doc: DiscoverDocument) -> list[str]:
    out = []
    for p in doc.providers:
        if p.status != "listed":
            out.append(f"warning: {p.provider}: {p.status}: {p.detail}")
            continue
        line = f"{p.provider}: {plural(p.listed, 'model')} listed ({p.found_by})"
        if p.since_snapshot is not None:
            s = p.since_snapshot
            line += (
                f"; since the list stored at {s.taken_at}: {len(s.appeared)} new, "
                f"{len(s.vanished)} gone"
            )
        not_listed = [r for r in p.registry_models if r.status != "listed"]
        if not_listed:
            line += f"; {len(not_listed)} registry models not listed"
        out.append(line)
    out.append(
        f"{plural(doc.requests_sent, 'request')} sent, no tokens (list reads and look-ups by "
        "id only)"
    )
    return out
