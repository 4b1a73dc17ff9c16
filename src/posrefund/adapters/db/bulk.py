"""PostgreSQL's COPY for the bulk writes (a settlement file's lines, an import's sales): rows stream to the server
in the COPY protocol inside the unit of work's transaction, instead of one parameter set per row.

SQLite has no COPY; its bulk writes go straight to the driver's cursor (``prebuilt.Prebuilt``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table


def copy_rows(conn: Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """``COPY table (columns of the first row) FROM STDIN`` with every row, on the connection's transaction."""
    columns = list(rows[0])
    driver: Any = conn.connection.dbapi_connection
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def copy_csv(conn: Connection, table: str, columns: Sequence[str], data: bytes) -> None:
    """``COPY table (columns) FROM STDIN`` of CSV text (every value quoted: an empty text is a text, not NULL)."""
    driver: Any = conn.connection.dbapi_connection
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(data)


def copy_skipping_known(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Copy ``rows`` into a session-local twin of ``table``, then move the ones no unique key of ``table``
    already holds: ``INSERT … SELECT … ON CONFLICT DO NOTHING``. How many were new."""
    return skipping_known(conn, table, list(rows[0]), lambda twin: copy_rows(conn, twin, rows))


def skipping_known(conn: Connection, table: Table, columns: Sequence[str], fill: Callable[[str], None]) -> int:
    """``fill(twin)`` writes the rows into the session-local twin of ``table``; the ones no unique key of
    ``table`` already holds are moved, in the twin's order. How many were new."""
    incoming = f"incoming_{table.name}"
    names = ", ".join(columns)
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {incoming} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    conn.exec_driver_sql(f"DELETE FROM {incoming}")  # noqa: S608 - names from the table metadata
    fill(incoming)
    moved = conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {incoming} ON CONFLICT DO NOTHING"  # noqa: S608
    ).rowcount
    conn.exec_driver_sql(f"DELETE FROM {incoming}")  # noqa: S608 - names from the table metadata
    return int(moved)
