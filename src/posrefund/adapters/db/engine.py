"""Engines: SQLite tuned for a durable single writer, PostgreSQL with a pool."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError

from posrefund.adapters.db.prebuilt import HELD, drop_held, send_held

# A committed refund must survive a power cut: WAL with synchronous=FULL fsyncs every commit.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8, max_overflow=32
        )
        _tune_sqlite(engine)
        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=40)
    _ping_idle_connections(engine)
    _send_held_inserts(engine)
    return engine


def _send_held_inserts(engine: Engine) -> None:
    """Inserts held for the commit (``prebuilt.send_with_commit``) go before any other statement, with the
    COMMIT, and nowhere after a rollback; a connection returns to the pool with none."""

    # An invalidated connection (lost, its driver connection closed) has nothing kept: its info went with it.
    @event.listens_for(engine, "before_cursor_execute")
    def _before_statement(conn: Connection, *_: Any) -> None:
        if not conn.invalidated and conn.info.get(HELD):
            send_held(conn)

    @event.listens_for(engine, "savepoint")
    def _before_savepoint(conn: Connection, _name: Any) -> None:
        if not conn.invalidated and conn.info.get(HELD):
            send_held(conn)

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Connection) -> None:
        if not conn.invalidated and HELD in conn.info:
            send_held(conn, commit=True)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Connection) -> None:
        if not conn.invalidated:
            drop_held(conn)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info.pop(HELD, None)


# A pooled PostgreSQL connection is asked whether it still lives (a round trip) only when it comes back to work
# after idling this long: a restarted or failed-over server has closed it, while a busy node takes its connections
# back within milliseconds. Pinging at every checkout (``pool_pre_ping``) cost about 30 % of a refund's CPU.
# A connection lost in between fails its statement; the pool is then refreshed and the API answers 503.
PING_AFTER_IDLE_SECONDS = 2.0


def _ping_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure: the pool drops this connection and checks out another
            raise DisconnectionError from exc


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so that BEGIN IMMEDIATE below is honoured.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock at BEGIN, so two writers never deadlock on a lock upgrade.
        readonly = conn.get_execution_options().get("posrefund_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
