"""`db check`: is the history database whole, and at which schema version?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelaudit.store.base import CheckReport
from modelaudit.store.sqlite.db import APPLICATION_ID
from modelaudit.store.sqlite.migrations import LATEST, user_version

if TYPE_CHECKING:
    from modelaudit.store.sqlite.store import SqliteStore


def check(store: SqliteStore) -> CheckReport:
    conn = store.conn
    problems = [
        f"integrity: {row[0]}" for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"
    ]
    problems += [
        f"foreign key: a row of {table} (rowid {rowid}) points to a missing {parent} row"
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check")
    ]
    version = user_version(conn)
    if version != LATEST:
        problems.append(f"schema version {version}, expected {LATEST}")
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id != APPLICATION_ID:
        problems.append(f"application_id {app_id:#x}, expected {APPLICATION_ID:#x}")
    counts = store.counts() if not problems else {}
    size = sum(p.stat().st_size for p in store.path.parent.glob(store.path.name + "*"))
    return CheckReport(version, tuple(problems), counts, size)
