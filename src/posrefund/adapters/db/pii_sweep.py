"""Every text the database holds, cell by cell, for the personal-data scan.

The tables are read as the database describes them (reflection), not as ``tables/`` declares them, so a
column added by hand or by a migration not yet in the code is read too. Rows come in batches ordered by
the primary key and resumed after the last key seen (keyset paging): each batch is a short read, so the
scan runs over millions of rows without holding a transaction open or a table in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Column, Engine, LargeBinary, MetaData, String, Table, func, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

BATCH = 5_000

Place = dict[str, Any]


def _texts_of(table: Table) -> list[Column[Any]]:
    """The columns that can hold text: strings of any kind, and bytes (stored answers) read as UTF-8."""
    return [c for c in table.columns if isinstance(c.type, String | LargeBinary)]


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


class DatabaseTexts:
    """Iterating yields ``(where, text)`` for every non-empty text cell: where is its table, column and
    row key. ``on_rows`` hears how many rows each batch read, for a progress bar."""

    def __init__(self, engine: Engine, batch: int = BATCH, on_rows: Callable[[int], None] | None = None) -> None:
        self.engine = engine
        self.batch = batch
        self.on_rows = on_rows
        self.metadata = MetaData()
        self.metadata.reflect(bind=engine)

    def tables(self) -> list[Table]:
        return [t for t in self.metadata.sorted_tables if _texts_of(t)]

    def total_rows(self) -> int:
        with self.engine.connect() as conn:
            return sum(int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in self.tables())

    def __iter__(self) -> Iterator[tuple[Place, str]]:
        for table in self.tables():
            texts = _texts_of(table)
            keys = list(table.primary_key.columns)
            for rows in self._batches(table, keys, texts) if keys else self._stream(table, texts):
                if self.on_rows is not None:
                    self.on_rows(len(rows))
                for key, values in rows:
                    for column, value in zip(texts, values, strict=True):
                        text = _as_text(value)
                        if text:
                            yield {"table": table.name, "column": column.name, "key": key}, text

    def _batches(
        self, table: Table, keys: list[Column[Any]], texts: list[Column[Any]]
    ) -> Iterator[list[tuple[Place, tuple[Any, ...]]]]:
        """Rows in primary-key order, ``batch`` at a time, each batch read after the last key of the one before."""
        after: tuple[Any, ...] | None = None
        order = keys[0] if len(keys) == 1 else tuple_(*keys)
        while True:
            query = select(*keys, *texts).order_by(*keys).limit(self.batch)
            if after is not None:
                past: ColumnElement[bool] = order > (after[0] if len(keys) == 1 else tuple_(*after))
                query = query.where(past)
            with self.engine.connect() as conn:
                fetched = conn.execute(query).all()
            if not fetched:
                return
            after = tuple(fetched[-1][: len(keys)])
            yield [
                ({k.name: v for k, v in zip(keys, row[: len(keys)], strict=True)}, tuple(row[len(keys) :]))
                for row in fetched
            ]

    def _stream(self, table: Table, texts: list[Column[Any]]) -> Iterator[list[tuple[Place, tuple[Any, ...]]]]:
        """A table without a primary key: one streamed read, rows named by their position."""
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=self.batch).execute(select(*texts))
            seen = 0
            for part in result.partitions():
                yield [({"row": seen + i + 1}, tuple(row)) for i, row in enumerate(part)]
                seen += len(part)
