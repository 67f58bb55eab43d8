"""The five `check` formats: valid against their published schemas, located at each pin's
own line, escaped for where they go, and free of secrets."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from modelaudit.exitcodes import ExitCode
from modelaudit.gate.decide import Policy, Status
from modelaudit.gate.formats import CheckFormat, formatter, github, sarif
from modelaudit.gate.observe import Observation
from modelaudit.gate.pins import Pin
from modelaudit.gate.rules import RULES
from modelaudit.gate.run import GateReport
from modelaudit.redact import register_secret
from modelaudit.vocabulary import ErrorClass, Verdict
from tests.gate.registries import ACME_LARGE_LINE, COMMENTED, OTHER_BIG_LINE
from tests.gate.reports import TODAY, registry_pins, report_of

SCHEMAS = Path(__file__).parent / "schemas"
CANARY = "sk-proj-GATEcanary0123456789abcdefXYZ"
NASTY = 'odd % text\r\nwith: commas, <b>tags</b> & "quotes" | pipes `ticks` \x07bell'


def many_pins() -> tuple[Pin, ...]:
    return tuple(
        Pin("acme", f"m{i}", 10 + i, None, "e" * 64, fallbacks=("other/x",)) for i in range(6)
    )


def everything() -> GateReport:
    """One pin per severity, with text that needs escaping in every format."""
    pins = many_pins()
    seen = {
        pins[0].key: Observation(Verdict.GONE, f"catalog: not in the catalog; {NASTY}"),
        pins[1].key: Observation(Verdict.INCONCLUSIVE, "catalog: connect_failed (offline)"),
        pins[2].key: Observation(Verdict.SKIPPED, "ACME_API_KEY is not set"),
        pins[3].key: Observation(
            Verdict.DOWN, "catalog: 500 server_error", ErrorClass.SERVER_ERROR
        ),
        pins[4].key: Observation(Verdict.UP, "listed", listed=True),
        pins[5].key: Observation(Verdict.UP, "listed", listed=True),
    }
    pins = (*pins[:5], replace(pins[5], retires=_date(10)))
    return report_of(pins, seen)


def _date(days: int) -> date:
    return TODAY + timedelta(days=days)


def test_everything_has_one_pin_per_severity() -> None:
    result = everything().result

    assert [o.status for o in result.outcomes] == [
        Status.GONE,
        Status.INCONCLUSIVE,
        Status.SKIPPED,
        Status.DOWN,
        Status.OK,
        Status.RETIRING,
    ]
    assert result.exit_code is ExitCode.POLICY


# --- junit ---------------------------------------------------------------------------------


@pytest.mark.parametrize("schema", ["JUnit.xsd", "junit-10.xsd"])
def test_junit_is_valid_against_the_ant_and_jenkins_schemas(schema: str) -> None:
    document = formatter(CheckFormat.JUNIT, io.StringIO()).render(everything())

    xmlschema.XMLSchema(SCHEMAS / schema).validate(document)


def test_junit_fails_errors_and_skips_the_right_testcases() -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(formatter(CheckFormat.JUNIT, io.StringIO()).render(everything()))  # noqa: S314 - ours

    assert root.tag == "testsuite"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "6",
        "2",
        "1",
        "1",
    )
    outcome = {
        case.get("name"): [(child.tag, child.get("type")) for child in case]
        for case in root.iter("testcase")
    }
    assert outcome == {
        "m0": [("failure", "gone")],
        "m1": [("error", "inconclusive")],
        "m2": [("skipped", None)],
        "m3": [],
        "m4": [],
        "m5": [("failure", "retiring")],
    }
    failure = root.find("testcase[@name='m0']/failure")
    assert failure is not None
    assert "<b>tags</b>" in (failure.get("message") or "")
    assert "\x07" not in (failure.get("message") or "")


def test_junit_carries_the_warning_of_a_pin_that_passes_with_one() -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(formatter(CheckFormat.JUNIT, io.StringIO()).render(everything()))  # noqa: S314 - ours

    # m3 is down, which fails the build only with --fail-on down: a pass with a warning.
    assert list(root.find("testcase[@name='m3']") or []) == []
    warnings = [p.get("value") for p in root.iter("property") if p.get("name") == "warning"]
    assert warnings == [
        "acme/m3 (providers.yaml:13): Pinned model is down: catalog: 500 server_error"
    ]


# --- sarif ---------------------------------------------------------------------------------


def test_sarif_is_valid_sarif_2_1_0() -> None:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    log = json.loads(formatter(CheckFormat.SARIF, io.StringIO()).render(everything()))

    jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    ).validate(log)
    assert log["version"] == "2.1.0"


def test_sarif_results_sit_on_the_pins_lines_with_stable_rule_ids() -> None:
    report = everything()
    log = json.loads(formatter(CheckFormat.SARIF, io.StringIO()).render(report))

    (run,) = log["runs"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == [rule.id for rule in RULES.values()]
    located = [
        (
            r["ruleId"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    ]
    assert located == [
        ("pin-gone", "error", "providers.yaml", 10),
        ("pin-inconclusive", "warning", "providers.yaml", 11),
        ("pin-skipped", "note", "providers.yaml", 12),
        ("pin-down", "warning", "providers.yaml", 13),
        ("pin-retiring", "error", "providers.yaml", 15),
    ]
    assert all(rule_ids[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    assert run["invocations"][0]["exitCode"] == 1


def test_sarif_fingerprints_survive_moved_lines_and_passing_days() -> None:
    pin = Pin("acme", "m1", 10, _date(12), "e" * 64)
    moved = replace(pin, line=40, retires=_date(11))
    seen = {pin.key: Observation(Verdict.UP, "listed")}

    def prints(p: Pin) -> list[str]:
        log = json.loads(formatter(CheckFormat.SARIF, io.StringIO()).render(report_of((p,), seen)))
        return [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in log["runs"][0]["results"]]

    other = replace(pin, model="m2")
    seen[other.key] = seen[pin.key]
    assert prints(pin) == prints(moved)
    assert prints(pin) != prints(other)


# --- github --------------------------------------------------------------------------------


def test_annotations_point_at_each_pins_own_line_in_a_commented_registry(
    isolated_env: Path,
) -> None:
    pins = registry_pins(isolated_env)
    seen = {
        pins[0].key: Observation(Verdict.GONE, "catalog: not in the catalog (3 models listed)"),
        pins[1].key: Observation(Verdict.UP, "listed"),
    }
    report = report_of(pins, seen, policy=Policy(warn_days=90))

    lines = github.annotation_lines(report)

    assert lines == [
        f"::error file=providers.yaml,line={ACME_LARGE_LINE},title=Pinned model is gone%3A "
        "acme/acme-large::catalog: not in the catalog (3 models listed)",
        f"::error file=providers.yaml,line={OTHER_BIG_LINE},title=Pinned model retires soon%3A "
        "other/big::retires on 2027-01-31, in 63 days (within --warn-days 90, per "
        "providers.yaml); no fallback declared",
    ]
    assert COMMENTED.splitlines()[ACME_LARGE_LINE - 1].strip() == "- id: acme-large"


def test_workflow_command_escaping() -> None:
    assert github.escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert github.escape_property("a: b, c%\n") == "a%3A b%2C c%25%0A"


def test_an_annotation_cannot_be_split_or_forged_by_provider_text() -> None:
    report = everything()

    (first, *_) = github.annotation_lines(report)

    assert "\n" not in first
    assert "\r" not in first
    assert "odd %25 text%0D%0Awith: commas" in first
    assert first.count("::") == 2


def test_at_most_ten_annotations_and_the_tenth_counts_the_rest() -> None:
    pins = tuple(Pin("acme", f"m{i:02}", 10 + i, None, "e" * 64) for i in range(14))
    seen = {p.key: Observation(Verdict.GONE, "gone") for p in pins}

    lines = github.annotation_lines(report_of(pins, seen))

    assert len(lines) == 10
    assert all(line.startswith("::error ") for line in lines[:9])
    assert lines[9] == (
        "::notice title=modelaudit check::5 more pinned models need attention: "
        "see the job log or step summary"
    )


def test_ten_annotations_fit_without_a_notice() -> None:
    pins = tuple(Pin("acme", f"m{i:02}", 10 + i, None, "e" * 64) for i in range(10))
    seen = {p.key: Observation(Verdict.GONE, "gone") for p in pins}

    lines = github.annotation_lines(report_of(pins, seen))

    assert len(lines) == 10
    assert all(line.startswith("::error ") for line in lines)


def test_the_step_summary_is_appended_when_github_gives_a_file(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = isolated_env / "summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    formatter(CheckFormat.GITHUB, sys.stdout).write(everything())

    text = summary.read_text()
    assert text.startswith("# earlier step\n### modelaudit check: exit 1: ")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Result | Pinned model | Status | Retires | Where | Detail |"
    assert rows[2].startswith("| ❌ FAIL | acme/m0 | gone |  | providers.yaml:10 | gone: catalog")
    assert "\\| pipes `ticks`" in rows[2]  # a code span, as GitHub shows it
    assert "&lt;b&gt;tags&lt;/b&gt; &amp;" in rows[2]
    assert all(row.count(" | ") == 5 for row in rows[2:])
    assert "| ❌ FAIL | acme/m5 | retiring | 2026-12-09 (in 10 days) |" in text
    assert capsys.readouterr().out.startswith("::error file=providers.yaml,line=10,")


def test_the_step_summary_renders_code_as_code_and_text_as_text() -> None:
    from markdown_it import MarkdownIt

    cell = github.markdown_cell(
        "ACME_API_KEY is not set: export `ACME_API_KEY`; a `x|y` code; <b>tag</b> `odd"
    )
    html = MarkdownIt("commonmark").enable("table").render(f"| a |\n| --- |\n| {cell} |\n")

    assert "<code>ACME_API_KEY</code>" in html
    assert "<code>x|y</code>" in html
    assert "&lt;b&gt;tag&lt;/b&gt;" in html
    assert "`odd" in html  # an unpaired backtick is a backtick
    assert "\\" not in html  # no escape shows literally


def test_no_step_summary_without_the_variable(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    formatter(CheckFormat.GITHUB, sys.stdout).write(everything())

    assert sorted(p.name for p in isolated_env.iterdir()) == []
    assert "modelaudit check: 6 pinned models" in capsys.readouterr().out


# --- json and text -------------------------------------------------------------------------


def test_json_is_versioned_and_says_why_for_each_pin() -> None:
    document = json.loads(formatter(CheckFormat.JSON, io.StringIO()).render(everything()))

    assert document["schema_version"] == 1
    assert (document["exit_code"], document["today"]) == (1, "2026-11-29")
    assert document["summary"] == {"pass": 1, "warn": 1, "skipped": 1, "error": 1, "fail": 2}
    assert document["policy"] == {
        "warn_days": 30,
        "retiring": "fail",
        "fail_on": [],
        "allow_skipped": False,
        "live": False,
    }
    retiring = document["pins"][5]
    assert {k: retiring[k] for k in ("provider", "model", "line", "severity", "status")} == {
        "provider": "acme",
        "model": "m5",
        "line": 15,
        "severity": "fail",
        "status": "retiring",
    }
    assert (retiring["retires"], retiring["retires_source"], retiring["days_left"]) == (
        "2026-12-09",
        "registry",
        10,
    )
    assert retiring["fallbacks"] == ["other/x"]


def test_text_lists_the_worst_first_and_ends_with_the_exit_code() -> None:
    pins = many_pins()[:2]
    seen = {
        pins[0].key: Observation(Verdict.UP, "listed"),
        pins[1].key: Observation(Verdict.GONE, "catalog: not in the catalog (2 models listed)"),
    }

    text = formatter(CheckFormat.TEXT, io.StringIO()).render(report_of(pins, seen))

    assert text.splitlines() == [
        "modelaudit check: 2 pinned models in providers.yaml, as of 2026-11-29 "
        "(catalog only: no tokens spent)",
        "  FAIL     acme/m1  providers.yaml:11  gone: catalog: not in the catalog "
        "(2 models listed)",
        "  ok       acme/m0  providers.yaml:10  listed",
        "note: no lockfile: served-model drift is not checked (`modelaudit lock` writes one)",
        "result: 1 failing, 1 ok; exit 1: a pinned model is gone, retired, retiring, drifted "
        "or failing",
    ]


# --- secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(CheckFormat))
def test_no_format_carries_a_key_even_when_a_provider_echoes_it(
    kind: CheckFormat,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    register_secret(CANARY)  # as credentials.read_key does the moment a key is read
    summary = isolated_env / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    pin = Pin("acme", "m1", 10, None, "e" * 64)
    echoed = f"catalog: 401 Incorrect API key provided: {CANARY}"
    seen = {pin.key: Observation(Verdict.BLOCKED, echoed, ErrorClass.AUTH_FAILED)}

    formatter(kind, sys.stdout).write(report_of((pin,), seen))

    out = capsys.readouterr().out
    assert "Incorrect API key provided" in out
    assert CANARY not in out
    assert CANARY not in (summary.read_text() if summary.exists() else "")


def test_every_status_that_needs_attention_has_one_stable_rule() -> None:
    ids = [rule.id for rule in RULES.values()]

    assert set(RULES) == set(Status) - {Status.OK}
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("pin-") for i in ids)
