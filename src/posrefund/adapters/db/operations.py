"""What operations ask the database directly, outside any use case: is it there and at the newest schema
(readiness), and how many refunds wait where (the metrics' gauges, read at each scrape).

Every statement here is small and served by an index, so a load balancer's probe every few seconds and a
scrape every fifteen cost the database next to nothing: the refunds still open are found through
``ix_refunds_due`` (status first), terminal ones are never counted (they only grow, and counting them
would read the whole table at every scrape)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, text

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.refunds import due_now
from posrefund.domain.refund import TERMINAL, RefundStatus

_R = tables.refunds.c
OPEN_STATES = tuple(s.value for s in RefundStatus if s not in TERMINAL)


@dataclass(frozen=True)
class Queue:
    """The refunds due for the worker now, and since when the longest-waiting one has been due."""

    due: int
    oldest_due_since: datetime | None


class SqlOperations:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _reading(self) -> Connection:
        """A connection that only reads (on SQLite a plain BEGIN: it never waits for, or holds, the writer's lock)."""
        return self.engine.connect().execution_options(posrefund_readonly=True)

    def schema_revisions(self) -> frozenset[str]:
        """The revisions recorded in ``alembic_version``; raises when the database does not answer."""
        with self._reading() as c:
            return frozenset(str(r[0]) for r in c.execute(text("SELECT version_num FROM alembic_version")))

    def open_refunds(self) -> list[tuple[str, str, int]]:
        """(state, channel, how many) of every refund not yet in a terminal state."""
        q = (
            select(_R.status, _R.channel, func.count())
            .where(_R.status.in_(OPEN_STATES))
            .group_by(_R.status, _R.channel)
        )
        with self._reading() as c:
            return [(str(r[0]), str(r[1]), int(r[2])) for r in c.execute(q)]

    def queue(self, now: datetime) -> Queue:
        """The due cases (the worker's own condition): how many, and the earliest moment one became due
        (an approved case waits from its approval, one in flight from its next look)."""
        since = func.min(func.coalesce(_R.next_check_at, _R.updated_at))
        with self._reading() as c:
            row = c.execute(select(func.count(), since).where(due_now(now))).one()
        oldest = row[1]
        assert oldest is None or isinstance(oldest, datetime)
        return Queue(due=int(row[0]), oldest_due_since=oldest)
