"""Statements of the refund hot path, built once and run straight on the driver's cursor (sqlite3, psycopg).

Why: a prebuilt Core statement still costs SQLAlchemy ~60 µs of Python per execution (execution context,
parameter construction, result proxy, events) while SQLite itself needs ~15 µs; a refund request runs about a
dozen of them, a third of its CPU. On PostgreSQL, where the API's server process is bound by its own CPU while
the database waits for it, the same layer was about a quarter of a refund's CPU. SQLAlchemy compiles each
statement once per parameter shape (positionally, also for psycopg); we keep its SQL text, parameter order and
type conversions and hand the values to the driver ourselves. Any other driver, and any statement with a shape
this does not cover, goes through ``Connection.execute`` as usual. The unit of work's transaction is untouched:
the cursor belongs to the same driver connection. A psycopg error goes through SQLAlchemy's own handling, so a
lost connection is invalidated (and its pool refreshed) exactly as after ``Connection.execute``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert, UpdateBase
from sqlalchemy.sql.selectable import Select
from sqlalchemy.types import TypeEngine

Convert = Callable[[Any], Any] | None
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]  # one row, or many for executemany


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # the bound values in the order of the ``?`` marks
    binds: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, type conversion) where one is needed
    keys: tuple[str, ...]  # result column keys (selects only)
    results: tuple[Convert, ...]


class FastRow:
    """What the repositories read of a row: ``row.name``, ``row[i]`` and ``row._mapping``."""

    __slots__ = ("_mapping", "_values")

    def __init__(self, keys: tuple[str, ...], values: tuple[Any, ...]) -> None:
        self._values = values
        self._mapping: Mapping[str, Any] = dict(zip(keys, values, strict=True))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, index: int) -> Any:
        return self._values[index]


class FastResult:
    """The subset of ``CursorResult`` the hot path uses: ``first()``, ``scalar()``, ``rowcount``, iteration."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[FastRow], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def first(self) -> FastRow | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def __iter__(self) -> Iterator[FastRow]:
        return iter(self._rows)


FAST_DRIVERS = ("pysqlite", "psycopg")  # the drivers whose cursor the plans below are written for


# conn.info key: the inserts held back for the commit (``send_with_commit``), a list while that is on.
HELD = "posrefund_held_inserts"
CURSOR = "posrefund_cursor"  # conn.info key: the psycopg cursor the plans run on


class Prebuilt:
    """A statement built once at import; ``run(conn, params)`` executes it (a list of params: executemany).

    ``held``: an insert nobody reads back (no RETURNING, its row count is its row count or an error). After
    ``send_with_commit(conn)`` on PostgreSQL it is not sent at once but kept, and every kept insert goes with
    the COMMIT in one round trip (a psycopg pipeline); any other statement before that sends them first, in
    order, so the transaction reads exactly what it wrote. An error of such an insert (a unique key taken by
    a concurrent request) is raised by the commit, as the same SQLAlchemy exception, and nothing is committed.
    """

    def __init__(self, stmt: Select[Any] | UpdateBase, *, held: bool = False) -> None:
        if held and (not isinstance(stmt, Insert) or stmt._returning):
            raise ValueError("only an insert without RETURNING can be held for the commit")
        self.stmt = stmt
        self.held = held
        self._plans: dict[tuple[str, str, tuple[str, ...]], _Plan | None] = {}

    def run(self, conn: Connection, params: Params) -> FastResult | CursorResult[Any]:
        many = not isinstance(params, Mapping)
        batch: Sequence[Mapping[str, Any]] = params if not isinstance(params, Mapping) else (params,)
        dialect = conn.dialect
        if dialect.driver not in FAST_DRIVERS or not batch or (many and not isinstance(self.stmt, UpdateBase)):
            return conn.execute(self.stmt, params)
        shape = tuple(batch[0])
        key = (dialect.name, dialect.driver, shape)
        plan = self._plans.get(key, _MISSING)
        if plan is _MISSING:
            plan = self._plans[key] = _plan_for(self.stmt, dialect, shape)
        if plan is None:
            return conn.execute(self.stmt, params)
        dbapi_conn = conn.connection.dbapi_connection
        assert dbapi_conn is not None
        if dialect.name == "postgresql":
            info = conn.info
            kept: list[tuple[str, list[Sequence[Any]]]] | None = info.get(HELD)
            if kept is not None:
                if self.held:
                    kept.append((plan.sql, [_bound(plan, p) for p in batch]))
                    return FastResult([], len(batch))
                if kept:
                    send_held(conn)
            # One cursor per driver connection, used again (a psycopg cursor costs ~10 µs to make); the
            # connection's info goes with the connection when it is lost.
            cursor = info.get(CURSOR)
            if cursor is None or cursor.closed:
                cursor = info[CURSOR] = dbapi_conn.cursor()
        else:
            cursor = dbapi_conn.cursor()
        try:
            if many and len(batch) > 1:
                cursor.executemany(plan.sql, [_bound(plan, p) for p in batch])
                return FastResult([], cursor.rowcount)
            # One row is one execute: psycopg's executemany opens a pipeline even for a single row.
            cursor.execute(plan.sql, _bound(plan, batch[0]))
            if not plan.keys:
                return FastResult([], cursor.rowcount)
            fetched = [
                FastRow(plan.keys, tuple(v if c is None else c(v) for c, v in zip(plan.results, raw, strict=True)))
                for raw in cursor.fetchall()
            ]
            return FastResult(fetched, len(fetched))
        except dialect.loaded_dbapi.Error as exc:
            if dialect.name != "sqlite":
                # SQLAlchemy's handling: the same exception classes, and a lost connection is invalidated.
                conn._handle_dbapi_exception(exc, plan.sql, params, cursor, None)
            # The same exception classes as through Connection.execute (IntegrityError, OperationalError…).
            raise DBAPIError.instance(plan.sql, params, exc, dialect.loaded_dbapi.Error) from exc
        finally:
            if dialect.name == "sqlite":
                cursor.close()


