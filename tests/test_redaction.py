"""Redaction works on values, before any format serializes them: whatever a server says and
whatever the key is, every output format still parses and none carries the key.

The property test drives every format from the values it renders (probe JSON, JSON lines
and table; report JSON, Markdown, HTML and table; the five `check` formats; the lockfile;
the metrics). `tests/hostile/test_servers.py` drives the commands themselves end to end.
"""

from __future__ import annotations

import io
import json
from dataclasses import fields, replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import TypeVar
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelaudit.gate.formats import CheckFormat, formatter
from modelaudit.gate.lockfile import Lock, LockEntry, dumps
from modelaudit.gate.observe import Observation
from modelaudit.gate.pins import Pin
from modelaudit.history import DriftEvent, VerdictPoint
from modelaudit.metrics.prometheus import MetricsState
from modelaudit.outgoing import json_text, outgoing, outgoing_each, safe_text
from modelaudit.probe.formats import ProbeFormat
from modelaudit.probe.formats import formatter as probe_formatter
from modelaudit.probe.result import (
    Attempt,
    CatalogFinding,
    ControlCheck,
    ModelVerdict,
    ProbeResult,
    RunReport,
)
from modelaudit.redact import MASK, MIN_SECRET_CHARS, redact, register_secret
from modelaudit.report.formats.base import ReportFormat
from modelaudit.report.model import build_report
from modelaudit.report.render import render
from modelaudit.schedule.ping import Pinger
from modelaudit.vocabulary import ErrorClass, ProbeKind, RunStatus, Verdict
from tests.gate.reports import report_of
from tests.week_history import NOW, SPAN, at, registry, week_history

AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
T = TypeVar("T")

# --- redact, one string at a time ------------------------------------------------------------


@pytest.mark.parametrize("key", ["ollama", "null", "sk-1234", "none", "x" * (MIN_SECRET_CHARS - 1)])
def test_a_key_shorter_than_the_safe_length_is_public(key: str) -> None:
    register_secret(key)

    text = f'provider ollama: {{"detail": null}}, key sk-1234, none, {"x" * 11}'
    assert redact(text) == text


def test_a_key_is_masked_in_any_case() -> None:
    key = "sk-canary-CaseVariant0042"
    register_secret(key)

    for echoed in (key, key.upper(), key.lower(), key.swapcase()):
        assert redact(f"invalid key {echoed}!") == f"invalid key {MASK}!"


def test_a_piece_of_a_key_in_another_case_is_masked() -> None:
    key = "sk-canary-PieceInCase0077"
    register_secret(key)

    assert key[3:18].upper() not in redact(f"bad key {key[3:18].upper()}...").upper()


@pytest.mark.parametrize(
    "text",
    [
        "could not ping https://ops:hunter2-secret@hc.example.test/ping/abc",
        "proxy http://user:pass@proxy.corp.test:3128 refused",
        "Location: ftp://anonymous:mail@files.test/x",
    ],
)
def test_user_info_in_a_url_is_masked(text: str) -> None:
    masked = redact(text)

    assert "hunter2" not in masked
    assert "user:pass" not in masked
    assert "anonymous:mail" not in masked
    assert f":{MASK}@" in masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://probe@127.0.0.1/db", "postgresql://probe@127.0.0.1/db"),
        ("https://ghs_Tokenlike0123456789@git.test/x", f"https://{MASK}@git.test/x"),
    ],
)
def test_a_short_user_name_is_public_and_a_long_one_may_be_a_token(
    text: str, expected: str
) -> None:
    assert redact(text) == expected


def test_a_ping_failure_names_the_host_only(capsys: pytest.CaptureFixture[str]) -> None:
    warnings: list[str] = []
    pinger = Pinger("https://ops:hunter2-secret@hc.example.test:8443/ping/uuid", warnings.append)

    assert pinger._host() == "https://hc.example.test:8443"


def test_outgoing_copies_values_and_never_changes_them() -> None:
    key = "sk-canary-OutgoingValue001"
    register_secret(key)
    attempt = Attempt(1, AT, ErrorClass.AUTH_FAILED, detail=f"bad key {key}")

    cleaned = outgoing(attempt)

    assert key in attempt.detail
    assert cleaned.detail == f"bad key {MASK}"
    assert outgoing(cleaned) is cleaned  # nothing left to change: the same value


def test_outgoing_each_masks_a_key_in_every_item_that_repeats_it() -> None:
    key = "sk-canary-RepeatedItems0042"
    register_secret(key)
    detail = f"bad key {key}"
    attempts = [Attempt(n, AT, ErrorClass.AUTH_FAILED, detail=detail) for n in range(3)]

    cleaned = list(outgoing_each(attempts))

    assert [a.detail for a in cleaned] == [f"bad key {MASK}"] * 3
    assert [a.number for a in cleaned] == [0, 1, 2]


