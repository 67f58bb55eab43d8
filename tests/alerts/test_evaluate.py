"""What each route is told after each run: thresholds, recoveries, de-duplication,
maintenance windows, pins, retirements, risk levels and regions (the pure evaluation)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from modelaudit.alerts.evaluate import Observed, RunFacts, Subject, evaluate
from modelaudit.alerts.state import AlertSnapshot, AlertUpdate, Change, Notice
from modelaudit.history import ModelKey
from modelaudit.registry.alerting import Alerts, MaintenanceWindow
from modelaudit.vocabulary import Verdict

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
M: ModelKey = ("acme", "m1")
FALLBACK: ModelKey = ("host", "open-m")


def alerts(**route: object) -> Alerts:
    settings = {"urls": ["env:HOOK"], **route}
    return Alerts.model_validate({"routes": {"oncall": settings}})


@dataclass
class Memory:
    """The store's side, kept in memory: applies each update as the store would."""

    config: Alerts
    subjects: dict[ModelKey, Subject] = field(
        default_factory=lambda: {M: Subject(*M, pinned=True, fallbacks=("host/open-m",))}
    )
    snapshot: AlertSnapshot = field(default_factory=lambda: AlertSnapshot(0))
    run_id: int = 0

    def run(
        self,
        verdict: Verdict | Mapping[ModelKey, Verdict],
        *,
        at: datetime | None = None,
        **facts: object,
    ) -> list[Notice]:
        self.run_id += 1
        seen = verdict if isinstance(verdict, Mapping) else {M: verdict}
        started = at or T0 + timedelta(hours=self.run_id)
        ran = RunFacts(
            run_id=self.run_id,
            started_at=started,
            verdicts={k: Observed(v, f"{v.value} because") for k, v in seen.items()},
            now=started,
            **facts,  # type: ignore[arg-type]
        )
        update = evaluate(self.snapshot, ran, self.config, self.subjects)
        self.apply(update)
        return [d.notice for d in update.deliveries]

    def apply(self, update: AlertUpdate) -> None:
        trackers = {**self.snapshot.trackers, **{t.key: t for t in update.trackers}}
        marks = {k: m for k, m in self.snapshot.marks.items() if k not in update.cleared}
        marks.update({m.key: m for m in update.marks})
        self.snapshot = AlertSnapshot(update.watermark or 0, trackers, marks)


def told(notices: list[Notice]) -> list[tuple[Change, str]]:
    return [(n.change, n.value) for n in notices]


def test_down_is_told_after_two_runs_once_and_its_recovery_after_two_up_runs() -> None:
    memory = Memory(alerts())
    assert memory.run(Verdict.UP) == []
    assert memory.run(Verdict.DOWN) == []  # one blip pages nobody
    opened = memory.run(Verdict.DOWN)
    assert told(opened) == [(Change.OPENED, "down")]
    assert opened[0].since == T0 + timedelta(hours=2)  # since the first failing run
    assert memory.run(Verdict.DOWN) == []  # one notification per transition, not per run
    assert memory.run(Verdict.UP) == []
    recovered = memory.run(Verdict.UP)
    assert told(recovered) == [(Change.RECOVERED, "up")]
    assert recovered[0].previous == "down"
    assert memory.run(Verdict.UP) == []


def test_gone_and_blocked_are_told_after_one_run() -> None:
    memory = Memory(alerts())
    memory.run(Verdict.UP)
    assert told(memory.run(Verdict.GONE)) == [(Change.OPENED, "gone")]
    memory.run(Verdict.UP)
    memory.run(Verdict.UP)
    assert told(memory.run(Verdict.BLOCKED)) == [(Change.OPENED, "blocked")]


def test_inconclusive_and_skipped_runs_neither_open_nor_close_nor_break_a_streak() -> None:
    memory = Memory(alerts())
    memory.run(Verdict.DOWN)
    assert memory.run(Verdict.INCONCLUSIVE) == []
    assert memory.run(Verdict.SKIPPED) == []
    assert told(memory.run(Verdict.DOWN)) == [(Change.OPENED, "down")]
    memory.run(Verdict.UP)
    assert memory.run(Verdict.INCONCLUSIVE) == []
    assert told(memory.run(Verdict.UP)) == [(Change.RECOVERED, "up")]


