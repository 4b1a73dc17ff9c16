"""The unit of work: one connection, one transaction, all repositories bound to it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, NestedTransaction

from posrefund.adapters.db.repositories import (
    AuditSql,
    CalendarSql,
    CallbackSql,
    EvidenceSql,
    IdempotencySql,
    MerchantSql,
    OutboxSql,
    PolicySql,
    RefundSql,
    SaleSql,
    UserSql,
)
from posrefund.adapters.db.repositories_notify import NotifySql
from posrefund.ports import (
    AuditRepo,
    CalendarRepo,
    CallbackRepo,
    EvidenceRepo,
    IdempotencyRepo,
    MerchantRepo,
    NotifyRepo,
    Outbox,
    PolicyRepo,
    RefundRepo,
    SaleRepo,
    UserRepo,
)


class SqlUnitOfWork:
    """Rolls back unless ``commit()`` was called; a crash mid-way leaves nothing half-written.

    Inside a batch (``SqlUnitOfWorkFactory.batch``) it is a SAVEPOINT of the batch's transaction: its
    commit releases the savepoint, its rollback undoes only its own work, and nothing is durable until the
    batch commits."""

    def __init__(
        self,
        engine: Engine,
        local_date: Callable[[datetime], date],
        readonly: bool = False,
        shared: Connection | None = None,
    ) -> None:
        self._engine = engine
        self._local_date = local_date
        self._readonly = readonly
        self._shared = shared
        self._nested: NestedTransaction | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        if self._shared is not None:
            conn = self._shared
            self._nested = conn.begin_nested()
        else:
            conn = self._engine.connect()
            if self._readonly:
                conn = conn.execution_options(posrefund_readonly=True)
            conn.begin()
        self._conn = conn
        self.merchants: MerchantRepo = MerchantSql(conn)
        self.users: UserRepo = UserSql(conn)
        self.policies: PolicyRepo = PolicySql(conn)
        self.sales: SaleRepo = SaleSql(conn, self._local_date)
        self.refunds: RefundRepo = RefundSql(conn)
        self.evidence: EvidenceRepo = EvidenceSql(conn)
        self.audit: AuditRepo = AuditSql(conn)
        self.outbox: Outbox = OutboxSql(conn)
        self.idempotency: IdempotencyRepo = IdempotencySql(conn)
        self.callbacks: CallbackRepo = CallbackSql(conn)
        self.calendar: CalendarRepo = CalendarSql(conn)
        self.notify: NotifyRepo = NotifySql(conn)  # notify (issue 5)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._conn is not None
        if self._nested is not None:
            if self._nested.is_active:
                self._nested.rollback()
            self._conn = None
            return
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        assert self._conn is not None
        if self._nested is not None:
            self._nested.commit()
        else:
            self._conn.commit()

    def rollback(self) -> None:
        assert self._conn is not None
        if self._nested is not None:
            self._nested.rollback()
        else:
            self._conn.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine, local_date: Callable[[datetime], date]) -> None:
        self.engine = engine
        self._local_date = local_date
        self._batch = threading.local()

    def __call__(self, *, readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._local_date, readonly, getattr(self._batch, "conn", None))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group commit: every unit of work opened in this thread meanwhile is a savepoint of one transaction,
        and one commit (one fsync) makes them all durable together. Callers answer only after it returns."""
        if getattr(self._batch, "conn", None) is not None:
            yield
            return
        conn = self.engine.connect()
        conn.begin()
        self._batch.conn = conn
        try:
            yield
            conn.commit()
        finally:
            self._batch.conn = None
            if conn.in_transaction():
                conn.rollback()
            conn.close()
