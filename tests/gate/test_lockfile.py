"""modelaudit.lock: a stable, sorted, diff-friendly JSON document that reads back exactly,
refuses what it cannot trust with a one-line fix, and is replaced atomically."""

from __future__ import annotations

import difflib
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from modelaudit import __version__
from modelaudit.errors import UsageError
from modelaudit.gate import lockfile
from modelaudit.gate.lockfile import Lock, LockEntry

AT = datetime(2026, 11, 29, 12, 30, 5, 123000, tzinfo=UTC)
ZED = LockEntry("zed", "z-1", "z-1-2026", None, None, AT, "1" * 64)
ACME = LockEntry("acme", "large", "large-2026-10-01", date(2027, 1, 31), "registry", AT, "2" * 64)


def test_the_format_is_sorted_keys_one_object_per_pin_sorted_by_pin() -> None:
    text = lockfile.dumps(Lock((ZED, ACME)))

    assert text == (
        "{\n"
        f'  "generated_by": "modelaudit {__version__}",\n'
        '  "pins": [\n'
        "    {\n"
        f'      "entry_sha256": "{"2" * 64}",\n'
        '      "model": "large",\n'
        '      "provider": "acme",\n'
        '      "retires": "2027-01-31",\n'
        '      "retires_source": "registry",\n'
        '      "served_model": "large-2026-10-01",\n'
        '      "verified_at": "2026-11-29T12:30:05.123Z"\n'
        "    },\n"
        "    {\n"
        f'      "entry_sha256": "{"1" * 64}",\n'
        '      "model": "z-1",\n'
        '      "provider": "zed",\n'
        '      "retires": null,\n'
        '      "retires_source": null,\n'
        '      "served_model": "z-1-2026",\n'
        '      "verified_at": "2026-11-29T12:30:05.123Z"\n'
        "    }\n"
        "  ],\n"
        '  "schema_version": 1\n'
        "}\n"
    )


def test_it_reads_back_what_it_wrote(isolated_env: Path) -> None:
    path = isolated_env / "modelaudit.lock"
    lockfile.write(path, Lock((ZED, ACME)))

    back = lockfile.read(path)

    assert back is not None
    assert set(back.entries) == {ZED, ACME}
    assert back.entry("acme", "large") == ACME
    assert back.entry("acme", "nope") is None


def test_a_drifted_pin_is_a_one_line_diff() -> None:
    before = lockfile.dumps(Lock((ZED, ACME))).splitlines()
    after = lockfile.dumps(Lock((ZED, replace(ACME, served_model="large-2026-11-15")))).splitlines()

    diff = difflib.unified_diff(before, after, lineterm="", n=0)
    changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]

    assert changed == [
        '-      "served_model": "large-2026-10-01",',
        '+      "served_model": "large-2026-11-15",',
    ]


def test_no_lockfile_is_not_an_error(isolated_env: Path) -> None:
    assert lockfile.read(isolated_env / "modelaudit.lock") is None


def test_fields_added_by_a_later_version_are_ignored(isolated_env: Path) -> None:
    document = json.loads(lockfile.dumps(Lock((ACME,))))
    document["pins"][0]["weights_sha"] = "abc"
    document["signed_by"] = "someone"
    path = isolated_env / "modelaudit.lock"
    path.write_text(json.dumps(document))

    back = lockfile.read(path)

    assert back is not None
    assert back.entries == (ACME,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "modelaudit.lock: not a modelaudit lockfile (not JSON: "),
        ('{"schema_version": 1}', "modelaudit.lock: not a modelaudit lockfile (pins: Field"),
        ('{"schema_version": 9, "pins": []}', "written by a newer modelaudit (schema_version 9"),
        ('{"schema_version": 0, "pins": []}', "modelaudit.lock: unsupported schema_version 0"),
        ("[]", "modelaudit.lock: not a modelaudit lockfile"),
    ],
)
def test_a_lockfile_it_cannot_trust_is_a_usage_error_naming_the_fix(
    isolated_env: Path, text: str, message: str
) -> None:
    path = isolated_env / "modelaudit.lock"
    path.write_text(text)

    with pytest.raises(UsageError) as caught:
        lockfile.read(Path("modelaudit.lock"))

    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_a_pin_locked_twice_is_refused(isolated_env: Path) -> None:
    document = json.loads(lockfile.dumps(Lock((ACME,))))
    document["pins"].append(document["pins"][0])
    (isolated_env / "modelaudit.lock").write_text(json.dumps(document))

    with pytest.raises(UsageError, match="acme/large is locked twice"):
        lockfile.read(Path("modelaudit.lock"))


def test_writing_replaces_the_file_and_leaves_no_temporary_behind(isolated_env: Path) -> None:
    path = isolated_env / "modelaudit.lock"
    path.write_text("old")

    lockfile.write(path, Lock((ACME,)))

    assert path.read_text().startswith("{\n")
    assert sorted(p.name for p in isolated_env.iterdir()) == ["modelaudit.lock"]


def test_the_default_lock_sits_beside_the_registry() -> None:
    assert lockfile.default_path(Path("conf/providers.yaml")) == Path("conf/modelaudit.lock")