def test_a_change_between_failing_verdicts_is_told_once_confirmed() -> None:
    memory = Memory(alerts())
    memory.run(Verdict.DOWN)
    memory.run(Verdict.DOWN)
    changed = memory.run(Verdict.GONE)
    assert told(changed) == [(Change.CHANGED, "gone")]
    assert changed[0].previous == "down"
    assert memory.run(Verdict.DOWN) == []  # down needs two runs of its own to be told again
    assert told(memory.run(Verdict.DOWN)) == [(Change.CHANGED, "down")]


def test_thresholds_come_from_the_registry() -> None:
    config = Alerts.model_validate(
        {
            "routes": {"oncall": {"urls": ["env:HOOK"]}},
            "failure_threshold": {"gone": 3},
            "success_threshold": 1,
        }
    )
    memory = Memory(config)
    assert memory.run(Verdict.GONE) == []
    assert memory.run(Verdict.GONE) == []
    assert told(memory.run(Verdict.GONE)) == [(Change.OPENED, "gone")]
    assert told(memory.run(Verdict.UP)) == [(Change.RECOVERED, "up")]


def test_a_route_hears_only_the_events_it_asked_for_and_recoveries_of_what_it_heard() -> None:
    memory = Memory(alerts(events=["gone", "recovered"]))
    memory.run(Verdict.DOWN)
    assert memory.run(Verdict.DOWN) == []  # down: not asked for
    assert memory.run(Verdict.UP) == []
    assert memory.run(Verdict.UP) == []  # nor its recovery: the route never heard it
    assert told(memory.run(Verdict.GONE)) == [(Change.OPENED, "gone")]


def test_pinned_lost_tells_of_pinned_models_only() -> None:
    memory = Memory(alerts(events=["pinned_lost"]))
    memory.subjects[("acme", "m2")] = Subject("acme", "m2", pinned=False)
    notices = memory.run({M: Verdict.GONE, ("acme", "m2"): Verdict.GONE})
    assert [(n.ref, n.value, n.pinned) for n in notices] == [("acme/m1", "gone", True)]


def test_filters_by_provider_model_tag_and_pin() -> None:
    memory = Memory(alerts(filter={"tags": ["prod"], "pinned": True}))
    memory.subjects = {
        ("a", "tagged"): Subject("a", "tagged", pinned=True, tags=frozenset({"prod"})),
        ("a", "untagged"): Subject("a", "untagged", pinned=True),
        ("a", "loose"): Subject("a", "loose", tags=frozenset({"prod"})),
    }
    notices = memory.run(dict.fromkeys(memory.subjects, Verdict.GONE))
    assert [n.ref for n in notices] == ["a/tagged"]
    by_model = Memory(alerts(filter={"models": ["b/x", "y"], "providers": ["b"]}))
    by_model.subjects = {k: Subject(*k) for k in [("b", "x"), ("b", "y"), ("c", "y"), ("b", "z")]}
    notices = by_model.run(dict.fromkeys(by_model.subjects, Verdict.GONE))
    assert sorted(n.ref for n in notices) == ["b/x", "b/y"]


def test_each_url_of_a_route_gets_the_message() -> None:
    memory = Memory(alerts(urls=["env:ONE", "file:two.url"]))
    update = evaluate(
        memory.snapshot,
        RunFacts(1, T0, {M: Observed(Verdict.GONE, "404")}, now=T0),
        memory.config,
        memory.subjects,
    )
    assert [(d.route, d.target) for d in update.deliveries] == [
        ("oncall", "env:ONE"),
        ("oncall", "file:two.url"),
    ]


def test_a_run_already_applied_changes_nothing() -> None:
    memory = Memory(alerts())
    memory.run(Verdict.GONE)
    again = evaluate(
        memory.snapshot,
        RunFacts(1, T0, {M: Observed(Verdict.UP, "ok")}, now=T0),
        memory.config,
        memory.subjects,
    )
    assert again.empty


def test_the_message_carries_reason_pin_last_answer_and_healthy_fallbacks() -> None:
    memory = Memory(alerts())
    last = T0 - timedelta(days=1)
    notices = memory.run({M: Verdict.GONE, FALLBACK: Verdict.UP}, last_ok={M: last})
    assert notices[0].reason == "gone because"
    assert notices[0].pinned
    assert notices[0].last_ok == last
    assert notices[0].fallbacks == ("host/open-m (up)",)
    # The fallback not probed in this run: as last seen.
    memory.run({M: Verdict.UP})
    memory.run({M: Verdict.UP})
    notices = memory.run({M: Verdict.BLOCKED})
    assert notices[0].fallbacks == ("host/open-m (up, last run that probed it)",)


