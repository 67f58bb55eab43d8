"""Every JSON document modelaudit writes has its schema committed under `docs/schemas/`: the
committed file is what its type says (a changed contract shows up in review), and what
the formats really write is valid against that type (no key it does not declare, none it
requires missing)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from modelaudit.alerts.formats import AlertsFormat
from modelaudit.alerts.state import (
    AlertOverview,
    Change,
    Delivery,
    DeliveryState,
    Kind,
    Notice,
    RouteMark,
)
from modelaudit.output.base import rendered
from modelaudit.output.documents import DOCUMENTS, document_type, schema
from modelaudit.output.history import HistoryFormat, ModelTimeline, RecentRuns
from modelaudit.probe.formats import ProbeFormat
from modelaudit.probe.formats import formatter as probe_formatter
from modelaudit.probe.plan import Selection, make_plan
from modelaudit.registry import load
from modelaudit.report.drill import Drills
from modelaudit.report.drill.json_doc import DrillJsonFormat
from modelaudit.store.base import ModelRun, ProbeOutcome, RunSummary
from modelaudit.store.export import FIELDS, ExportedAttempt, ExportLine, jsonl_line
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict
from tests.test_redaction import _check_outputs, _other_outputs, _report_outputs, _run_report
from tests.week_history import NOW, SPAN, registry, week_history

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schemas"
AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_the_committed_schema_is_what_the_documents_type_says(name: str) -> None:
    committed = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))

    assert committed == schema(name), (
        f"docs/schemas/{name}.schema.json differs from its type: if the change is meant, "
        "regenerate with `python -m modelaudit.output.documents` (and mind the versioning "
        "rule in its docstring)"
    )


def test_every_committed_schema_is_a_document() -> None:
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(
        f"{name}.schema.json" for name in DOCUMENTS
    )


def test_every_document_carries_schema_version_1() -> None:
    for name in DOCUMENTS:
        found = schema(name)
        variants = found.get("anyOf") or found.get("oneOf") or [found]
        for variant in variants:
            shown = (
                found["$defs"][variant["$ref"].rsplit("/", 1)[1]] if "$ref" in variant else variant
            )
            assert shown["properties"]["schema_version"]["const"] == 1, name


def valid(name: str, text: str) -> None:
    TypeAdapter(document_type(name)).validate_json(text)


def test_the_probe_documents_are_what_their_types_say() -> None:
    report = _run_report("a reason")
    valid("probe", rendered(ProbeFormat.JSON.formatter_class(), report))
    buffer = io.StringIO()
    lines = probe_formatter(ProbeFormat.JSONL, buffer)
    for result in report.results:
        lines.result(result)
    lines.write(report)
    plan = make_plan(load(ROOT / "providers.yaml"), Selection(), None)
    lines.write_plan(plan)
    written = buffer.getvalue().splitlines()
    assert {json.loads(line)["type"] for line in written} == {"result", "verdict", "run", "planned"}
    for line in written:
        valid("probe-line", line)
    plan_buffer = io.StringIO()
    probe_formatter(ProbeFormat.JSON, plan_buffer).write_plan(plan)
    valid("probe-plan", plan_buffer.getvalue())


def test_the_report_check_and_lockfile_documents_are_what_their_types_say() -> None:
    valid("report", _report_outputs("a reason")["report json"])
    valid("check", _check_outputs("a reason")["check json"])
    valid("lockfile", _other_outputs(_run_report("a reason"), "a reason")["lockfile"])


def test_the_drill_document_is_what_its_type_says() -> None:
    from modelaudit.report.model import build_report

    report = build_report(registry(), week_history(), now=NOW, span=SPAN)
    drills = (*report.portfolio.vendors, *report.portfolio.jurisdictions)
    assert drills
    valid("drill", rendered(DrillJsonFormat, Drills(drills, NOW)))


def test_the_providers_document_is_what_its_type_says() -> None:
    from modelaudit.output.providers.json_doc import FORMAT

    valid("providers", rendered(FORMAT, load(ROOT / "providers.yaml").registry))


def test_the_history_documents_are_what_their_types_say() -> None:
    run = RunSummary(
        7, AT, AT, RunStatus.COMPLETE, "0.1", "e" * 64, 3, 3, {Verdict.UP: 1}, ("a note",)
    )
    probe = ProbeOutcome(ProbeKind.COMPLETION, ErrorClass.OK, 1, 200, 12.5, None)
    timeline = ModelRun(7, AT, RunStatus.COMPLETE, Verdict.UP, "answered", (probe,))
    for shown in (RecentRuns((run,)), ModelTimeline("acme", "m1", (timeline,))):
        buffer = io.StringIO()
        HistoryFormat.JSON.formatter(buffer).write(shown)
        valid("history", buffer.getvalue())


def test_the_alerts_document_is_what_its_type_says() -> None:
    mark = RouteMark("ops", Kind.VERDICT, "acme", "m1", "", "down", AT, AT)
    notice = Notice(Change.OPENED, "acme", "m1", AT, value="down", reason="a reason")
    delivery = Delivery(3, "ops", "json://127.0.0.1/", notice, DeliveryState.PENDING, 1, AT)
    buffer = io.StringIO()
    AlertsFormat.JSON.formatter(buffer).write(AlertOverview((mark,), (delivery,)))
    valid("alerts", buffer.getvalue())


def test_an_export_line_is_what_its_type_says_with_the_tuples_fields_in_order() -> None:
    values: dict[str, Any] = {
        "attempt_id": 1,
        "run_id": 2,
        "run_started_at": AT,
        "run_status": "complete",
        "provider": "acme",
        "model": "m1",
        "kind": "completion",
        "attempt": 1,
        "started_at": AT,
        "error_class": "ok",
        "ratelimit": {"x-ratelimit-limit-requests": "60"},
        "detail": "answered",
    }
    attempt = ExportedAttempt(**{f: values.get(f) for f in ExportedAttempt._fields[:-2]})
    line = jsonl_line(attempt)

    valid("export-line", line)
    assert tuple(json.loads(line)) == FIELDS == tuple(ExportLine.__annotations__)
