"""Maintenance windows as periods (weekly in a time zone, past midnight, across a DST
change, one-off), their validation in providers.yaml, and the report leaving them out of
availability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelaudit.errors import ConfigError
from modelaudit.maintenance import covering, periods, total
from modelaudit.registry import load
from modelaudit.registry.alerting import MaintenanceWindow


def window(**fields: object) -> MaintenanceWindow:
    return MaintenanceWindow.model_validate(fields)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_a_weekly_window_in_a_time_zone_past_midnight() -> None:
    saturday_night = window(days=["sat"], start="23:00", end="02:00", timezone="Europe/Berlin")
    found = periods([saturday_night], utc(2026, 1, 1), utc(2026, 1, 15))
    # Saturdays 3 and 10 January 2026, 23:00 CET (UTC+1) to Sunday 02:00.
    assert [(p.start, p.end) for p in found] == [
        (utc(2026, 1, 3, 22), utc(2026, 1, 4, 1)),
        (utc(2026, 1, 10, 22), utc(2026, 1, 11, 1)),
    ]
    assert covering([saturday_night], utc(2026, 1, 4, 0, 30)) is not None
    assert covering([saturday_night], utc(2026, 1, 4, 1, 0)) is None  # half-open


def test_a_weekly_window_keeps_its_local_time_across_a_dst_change() -> None:
    sunday = window(days=["sun"], start="02:30", end="04:00", timezone="America/New_York")
    found = periods([sunday], utc(2026, 3, 1), utc(2026, 3, 16))
    # EST (UTC-5) on 1 March; EDT (UTC-4) from 8 March on.
    assert [p.end for p in found] == [utc(2026, 3, 1, 9), utc(2026, 3, 8, 8), utc(2026, 3, 15, 8)]


def test_a_one_off_window_and_merged_overlaps_clipped_to_the_range() -> None:
    once = window(start="2026-07-01T22:00", end="2026-07-02T02:00", timezone="UTC")
    daily = window(days=["wed", "thu"], start="01:00", end="03:00")
    found = periods([once, daily], utc(2026, 7, 1, 23), utc(2026, 7, 2, 12))
    assert [(p.start, p.end) for p in found] == [(utc(2026, 7, 1, 23), utc(2026, 7, 2, 3))]
    assert total(found) == timedelta(hours=4)
    aware = window(start="2026-07-01T22:00+02:00", end="2026-07-01T23:00+02:00")
    assert periods([aware], utc(2026, 7, 1), utc(2026, 7, 2))[0].start == utc(2026, 7, 1, 20)


def test_24_00_is_the_end_of_the_day() -> None:
    evening = window(days=["fri"], start="20:00", end="24:00")
    found = periods([evening], utc(2026, 3, 6), utc(2026, 3, 8))
    assert [(p.start, p.end) for p in found] == [(utc(2026, 3, 6, 20), utc(2026, 3, 7))]


REGISTRY = """version: 1
providers:
  - name: local
    api: openai
    base_url: http://127.0.0.1:9/v1
    hosting: self-hosted
    maintenance:
{windows}
    models:
      - id: m
        weights: open
"""


@pytest.mark.parametrize(
    ("written", "where", "message"),
    [
        ("{days: [sun], start: 22:00, end: '04:00'}", "24: .start", 'quote the time, e.g. "22:00"'),
        ("{days: [sun], start: '25:00', end: '04:00'}", "24: .start", "is not a time of day"),
        ("{days: [sunday], start: '01:00', end: '02:00'}", "11: .days[0]", "`sunday` is not one"),
        ("{days: [], start: '01:00', end: '02:00'}", "10: .days", "list at least one day"),
        ("{start: 2026-07-02T01:00, end: 2026-07-01T23:00}", "3: ", "`end` must come after"),
        ("{start: soon, end: 2026-07-01T23:00}", "11: .start", "`soon` is not a date and time"),
        ("{start: '01:00', end: '02:00'}", "3: ", "say on which `days`"),
        (
            "{days: [mon], timezone: Mars/Olympus, start: '1:00', end: '2:00'}",
            "27: .timezone",
            "not a time zone",
        ),
        ("{days: [mon], start: '01:00', end: '02:00', every: 2}", "47: .every", "unknown field"),
    ],
)
def test_a_bad_window_is_a_registry_problem_at_its_line_and_column(
    tmp_path: Path, written: str, where: str, message: str
) -> None:
    """`where`: the column in `written` (after `      - `) and the field's path."""
    path = tmp_path / "providers.yaml"
    path.write_text(REGISTRY.format(windows=f"      - {written}"))
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert len(caught.value.problems) == 1, caught.value.problems
    column, _, field = where.partition(": ")
    at = f"{path}:8:{int(column) + 6}: providers[0].maintenance[0]{field}: "
    assert caught.value.problems[0].startswith(at), caught.value.problems[0]
    assert message in caught.value.problems[0]


def test_the_report_marks_windows_and_leaves_their_attempts_out_of_availability(
    tmp_path: Path,
) -> None:
    from modelaudit.report.formats.base import ReportFormat
    from modelaudit.report.model import build_report
    from modelaudit.report.render import render
    from modelaudit.store.sqlite.store import SqliteStore
    from modelaudit.vocabulary import ErrorClass
    from tests.store.synthetic import at, completion

    path = tmp_path / "providers.yaml"
    path.write_text(
        REGISTRY.replace("name: local", "name: acme").format(
            windows="      - {days: [sun], start: '02:00', end: '04:00'}"
        )
    )
    registry = load(path).registry
    with SqliteStore.open(tmp_path / "h.sqlite3") as store:
        run = store.begin_run(at(), None)
        # 1 March 2026 is a Sunday: four failures inside 02:00-04:00, six answers outside.
        failures = [
            completion("m", at(hours=2, minutes=m), ErrorClass.SERVER_ERROR)
            for m in (0, 30, 60, 90)
        ]
        answers = [completion("m", at(hours=h)) for h in (0, 1, 4, 5, 6, 7)]
        store.add_results(run, [*failures, *answers])
        built = build_report(registry, store.history(), now=at(hours=8), span=timedelta(days=1))
    (model,) = built.models
    assert (model.availability.ok, model.availability.n) == (6, 6)
    assert model.excluded == 4
    assert [(p.start, p.end) for p in model.maintenance] == [(at(hours=2), at(hours=4))]
    assert "maintenance: 1 window, 2 h" in render(built, ReportFormat.HTML)
    document = render(built, ReportFormat.JSON)
    assert '"maintenance": [' in document
