"""`-o FILE`: written whole or not at all (temp file + rename), parents created, and a
reader holding the old report keeps reading the old report."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelaudit.errors import UsageError
from modelaudit.report.write import write_atomic


def test_a_report_lands_whole_and_leaves_no_temporary_file(isolated_env: Path) -> None:
    target = isolated_env / "reports" / "2026-12-01" / "report.html"

    write_atomic(target, "<p>report</p>\n")

    assert target.read_text() == "<p>report</p>\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_a_new_report_replaces_the_old_by_rename_not_by_rewriting_it(isolated_env: Path) -> None:
    target = isolated_env / "report.md"
    target.write_text("old report\n")
    old_inode = target.stat().st_ino

    with target.open() as reader:
        write_atomic(target, "new report\n")
        # The reader holds the old file: a rename never truncates it under the reader.
        assert reader.read() == "old report\n"

    assert target.read_text() == "new report\n"
    assert target.stat().st_ino != old_inode


def test_a_directory_is_refused_with_a_usage_error(isolated_env: Path) -> None:
    with pytest.raises(UsageError, match="is a directory; name a file"):
        write_atomic(isolated_env, "x")


def test_a_failed_write_keeps_the_old_report_and_cleans_up(isolated_env: Path) -> None:
    blocker = isolated_env / "not-a-dir"
    blocker.write_text("a file where a directory is needed\n")

    with pytest.raises(UsageError, match="cannot write"):
        write_atomic(blocker / "report.html", "x")

    assert blocker.read_text() == "a file where a directory is needed\n"
    assert sorted(p.name for p in isolated_env.iterdir()) == ["not-a-dir"]
