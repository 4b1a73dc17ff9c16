"""The planner's statistics: without them a database guesses how selective each index is.

SQLite never gathers statistics by itself: with none, its planner took a merchant's whole audit chain (the
unique (chain, seq) index, which serves the ORDER BY) over the (chain, case) index to list one case's events,
and a refund list's (merchant, created_at) index over the index of the filter it was given. ``ANALYZE`` after
each migration and about once an hour from the worker keeps them current. On SQLite ``analysis_limit`` makes it
sample each index instead of reading it whole (milliseconds at millions of rows); PostgreSQL's autovacuum
analyses on its own, but a fresh or freshly migrated database is analysed at once.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

# Rows SQLite samples per index: enough to tell a merchant's 10 cases of a sale from its million refunds.
SQLITE_ANALYSIS_LIMIT = 1000


def refresh_statistics(engine: Engine) -> None:
    """Gather the planner's statistics for every table, in its own short transaction."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA optimize")
        else:
            conn.execute(text("ANALYZE"))


def refresh_statistics_at(url: str) -> None:
    """The same on a database named by URL (after a migration, which has no engine of ours)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        refresh_statistics(engine)
    finally:
        engine.dispose()
