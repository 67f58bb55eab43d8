"""Alerting's memory in the history store: one transaction per evaluation, deliveries
claimed by one process at a time, a claim whose process died handed on as a possible
repeat, failures kept for the next run, nothing stored unredacted."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from modelaudit.alerts.state import (
    AlertSnapshot,
    AlertUpdate,
    Change,
    DeliveryState,
    Kind,
    NewDelivery,
    Notice,
    RouteMark,
    Tracker,
)
from modelaudit.redact import register_secret
from modelaudit.store.backends import locate
from modelaudit.store.base import Store
from tests.store.backends_fixture import location  # noqa: F401 - the fixture

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(location: str) -> Iterator[Store]:  # noqa: F811 - the fixture imported above
    """The same tests against SQLite and a real PostgreSQL server."""
    with locate(location).open() as opened:
        yield opened


def claimer_script(where: str, body: str) -> str:
    return "\n".join(
        [
            "from modelaudit.store.backends import locate",
            f"with locate({where!r}).open() as store:",
            *(f"    {line}" for line in textwrap.dedent(body).strip().splitlines()),
        ]
    )


def notice(model: str = "m", reason: str = "404") -> Notice:
    return Notice(Change.OPENED, "acme", model, created_at=NOW, value="gone", reason=reason)


def pending(store: Store, count: int, reason: str = "404") -> None:
    store.update_alerts(
        "",
        lambda _: AlertUpdate(
            watermark=1,
            deliveries=tuple(
                NewDelivery("oncall", "env:HOOK", notice(f"m{i}", reason)) for i in range(count)
            ),
        ),
    )


def test_an_evaluation_reads_and_writes_in_one_transaction(store: Store) -> None:
    tracker = Tracker("acme", "m", confirmed="gone", confirmed_since=NOW, last="gone", last_runs=1)
    mark = RouteMark("oncall", Kind.VERDICT, "acme", "m", "", "gone", NOW, NOW)
    store.update_alerts("", lambda _: AlertUpdate(watermark=7, trackers=(tracker,), marks=(mark,)))
    seen: list[AlertSnapshot] = []

    def decide(snapshot: AlertSnapshot) -> AlertUpdate:
        seen.append(snapshot)
        return AlertUpdate(watermark=5, cleared=(mark.key,))

    store.update_alerts("", decide)
    assert seen[0].watermark == 7
    assert seen[0].trackers == {tracker.key: tracker}
    assert seen[0].marks == {mark.key: mark}
    assert store.alert_overview().open == ()

    def fails(_: AlertSnapshot) -> AlertUpdate:
        raise RuntimeError("a bug while deciding")

    with pytest.raises(RuntimeError):
        store.update_alerts("", fails)
    store.update_alerts("", lambda snapshot: seen.append(snapshot) or AlertUpdate())  # type: ignore[func-returns-value]
    assert seen[-1].watermark == 7  # never moves back


def test_a_delivery_is_claimed_once_settled_or_retried(store: Store) -> None:
    pending(store, 2)
    first = store.claim_deliveries(10)
    assert [(d.notice.model, d.state, d.attempts, d.repeat) for d in first] == [
        ("m0", DeliveryState.SENDING, 1, False),
        ("m1", DeliveryState.SENDING, 1, False),
    ]
    assert store.claim_deliveries(10) == []  # claimed by this live process
    store.settle_delivery(first[0].id, sent=True, error=None, at=NOW)
    store.settle_delivery(first[1].id, sent=False, error="connection refused", at=NOW)
    again = store.claim_deliveries(10)
    assert [(d.notice.model, d.attempts, d.last_error) for d in again] == [
        ("m1", 2, "connection refused")
    ]
    store.drop_delivery(again[0].id, "its route is no longer in the registry", NOW)
    assert store.claim_deliveries(10) == []
    assert store.alert_overview().undelivered == ()


def test_a_claim_whose_process_died_is_sent_again_as_a_possible_repeat(
    store: Store,
    location: str,  # noqa: F811
) -> None:
    pending(store, 1)
    claimer = claimer_script(location, "assert len(store.claim_deliveries(10)) == 1")
    subprocess.run([sys.executable, "-c", claimer], check=True, timeout=60)
    (claimed,) = store.claim_deliveries(10)
    assert claimed.repeat
    assert claimed.attempts == 2


def test_two_processes_claiming_at_once_never_claim_the_same_delivery(
    store: Store,
    location: str,  # noqa: F811
) -> None:
    pending(store, 60)
    claimer = "import time\n" + claimer_script(
        location,
        """
        ids = []
        for _ in range(30):
            ids += [d.id for d in store.claim_deliveries(2)]
        print(" ".join(map(str, ids)))
        time.sleep(0.5)  # alive while the other claims: its claims are not stale
        """,
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", claimer], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    claimed = [int(i) for p in procs for i in p.communicate(timeout=120)[0].split()]
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 60


def test_nothing_secret_is_stored(store: Store) -> None:
    canary = "sk-canary-store-ZZQ9abcdefghijklmnopqrst"
    register_secret(canary)
    tracker = Tracker("acme", "m", confirmed="down", reason=f"boom {canary}")
    store.update_alerts("", lambda _: AlertUpdate(trackers=(tracker,)))
    pending(store, 1, reason=f"server said: bad key {canary}")
    (claimed,) = store.claim_deliveries(1)
    store.settle_delivery(claimed.id, sent=False, error=f"echoed {canary}", at=NOW)
    seen: list[AlertSnapshot] = []
    store.update_alerts("", lambda snapshot: seen.append(snapshot) or AlertUpdate())  # type: ignore[func-returns-value]
    stored = repr(seen) + repr(store.alert_overview())
    assert "boom [REDACTED]" in stored
    assert canary not in stored
    assert canary[:12] not in stored
