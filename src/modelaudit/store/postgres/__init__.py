"""The PostgreSQL backend of the history store: one database shared by a fleet of probe
agents, through psycopg 3 and a small connection pool (the `postgres` extra).

`backend.BACKEND` is what `modelaudit.store.backends` registers; `store.PostgresStore`
implements `modelaudit.store.base.Store`. Nothing outside this package imports psycopg.
"""