def test_a_list_shared_by_many_values_is_masked_in_each_and_made_once() -> None:
    key = "sk-canary-SharedCatalog0042"
    register_secret(key)
    listed = (*(f"model-{n:02d}" for n in range(30)), f"leaked {key}")
    attempt = Attempt(1, AT, ErrorClass.OK)
    results = [
        ProbeResult("p", f"model-{n:02d}", ProbeKind.CATALOG, (attempt,), catalog_ids=listed)
        for n in range(3)
    ]

    cleaned = list(outgoing_each(results))

    assert all(r.catalog_ids is not None and r.catalog_ids[-1] == f"leaked {MASK}" for r in cleaned)
    assert cleaned[0].catalog_ids is cleaned[2].catalog_ids  # one copy, as the one original
    assert listed[-1] == f"leaked {key}"  # the original is left as it was


def test_json_text_never_writes_a_number_json_has_no_word_for() -> None:
    document = {"retry_after_s": float("nan"), "ceiling": float("inf"), "n": [float("-inf")]}

    assert json.loads(json_text(document)) == {"retry_after_s": None, "ceiling": None, "n": [None]}


def test_control_characters_are_shown_never_interpreted() -> None:
    assert safe_text("a\x1b[2Jb\x07\u202ec\x9b") == "a\\x1b[2Jb\\x07\\u202ec\\x9b"


# --- every format, any text, any key -----------------------------------------------------------

KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/="
"""What API keys and tokens are made of (base64, base64url, vendor prefixes)."""
# Keys are registered for the rest of the process: no character twice, so that no run of
# 12 of them can be a piece of another test's ordinary text ("000000000000", "------------").
keys = st.lists(
    st.sampled_from(KEY_ALPHABET), min_size=MIN_SECRET_CHARS, max_size=40, unique=True
).map("".join)
texts = st.text(max_size=120)


@st.composite
def echoes(draw: st.DrawFn) -> tuple[str, str]:
    """A key, and server text that echoes it (in any case) among arbitrary characters."""
    key = draw(keys)
    shown = draw(st.sampled_from([key, key.upper(), key.lower(), key.swapcase()]))
    quoted = draw(st.sampled_from(["{}", '"{}"', "Bearer {}", "?key={}", 'header "x: {}"']))
    return key, draw(texts) + quoted.format(shown) + draw(texts)


def _run_report(text: str) -> RunReport:
    attempt = Attempt(
        1,
        AT,
        ErrorClass.AUTH_FAILED,
        http_status=401,
        retry_after_s=float("nan"),
        served_model=text,
        system_fingerprint=text,
        ratelimit=(("x-ratelimit-limit-requests", text),),
        detail=text,
    )
    catalog = ProbeResult(
        "acme",
        "m1",
        ProbeKind.CATALOG,
        (replace(attempt, error_class=ErrorClass.OK),),
        catalog=CatalogFinding(listed=True, lifecycle=text, note=text, resolved_id=text),
        catalog_ids=("m1", text),
    )
    completion = ProbeResult("acme", "m1", ProbeKind.COMPLETION, (attempt,))
    return RunReport(
        AT,
        AT,
        RunStatus.COMPLETE,
        (catalog, completion),
        (ModelVerdict("acme", "m1", Verdict.BLOCKED, text, ErrorClass.AUTH_FAILED),),
        control=ControlCheck(True, "http://127.0.0.1:9/", text),
        notes=(text,),
    )


def _probe_outputs(report: RunReport) -> dict[str, str]:
    outputs = {}
    for kind in ProbeFormat:
        buffer = io.StringIO()
        out = probe_formatter(kind, buffer)
        for result in report.results:
            out.result(result)
        out.write(report)
        outputs[f"probe {kind.value}"] = buffer.getvalue()
    return outputs


def _report_outputs(text: str) -> dict[str, str]:
    history = week_history()
    key = ("acme", "acme-large-2026-01-15")
    history.verdict_rows[key] = [VerdictPoint(1, at(160), Verdict.DOWN, text)]
    history.drift_rows.append(DriftEvent(*key, at(161), "served_model", text, text))
    report = build_report(registry(), history, now=NOW, span=SPAN)
    return {f"report {kind.value}": render(report, kind) for kind in ReportFormat}


def _check_outputs(text: str) -> dict[str, str]:
    pin = Pin("acme", "m1", 10, None, "e" * 64)
    seen = {pin.key: Observation(Verdict.GONE, text, served_model=text, live=True)}
    outputs = {}
    for kind in CheckFormat:
        written = io.StringIO()
        formatter(kind, written).write(report_of((pin,), seen))
        outputs[f"check {kind.value}"] = written.getvalue()
    return outputs


