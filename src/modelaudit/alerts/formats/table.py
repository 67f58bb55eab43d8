"""`alerts list --format table`: open alerts, then undelivered messages, a line each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.clock import iso_seconds
from modelaudit.output.base import Formatter

if TYPE_CHECKING:
    from modelaudit.alerts.state import AlertOverview


class AlertsTable(Formatter["AlertOverview"]):
    def write_safe(self, value: AlertOverview) -> None:
        self.text("\n".join(lines(value)))


FORMAT = AlertsTable


def lines(overview: AlertOverview) -> list[str]:
    out = [f"open alerts: {len(overview.open)}"]
    for m in overview.open:
        scope = f" [{m.scope}]" if m.scope else ""
        out.append(
            f"  {m.route:<16} {m.kind.value:<9} {m.provider}/{m.model}{scope}: {m.told} "
            f"since {iso_seconds(m.since)}"
        )
    out.append(f"undelivered messages: {len(overview.undelivered)}")
    for d in overview.undelivered:
        error = f"; last error: {d.last_error}" if d.last_error else ""
        out.append(
            f"  #{d.id:<5} {d.route:<16} {d.target}: {d.notice.change.value} "
            f"{d.notice.provider}/{d.notice.model} {d.notice.value}, decided "
            f"{iso_seconds(d.created_at)}, {d.attempts} attempt(s){error}"
        )
    return out
