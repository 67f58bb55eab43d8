"""Alerting after a stored run, as `probe` and `watch` do it: decide (one short write
transaction), then deliver what is pending (this run's messages and any an earlier run
could not send), bounded by `alerts.send_timeout_s`.

What happens when the process dies at each point (the delivery protocol is record
`pending` -> claim `sending` -> send -> settle `sent`):

* before the decision commits: nothing of it is stored; the run's verdicts are not applied
  to the trackers (the run counts as if it were inconclusive) and nobody is told twice;
* after the decision, before a delivery is claimed: it stays `pending`; the next run
  sends it (late, and the message says when it was decided);
* after the claim, before or while sending, or after sending but before `sent` is
  recorded: the delivery stays `sending` with this process as its claimer; the next run
  finds the claimer gone and sends it again, marked "possibly a repeat". This last window
  (between the service's answer and one UPDATE) is the only one that can duplicate;
  nothing is ever lost;
* a send that fails (service down, refused) is settled `pending` with its error, and the
  next run retries it; `modelaudit alerts list` shows it meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from modelaudit.alerts.evaluate import (
    FAILING,
    Observed,
    RunFacts,
    evaluate,
    subjects_of,
)
from modelaudit.alerts.message import Envelope, compose
from modelaudit.errors import StoreError
from modelaudit.registry.alerting import AlertEvent
from modelaudit.vocabulary import ProbeKind, Verdict

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from pathlib import Path

    from modelaudit.alerts.send import Job, Outcome, Sender
    from modelaudit.alerts.state import Delivery
    from modelaudit.history import ModelKey
    from modelaudit.probe.result import RunReport
    from modelaudit.registry.alerting import Alerts
    from modelaudit.registry.schema import Registry
    from modelaudit.store.base import Store

CLAIM_LIMIT = 1000
"""Messages one run sends at most; more wait for the next run."""
RISK_SPAN = timedelta(days=7)
"""The window risk levels are computed over for alerts, as `report`'s default."""


@dataclass(frozen=True)
class Tally:
    decided: int = 0
    sent: int = 0
    failed: int = 0
    in_flight: int = 0


