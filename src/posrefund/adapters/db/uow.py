"""The unit of work: one connection, one transaction, all repositories bound to it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

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
from posrefund.ports import (
    AuditRepo,
    CalendarRepo,
    CallbackRepo,
    EvidenceRepo,
    IdempotencyRepo,
    MerchantRepo,
    Outbox,
    PolicyRepo,
    RefundRepo,
    SaleRepo,
    UserRepo,
)


class SqlUnitOfWork:
    """Rolls back unless ``commit()`` was called; a crash mid-way leaves nothing half-written."""

    def __init__(self, engine: Engine, local_date: Callable[[datetime], date], readonly: bool = False) -> None:
        self._engine = engine
        self._local_date = local_date
        self._readonly = readonly
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
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
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        assert self._conn is not None
        self._conn.commit()

    def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine, local_date: Callable[[datetime], date]) -> None:
        self.engine = engine
        self._local_date = local_date

    def __call__(self, *, readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._local_date, readonly)