def _other_outputs(report: RunReport, text: str) -> dict[str, str]:
    from prometheus_client import CollectorRegistry, generate_latest

    entry = LockEntry("acme", "m1", text, date(2027, 1, 1), "catalog", AT, "e" * 64)
    metrics = MetricsState()
    metrics.record(replace(report, verdicts=(ModelVerdict("acme", text, Verdict.UP, text),)))
    collectors = CollectorRegistry(auto_describe=False)
    collectors.register(metrics)
    return {"lockfile": dumps(Lock((entry,))), "metrics": generate_latest(collectors).decode()}


def _assert_parses(name: str, output: str) -> None:
    if name in ("probe json", "report json", "check json", "check sarif", "lockfile"):
        json.loads(output)
    elif name == "probe jsonl":
        for line in output.splitlines():
            json.loads(line)
    elif name == "check junit":
        ET.fromstring(output.split("\n", 1)[1])  # noqa: S314 - ours
    elif name == "report html":
        HTMLParser().feed(output)
    elif name == "metrics":
        from prometheus_client.parser import text_string_to_metric_families

        list(text_string_to_metric_families(output))
    elif name == "check github":  # no value can start a workflow command of its own
        commands = [line for line in output.splitlines() if line.startswith("::")]
        assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in commands)


PROPERTY = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _check(key: str, outputs: dict[str, str]) -> None:
    for name, output in outputs.items():
        _assert_parses(name, output)
        assert key.lower() not in output.lower(), name
        assert "\x1b" not in output, name


@PROPERTY
@given(echoes())
def test_probe_formats_parse_and_never_carry_the_key(echo: tuple[str, str]) -> None:
    key, text = echo
    register_secret(key)  # as credentials.read_key does the moment a key is read
    report = _run_report(text)

    _check(key, {**_probe_outputs(report), **_other_outputs(report, text)})


def _with_text_everywhere(value: T, text: str) -> T:
    """`value` with every field that may hold a string (by its annotation) set to `text`:
    a field added later is covered without this test knowing its name."""
    shapes = {
        "str": text,
        "str | None": text,
        "tuple[str, ...] | None": (text,),
        "tuple[tuple[str, str], ...]": ((text, text),),
    }
    made = {f.name: shapes[str(f.type)] for f in fields(value) if str(f.type) in shapes}  # type: ignore[arg-type]
    assert all("str" not in str(f.type) or f.name in made for f in fields(value))  # type: ignore[arg-type]
    return replace(value, **made)  # type: ignore[type-var]


def test_the_probe_json_document_masks_a_key_in_every_string_field() -> None:
    """The JSON document makes safe only the strings that may come from outside, each
    where it is put in (`document.result_json`): a string field it forgot would leak."""
    key = "sk-canary-EveryField000042"
    register_secret(key)
    text = f"echo {key}"
    attempt = _with_text_everywhere(Attempt(1, AT, ErrorClass.OK), text)
    finding = _with_text_everywhere(CatalogFinding(listed=True), text)
    results = tuple(
        _with_text_everywhere(
            ProbeResult("acme", "m1", kind, (attempt, attempt), catalog=finding), text
        )
        for kind in (ProbeKind.CATALOG, ProbeKind.COMPLETION)
    )
    verdict = _with_text_everywhere(ModelVerdict("acme", "m1", Verdict.UP, ""), text)
    report = RunReport(AT, AT, RunStatus.COMPLETE, results, (verdict,), notes=(text,))

    for name, output in _probe_outputs(report).items():
        assert key not in output, name
        assert key.lower() not in output.lower(), name
        if name == "probe json":
            document = json.loads(output)
            assert document["results"][0]["ratelimit"] == {f"echo {MASK}": f"echo {MASK}"}
            assert document["verdicts"][0]["provider"] == f"echo {MASK}"


@PROPERTY
@given(echoes())
def test_report_formats_parse_and_never_carry_the_key(echo: tuple[str, str]) -> None:
    key, text = echo
    register_secret(key)

    _check(key, _report_outputs(text))


@PROPERTY
@given(echoes())
def test_check_formats_parse_and_never_carry_the_key(echo: tuple[str, str]) -> None:
    key, text = echo
    register_secret(key)

    _check(key, _check_outputs(text))


def test_an_alert_never_carries_a_key_its_markdown_would_escape() -> None:
    from modelaudit.alerts.message import Envelope, compose
    from modelaudit.alerts.state import Change, Notice

    key = "sk_live_abc_def_ghi_jkl_mno"  # escaped for Markdown, no run of 12 stays whole
    register_secret(key)
    notice = Notice(Change.OPENED, "acme", "m1", AT, value="down", reason=f"bad key {key}")

    message = compose(notice, Envelope(route="ops"))

    for shown in (message.title, message.markdown, message.text):
        assert key not in shown.replace("\\", "")
    assert MASK.replace("[", "").replace("]", "") in message.markdown
