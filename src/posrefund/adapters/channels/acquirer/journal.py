"""The terminal journal and its counters in the database (``TerminalJournal`` of ports/terminal.py).

Each method is one short transaction that commits before it returns: a number handed out is never handed out again
and a message is on disk before it leaves. Trace numbers advance with one ``UPDATE … RETURNING`` (a row lock on
PostgreSQL, the write lock on SQLite, which posrefund opens with BEGIN IMMEDIATE), so two workers never share one."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, case, insert, select, update
from sqlalchemy.exc import IntegrityError

from posrefund.adapters.db import tables
from posrefund.adapters.db.engine import make_engine
from posrefund.ports.terminal import JournalEntry, TerminalNumbers

_C = tables.card_terminal_counters
_J = tables.card_terminal_journal
_LAST = 999_999


def _six(number: int) -> str:
    return f"{number:06d}"


def _next(column: Any) -> Any:
    """1…999999, then 1 again: trace and batch numbers wrap, and 000000 is never used."""
    return case((column >= _LAST, 1), else_=column + 1)


class SqlTerminalJournal:
    """``TerminalJournal`` on the service's SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, now: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._now = now or (lambda: datetime.now(UTC))
        self._known: set[str] = set()  # terminals whose counters row exists (rows are never deleted)

    @classmethod
    def in_temporary_file(cls) -> SqlTerminalJournal:
        """A journal of its own in a fresh SQLite file, for the demo's simulated acquirer (never production)."""
        path = Path(tempfile.mkdtemp(prefix="posrefund-card-")) / "terminal.db"
        engine = make_engine(f"sqlite:///{path}")
        tables.metadata.create_all(engine, tables=[_C, _J])
        return cls(engine)

    def _read(self) -> Connection:
        """A read-only connection (SQLite then opens a plain BEGIN, not the writers' BEGIN IMMEDIATE)."""
        return self.engine.connect().execution_options(posrefund_readonly=True)

    def _ensure(self, terminal_id: str) -> None:
        """The terminal's counters row, created at its first use: batch 000001, no trace handed out yet."""
        if terminal_id in self._known:
            return
        with self._read() as c:
            if c.execute(select(_C.c.terminal_id).where(_C.c.terminal_id == terminal_id)).first():
                self._known.add(terminal_id)
                return
        try:
            with self.engine.begin() as c:
                c.execute(insert(_C).values(terminal_id=terminal_id, batch_no=1, trace_no=0))
        except IntegrityError:
            pass  # another worker created it first
        self._known.add(terminal_id)

    def allocate(self, terminal_id: str) -> TerminalNumbers:
        self._ensure(terminal_id)
        with self.engine.begin() as c:
            batch, trace = c.execute(
                update(_C)
                .where(_C.c.terminal_id == terminal_id)
                .values(trace_no=_next(_C.c.trace_no))
                .returning(_C.c.batch_no, _C.c.trace_no)
            ).one()
        return TerminalNumbers(_six(batch), _six(trace))

    def open_batch(self, terminal_id: str) -> str:
        self._ensure(terminal_id)
        with self._read() as c:
            return _six(c.execute(select(_C.c.batch_no).where(_C.c.terminal_id == terminal_id)).scalar_one())

    def close_batch(self, terminal_id: str, batch_no: str) -> str:
        """Only the batch that was settled advances: a second settle of the same batch changes nothing."""
        with self.engine.begin() as c:
            c.execute(
                update(_C)
                .where(_C.c.terminal_id == terminal_id, _C.c.batch_no == int(batch_no))
                .values(batch_no=_next(_C.c.batch_no))
            )
        return self.open_batch(terminal_id)

    def record(self, entry: JournalEntry) -> JournalEntry:
        now = self._now()
        values = {
            "terminal_id": entry.terminal_id,
            "merchant_id": entry.merchant_id,
            "batch_no": entry.batch_no,
            "trace_no": entry.trace_no,
            "refund_no": entry.refund_no,
            "kind": entry.kind,
            "amount_fen": entry.amount_fen,
            "fields": json.dumps(entry.fields, sort_keys=True),
            "state": entry.state,
            "created_at": now,
            "updated_at": now,
        }
        with self.engine.begin() as c:
            new_id = c.execute(insert(_J).values(**values).returning(_J.c.id)).scalar_one()
        return self._get(int(new_id))

    def count_send(self, entry_id: int, *, reversal: bool = False) -> int:
        column = _J.c.reversal_tries if reversal else _J.c.sends
        with self.engine.begin() as c:
            count = c.execute(
                update(_J)
                .where(_J.c.id == entry_id)
                .values({column.key: column + 1, "updated_at": self._now()})
                .returning(column)
            ).scalar_one()
        return int(count)

    def settle(
        self, entry_id: int, state: str, *, code: str = "", rrn: str = "", auth_code: str = "", host_time: str = ""
    ) -> None:
        values: dict[str, Any] = {"state": state, "updated_at": self._now()}
        if code:
            values |= {"response_code": code, "rrn": rrn, "auth_code": auth_code, "host_time": host_time}
        with self.engine.begin() as c:
            c.execute(update(_J).where(_J.c.id == entry_id).values(**values))

    def latest(self, terminal_id: str, refund_no: str) -> JournalEntry | None:
        query = (
            select(_J)
            .where(_J.c.terminal_id == terminal_id, _J.c.refund_no == refund_no)
            .order_by(_J.c.id.desc())
            .limit(1)
        )
        with self._read() as c:
            row = c.execute(query).mappings().first()
        return _entry(row) if row else None

    def in_batch(self, terminal_id: str, batch_no: str) -> list[JournalEntry]:
        query = select(_J).where(_J.c.terminal_id == terminal_id, _J.c.batch_no == batch_no).order_by(_J.c.trace_no)
        with self._read() as c:
            return [_entry(row) for row in c.execute(query).mappings()]

    def _get(self, entry_id: int) -> JournalEntry:
        with self._read() as c:
            return _entry(c.execute(select(_J).where(_J.c.id == entry_id)).mappings().one())


_COLUMNS = tuple(f.name for f in dataclass_fields(JournalEntry) if f.name != "fields")


def _entry(row: Any) -> JournalEntry:
    return JournalEntry(fields=json.loads(row["fields"]), **{name: row[name] for name in _COLUMNS})
