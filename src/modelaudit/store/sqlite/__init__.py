"""The SQLite backend of the history store: one file (WAL, many writers), the default.

`backend.BACKEND` is what `modelaudit.store.backends` registers; `store.SqliteStore`
implements `modelaudit.store.base.Store`. Nothing outside this package imports `sqlite3`.
"""