def test_no_alert_inside_a_maintenance_window() -> None:
    window = MaintenanceWindow.model_validate(
        {"days": ["mon"], "start": "08:00", "end": "12:00", "timezone": "UTC"}
    )
    memory = Memory(alerts())
    memory.subjects[M] = Subject(*M, maintenance=(window,))
    monday = T0  # 09:00 UTC, inside
    assert memory.run(Verdict.GONE, at=monday) == []
    assert memory.run(Verdict.GONE, at=monday + timedelta(minutes=30)) == []
    after = monday + timedelta(hours=4)
    assert told(memory.run(Verdict.GONE, at=after)) == [(Change.OPENED, "gone")]
    # Nor a recovery: the window's runs are not decisive either way.
    assert memory.run(Verdict.UP, at=monday + timedelta(days=7)) == []
    assert memory.run(Verdict.UP, at=monday + timedelta(days=7, minutes=5)) == []
    assert memory.run(Verdict.UP, at=after + timedelta(days=7)) == []
    assert told(memory.run(Verdict.UP, at=after + timedelta(days=7, hours=1))) == [
        (Change.RECOVERED, "up")
    ]


def test_a_retirement_is_told_once_a_day_until_it_is_dealt_with() -> None:
    memory = Memory(alerts(events=["retiring"], retiring_within_days=30))
    memory.subjects[M] = Subject(*M, retires=date(2026, 3, 20))
    first = memory.run(Verdict.UP, at=T0)
    assert told(first) == [(Change.RETIRING, "2026-03-20")]
    assert first[0].days_left == 18
    assert memory.run(Verdict.UP, at=T0 + timedelta(hours=5)) == []  # same day
    assert len(memory.run(Verdict.UP, at=T0 + timedelta(days=1))) == 1  # the next day
    memory.subjects[M] = Subject(*M, retires=date(2026, 12, 1))  # the date moved away
    assert memory.run(Verdict.UP, at=T0 + timedelta(days=2)) == []
    assert memory.snapshot.marks == {}


def test_a_retirement_the_catalog_announces_counts_too() -> None:
    memory = Memory(alerts(events=["retiring"], retiring_within_days=7))
    notices = memory.run(Verdict.UP, at=T0, catalog_retires={M: date(2026, 3, 5)})
    assert [(n.value, n.days_left) for n in notices] == [("2026-03-05", 3)]


def test_a_risk_level_crossing_is_told_both_ways() -> None:
    memory = Memory(alerts(events=["risk"], risk_level="high"))
    assert memory.run(Verdict.UP, risk={M: ("elevated", 40)}) == []
    rose = memory.run(Verdict.UP, risk={M: ("high", 60)})
    assert [(n.change, n.value, n.score) for n in rose] == [(Change.RISK, "high", 60)]
    assert memory.run(Verdict.UP, risk={M: ("high", 62)}) == []
    assert told(memory.run(Verdict.UP, risk={M: ("critical", 85)})) == [(Change.RISK, "critical")]
    assert told(memory.run(Verdict.UP, risk={M: ("elevated", 35)})) == [
        (Change.RISK_EASED, "elevated")
    ]


def test_withdrawn_in_one_region_while_answering_in_another() -> None:
    memory = Memory(alerts(events=["region_withdrawn"]))
    both = {M: {"eu": Verdict.UP, "us": Verdict.UP}}
    assert memory.run(Verdict.UP, regions=both) == []
    split = {M: {"eu": Verdict.BLOCKED, "us": Verdict.UP}}
    notices = memory.run(Verdict.UP, regions=split)
    assert [(n.change, n.regions, n.answering) for n in notices] == [
        (Change.WITHDRAWN, ("eu",), ("us",))
    ]
    assert memory.run(Verdict.UP, regions=split) == []
    notices = memory.run(Verdict.UP, regions=both)
    assert [(n.change, n.regions) for n in notices] == [(Change.RESTORED, ("eu",))]