class Alerting:
    """Open for the life of a command; `after_run` once per stored run."""

    def __init__(
        self, store: Store, warn: Callable[[str], None], info: Callable[[str], None]
    ) -> None:
        self.store = store
        self.warn = warn
        self.info = info
        self._sender: Sender | None = None

    def after_run(
        self, registry: Registry, base_dir: Path, report: RunReport, run_id: int, scope: str = ""
    ) -> Tally:
        """`scope`: the agent's region in a fleet ("" alone): its verdicts are followed
        apart from other regions'."""
        alerts = registry.alerts
        if alerts is None:
            return Tally()
        try:
            facts = replace(self.facts(registry, alerts, report, run_id), scope=scope)
            subjects = subjects_of(registry)
            decided = self.store.update_alerts(
                facts.scope, lambda snapshot: evaluate(snapshot, facts, alerts, subjects)
            )
            return self.deliver(alerts, base_dir, decided=len(decided.deliveries))
        except StoreError as exc:
            self.warn(f"alerts were not evaluated: the history store failed ({exc.reason})")
            return Tally()

    def facts(self, registry: Registry, alerts: Alerts, report: RunReport, run_id: int) -> RunFacts:
        verdicts = {(v.provider, v.model): Observed(v.verdict, v.reason) for v in report.verdicts}
        last_ok = {}
        for key, seen in verdicts.items():
            if seen.verdict in FAILING:
                when = self.store.last_ok(*key, before=report.started_at)
                if when is not None:
                    last_ok[key] = when
        return RunFacts(
            run_id=run_id,
            started_at=report.started_at,
            verdicts=verdicts,
            now=datetime.now(UTC),
            last_ok=last_ok,
            catalog_retires=_catalog_retires(report),
            risk=self._risk(registry) if _listens(alerts, AlertEvent.RISK) else None,
            regions=self._regions() if _listens(alerts, AlertEvent.REGION_WITHDRAWN) else None,
        )

    def _risk(self, registry: Registry) -> dict[ModelKey, tuple[str, int]]:
        from modelaudit.report.model import build_report

        built = build_report(
            registry, self.store.history(), now=datetime.now(UTC), span=RISK_SPAN, timelines=False
        )
        return {
            (m.provider, m.model): (m.risk.level.value, m.risk.score)
            for m in built.models
            if m.in_registry and m.risk is not None
        }

    def _regions(self) -> dict[ModelKey, dict[str, Verdict]]:
        """Each model's latest decisive verdict per region, from the fleet's runs of the
        last `SAME_TIME` (an agent silent for longer says nothing about now)."""
        from modelaudit.history import Window
        from modelaudit.risk.regions import SAME_TIME

        now = datetime.now(UTC)
        points = self.store.history().verdicts(Window(now - SAME_TIME, now + timedelta(minutes=1)))
        latest: dict[ModelKey, dict[str, Verdict]] = {}
        for key, found in points.items():
            for point in sorted(found, key=lambda p: (p.at, p.run_id)):
                if not point.verdict.undecided:
                    latest.setdefault(key, {})[point.region] = point.verdict
        return latest

    def deliver(self, alerts: Alerts, base_dir: Path, decided: int = 0) -> Tally:
        """Send what is pending, within `alerts.send_timeout_s`; settle each outcome."""
        from modelaudit.alerts.send import Sender

        if self._sender is None or self._sender.base_dir != base_dir:
            self._sender = Sender(base_dir, alerts.max_parallel_sends)
        sender = self._sender
        self._settle(sender.finished_late())
        claimed = self.store.claim_deliveries(CLAIM_LIMIT)
        jobs = [job for d in claimed if (job := self._job(d, alerts)) is not None]
        if not jobs:
            return Tally(decided=decided)
        outcomes, in_flight = sender.send(jobs, alerts.send_timeout_s)
        self._settle(outcomes)
        sent = sum(o.sent for o in outcomes)
        failed = [o for o in outcomes if not o.sent]
        if sent:
            self.info(f"alerts: {sent} message{'s' if sent != 1 else ''} sent")
        for outcome in failed[:5]:
            self.warn(
                f"alert #{outcome.delivery_id} not sent ({outcome.error}); the next run retries it"
            )
        if len(failed) > 5:
            self.warn(
                f"{len(failed) - 5} more alerts not sent; `modelaudit alerts list` shows them"
            )
        if in_flight:
            self.warn(
                f"{len(in_flight)} alert(s) still sending after {alerts.send_timeout_s:g} s; "
                "if they do not finish, the next run sends them again"
            )
        return Tally(decided, sent, len(failed), len(in_flight))

    def _job(self, delivery: Delivery, alerts: Alerts) -> Job | None:
        from modelaudit.alerts.send import Job

        route = alerts.routes.get(delivery.route)
        ref = next((u for u in route.urls if str(u) == delivery.target), None) if route else None
        now = datetime.now(UTC)
        if route is None or ref is None:
            gone = "route" if route is None else "URL"
            self.store.drop_delivery(delivery.id, f"its {gone} is no longer in the registry", now)
            return None
        envelope = Envelope(
            route=delivery.route,
            delivery_id=delivery.id,
            repeat=delivery.repeat,
            report_url=alerts.report_url,
            now=now,
        )
        return Job(delivery.id, ref, compose(delivery.notice, envelope))

    def _settle(self, outcomes: list[Outcome]) -> None:
        now = datetime.now(UTC)
        for outcome in outcomes:
            self.store.settle_delivery(
                outcome.delivery_id, sent=outcome.sent, error=outcome.error, at=now
            )


def _listens(alerts: Alerts, event: AlertEvent) -> bool:
    return any(route.wants(event) for route in alerts.routes.values())


def _catalog_retires(report: RunReport) -> dict[ModelKey, date]:
    return {
        (r.provider, r.model): r.catalog.retires
        for r in report.results
        if r.kind is ProbeKind.CATALOG and r.catalog is not None and r.catalog.retires
    }
