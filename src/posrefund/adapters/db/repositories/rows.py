"""Reading rows as plain dicts: the repositories hand the service mappings of the table's columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, Executable, Table


def row_dict(r: Any) -> dict[str, Any]:
    """One result row (SQLAlchemy's or the prebuilt path's) as a dict of its columns."""
    return dict(r._mapping)


def first_row(conn: Connection, query: Executable) -> dict[str, Any] | None:
    """The first row the query finds, or None."""
    r = conn.execute(query).first()
    return row_dict(r) if r else None


def all_rows(conn: Connection, query: Executable) -> list[dict[str, Any]]:
    """Every row the query finds, in its order."""
    return [row_dict(r) for r in conn.execute(query)]


def dataclass_columns(cls: Any, table: Table) -> tuple[str, ...]:
    """The fields of a domain dataclass that the table stores under the same name."""
    return tuple(f.name for f in fields(cls) if f.name in table.c)


def columns_of(row: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The named columns of a row, as keyword arguments for a domain object."""
    return {name: row[name] for name in names}


def equal_where_given(*pairs: tuple[Any, Any]) -> list[Any]:
    """``column == value`` for each search field that was filled in (None and "" mean "any")."""
    return [column == value for column, value in pairs if value is not None and value != ""]


class Repository:
    """A repository works on the unit of work's connection and nothing else."""

    def __init__(self, conn: Connection) -> None:
        self.c = conn