_MISSING: Any = object()


def send_with_commit(conn: Connection) -> None:
    """From now until the transaction ends, keep the held inserts (``Prebuilt(held=True)``) and send them
    with the COMMIT: on PostgreSQL, where each round trip costs the API's CPU-bound process a wait, a wake-up
    and the GIL. Nothing changes on other databases (SQLite's writes are local calls)."""
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        conn.info.setdefault(HELD, [])


def send_held(conn: Connection, *, commit: bool = False) -> None:
    """Send the kept inserts, in order, in one pipeline; with ``commit`` the COMMIT goes in the same round
    trip and keeping ends (SQLAlchemy's own commit then finds the transaction done and sends nothing).
    A driver error goes through SQLAlchemy's handling, as a failing ``Connection.execute`` would."""
    info = conn.info
    kept: list[tuple[str, list[Sequence[Any]]]] | None = info.get(HELD)
    if kept is None:
        return
    if commit:
        del info[HELD]
    else:
        info[HELD] = []
    if not kept:
        return
    dbapi_conn: Any = conn.connection.dbapi_connection
    sql, rows = kept[0]
    cursors = []
    try:
        with dbapi_conn.pipeline():
            for sql, rows in kept:
                cursor = dbapi_conn.cursor()
                cursors.append(cursor)
                if len(rows) == 1:
                    cursor.execute(sql, rows[0])
                else:
                    cursor.executemany(sql, rows)
            if commit:
                dbapi_conn.commit()
    except conn.dialect.loaded_dbapi.Error as exc:
        conn._handle_dbapi_exception(exc, sql, rows, None, None)
    finally:
        for cursor in cursors:
            cursor.close()


def drop_held(conn: Connection) -> None:
    """The transaction rolled back (or the connection goes back to the pool): what was kept is gone with it."""
    conn.info.pop(HELD, None)


def _bound(plan: _Plan, params: Mapping[str, Any]) -> Sequence[Any]:
    values = plan.values(params)
    if not plan.binds:
        return values
    out = list(values)
    for i, conv in plan.binds:
        out[i] = conv(out[i])
    return out


def _plan_for(stmt: Select[Any] | UpdateBase, dialect: Dialect, shape: tuple[str, ...]) -> _Plan | None:
    """Compile for this parameter shape, or None when the statement needs SQLAlchemy at run time
    (expanding or literal parameters, defaults computed in Python, a non-positional driver).

    psycopg takes ``%s`` as well as SQLAlchemy's ``%(name)s``: the statement is compiled by a positional copy
    of the dialect, so its values go as a tuple, like sqlite3's. An insert without a ``RETURNING`` of its own
    is compiled ``inline``: nothing reads the generated key SQLAlchemy would otherwise return."""
    if dialect.name == "postgresql" and not dialect.positional:
        dialect = copy.copy(dialect)
        dialect.paramstyle = "format"
        dialect.positional = True
    if isinstance(stmt, Insert) and not stmt._returning:
        stmt = stmt.inline()
    compiled = stmt.compile(dialect=dialect, column_keys=list(shape))
    if compiled.positiontup is None or compiled.literal_execute_params or compiled.post_compile_params:
        return None
    if compiled.insert_prefetch or compiled.update_prefetch:
        return None
    by_name = {name: bp for bp, name in compiled.bind_names.items()}
    names = tuple(compiled.positiontup)
    # Literal values in the statement (``refund_count + 1``) are anonymous bind parameters with a value.
    consts = {n: by_name[n].value for n in set(names) - set(shape)}
    if any(by_name[n].required or callable(v) for n, v in consts.items()):
        return None
    convs = [_bind_converter(by_name[n].type, dialect) for n in names]
    binds = tuple((i, c) for i, c in enumerate(convs) if c is not None)
    values = _values_getter(names, consts)
    keys: tuple[str, ...] = ()
    results: tuple[Convert, ...] = ()
    if isinstance(stmt, Select):
        cols = list(stmt.selected_columns)
        keys = tuple(str(c.key) for c in cols)
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in cols)
    elif stmt._returning:
        return None
    return _Plan(str(compiled), values, binds, keys, results)


def _values_getter(names: tuple[str, ...], consts: dict[str, Any]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    if not names:
        return lambda _p: ()
    if len(names) == 1:  # itemgetter of one name gives the value itself, not a tuple
        only = names[0]
        return lambda p: ({**consts, **p}[only],) if consts else (p[only],)
    getter = itemgetter(*names)
    if consts:
        return lambda p: getter({**consts, **p})
    return getter


def _bind_converter(type_: TypeEngine[Any], dialect: Dialect) -> Convert:
    """A type may offer one call that does all its SQLite conversion (``sqlite_text``); else SQLAlchemy's."""
    direct = getattr(type_, "sqlite_text", None) if dialect.name == "sqlite" else None
    if direct is not None:
        return cast(Callable[[Any], Any], direct)
    return type_.dialect_impl(dialect).bind_processor(dialect)
