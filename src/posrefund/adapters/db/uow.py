"""The unit of work: one connection, one transaction, all repositories bound to it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from posrefund.adapters.db.audit_chainer import Chainer, chain_all
from posrefund.adapters.db.prebuilt import send_with_commit
from posrefund.adapters.db.repositories.abnormal_refunds import CardApplicationSql
from posrefund.adapters.db.repositories.attempts import RefundAttemptSql
from posrefund.adapters.db.repositories.audit import UNCHAINED, AuditSql
from posrefund.adapters.db.repositories.calendar import CalendarSql
from posrefund.adapters.db.repositories.callbacks import CallbackSql
from posrefund.adapters.db.repositories.contacts import ContactSql
from posrefund.adapters.db.repositories.deposits import DepositSql
from posrefund.adapters.db.repositories.desk import SettlementMappingSql, TillSql
from posrefund.adapters.db.repositories.discrepancies import DiscrepancySql
from posrefund.adapters.db.repositories.disputes import DisputeSql
from posrefund.adapters.db.repositories.documents import BankApplicationSql, SummarySql
from posrefund.adapters.db.repositories.evidence import EvidenceSql
from posrefund.adapters.db.repositories.external_refunds import ExternalRefundSql
from posrefund.adapters.db.repositories.fee_contracts import FeeContractSql
from posrefund.adapters.db.repositories.fee_rates import FeeRateSql
from posrefund.adapters.db.repositories.follow_ups import FollowUpSql
from posrefund.adapters.db.repositories.fund_holds import FundHoldSql
from posrefund.adapters.db.repositories.idempotency import IdempotencySql
from posrefund.adapters.db.repositories.ledger import LedgerSql
from posrefund.adapters.db.repositories.merchants import MerchantSql
from posrefund.adapters.db.repositories.notifications import NotificationSql
from posrefund.adapters.db.repositories.notify_settings import NotifySettingsSql
from posrefund.adapters.db.repositories.outbox import OutboxSql
from posrefund.adapters.db.repositories.policies import PolicySql
from posrefund.adapters.db.repositories.provider import ProviderSql
from posrefund.adapters.db.repositories.recon_runs import ReconRunSql
from posrefund.adapters.db.repositories.refunds import RefundSql
from posrefund.adapters.db.repositories.reports import ReportSql
from posrefund.adapters.db.repositories.risk_alerts import RiskAlertSql
from posrefund.adapters.db.repositories.risk_facts import RiskFactsSql
from posrefund.adapters.db.repositories.risk_holds import RiskHoldSql
from posrefund.adapters.db.repositories.sale_items import SaleItemSql
from posrefund.adapters.db.repositories.sales import SaleSql
from posrefund.adapters.db.repositories.settlement_files import SettlementFileSql
from posrefund.adapters.db.repositories.users import UserSql
from posrefund.adapters.db.repositories.wrong_charges import WrongChargeSql
from posrefund.ports import (
    AuditRepo,
    CalendarRepo,
    CallbackRepo,
    ContactRepo,
    DiscrepancyRepo,
    DisputeRepo,
    EvidenceRepo,
    FeeRateRepo,
    FollowUpRepo,
    IdempotencyRepo,
    LedgerRepo,
    MerchantRepo,
    NotificationRepo,
    NotifySettingsRepo,
    Outbox,
    PolicyRepo,
    ReconRunRepo,
    RefundAttemptRepo,
    RefundRepo,
    ReportRepo,
    SaleItemRepo,
    SaleRepo,
    SettlementFileRepo,
    SettlementMappingRepo,
    TillRepo,
    UserRepo,
    WrongChargeRepo,
)
from posrefund.ports.abnormal_refunds import CardApplicationRepo
from posrefund.ports.deposits import DepositRepo
from posrefund.ports.documents import BankApplicationRepo, SummaryRepo
from posrefund.ports.fees import FeeContractRepo
from posrefund.ports.fund_holds import FundHoldRepo
from posrefund.ports.imports import ExternalRefundRepo
from posrefund.ports.provider import ProviderRepo
from posrefund.ports.risk import RiskAlertRepo, RiskFactsRepo, RiskHoldRepo


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
        after_commit: Callable[[Connection], None] | None = None,
    ) -> None:
        self._engine = engine
        self._after_commit = after_commit
        self._local_date = local_date
        self._readonly = readonly
        self._shared = shared
        self._savepoint: _Savepoint | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        if self._shared is not None:
            conn = self._shared
            self._savepoint = _Savepoint(conn)
        else:
            conn = self._engine.connect()
            conn.info.pop(UNCHAINED, None)  # a flag a rolled-back transaction left on the pooled connection
            if self._readonly:
                conn = conn.execution_options(posrefund_readonly=True)
            conn.begin()
        self._conn = conn
        self._bind(conn)
        return self

    def _bind(self, conn: Connection) -> None:
        """Every repository, on the unit of work's connection."""
        self.merchants: MerchantRepo = MerchantSql(conn)
        self.users: UserRepo = UserSql(conn)
        self.policies: PolicyRepo = PolicySql(conn)
        self.sales: SaleRepo = SaleSql(conn, self._local_date)
        self.external_refunds: ExternalRefundRepo = ExternalRefundSql(conn)
        self.sale_items: SaleItemRepo = SaleItemSql(conn)
        self.refunds: RefundRepo = RefundSql(conn)
        self.attempts: RefundAttemptRepo = RefundAttemptSql(conn)
        self.evidence: EvidenceRepo = EvidenceSql(conn)
        self.audit: AuditRepo = AuditSql(conn)
        self.outbox: Outbox = OutboxSql(conn)
        self.idempotency: IdempotencyRepo = IdempotencySql(conn)
        self.callbacks: CallbackRepo = CallbackSql(conn)
        self.calendar: CalendarRepo = CalendarSql(conn)
        self.settlement_files: SettlementFileRepo = SettlementFileSql(conn)
        self.fee_rates: FeeRateRepo = FeeRateSql(conn)
        self.recon_runs: ReconRunRepo = ReconRunSql(conn)
        self.discrepancies: DiscrepancyRepo = DiscrepancySql(conn)
        self.wrong_charges: WrongChargeRepo = WrongChargeSql(conn)
        self.ledger: LedgerRepo = LedgerSql(conn)
        self.notifications: NotificationRepo = NotificationSql(conn)
        self.contacts: ContactRepo = ContactSql(conn)
        self.follow_ups: FollowUpRepo = FollowUpSql(conn)
        self.disputes: DisputeRepo = DisputeSql(conn)
        self.notify_settings: NotifySettingsRepo = NotifySettingsSql(conn)
        self.risk: RiskAlertRepo = RiskAlertSql(conn)
        self.risk_facts: RiskFactsRepo = RiskFactsSql(conn)
        self.risk_holds: RiskHoldRepo = RiskHoldSql(conn)
        self.reports: ReportRepo = ReportSql(conn)
        self.deposits: DepositRepo = DepositSql(conn)
        self.bank_applications: BankApplicationRepo = BankApplicationSql(conn)
        self.summaries: SummaryRepo = SummarySql(conn)
        self.fee_contracts: FeeContractRepo = FeeContractSql(conn)
        self.provider: ProviderRepo = ProviderSql(conn)
        self.settlement_mappings: SettlementMappingRepo = SettlementMappingSql(conn)
        self.tills: TillRepo = TillSql(conn)
        self.card_applications: CardApplicationRepo = CardApplicationSql(conn)
        self.fund_holds: FundHoldRepo = FundHoldSql(conn)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._conn is not None
        if self._shared is not None:
            if self._savepoint is not None:
                self.rollback()
            self._conn = None
            return
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        self._finish(keep=True)

    def send_writes_with_commit(self) -> None:
        """The hot path's inserts (case, report-day mark, audit events, outbox, stored answer) travel with the
        COMMIT (``prebuilt.send_with_commit``); anything else run before it sends them first, in order."""
        assert self._conn is not None
        send_with_commit(self._conn)

    def rollback(self) -> None:
        self._finish(keep=False)

    def _finish(self, *, keep: bool) -> None:
        """Commit or roll back the transaction; inside a batch, release or undo only this unit's savepoint."""
        assert self._conn is not None
        if self._shared is None:
            if keep:
                self._conn.commit()
                if self._after_commit is not None:
                    self._after_commit(self._conn)
            else:
                self._conn.rollback()
        elif self._savepoint is not None:
            if keep:
                self._savepoint.release()
            else:
                self._savepoint.undo()
            self._savepoint = None


class _Savepoint:
    """A savepoint of the group's transaction, sent straight to the driver: SQLAlchemy's ``begin_nested``
    compiles a new SAVEPOINT statement each time (~100 µs), and only our code uses this connection."""

    _names = itertools.count(1)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._name = f"uow_{next(self._names)}"
        _driver_sql(conn, f"SAVEPOINT {self._name}")

    def release(self) -> None:
        _driver_sql(self._conn, f"RELEASE SAVEPOINT {self._name}")

    def undo(self) -> None:
        _driver_sql(self._conn, f"ROLLBACK TO SAVEPOINT {self._name}")
        self.release()


def _driver_sql(conn: Connection, sql: str) -> None:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


PARALLEL_WRITERS = 2


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine, local_date: Callable[[datetime], date]) -> None:
        self.engine = engine
        self._local_date = local_date
        self._batch = threading.local()
        self._chainer = Chainer(self.chain_audit)

    def __call__(self, *, readonly: bool = False) -> SqlUnitOfWork:
        shared = getattr(self._batch, "conn", None)
        return SqlUnitOfWork(self.engine, self._local_date, readonly, shared, self.chain_after_commit)

    def open_batch(self) -> SqlGroupCommit:
        return SqlGroupCommit(self.engine, self._batch, self.chain_after_commit)

    @property
    def writers(self) -> int:
        """PostgreSQL: two, one per core of the machines this is measured on (a bulk import's server work is most
        of its time there); SQLite: one, its writers take turns anyway."""
        return 1 if self.engine.dialect.name == "sqlite" else PARALLEL_WRITERS

    def chain_audit(self, *, wait: bool = False) -> int:
        """Run the audit sequencer until nothing committed is left unchained (or, without ``wait``, until
        another sequencer holds the lock: it will chain what is left)."""
        return chain_all(self.engine, wait=wait)

    def chain_after_commit(self, conn: Connection) -> None:
        """After a commit that wrote unchained audit events: have this process's chainer chain them soon."""
        if conn.info.pop(UNCHAINED, False):
            self._chainer.poke()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Several units of work as one transaction (all or nothing), in this thread; inside a group
        that is already open (the API's group commit) they form one savepoint of it."""
        shared: Connection | None = getattr(self._batch, "conn", None)
        if shared is not None:
            # Inside the group the batch is one savepoint of its own, so a failure part-way also undoes the units
            # it already released into the group (else a refused correction refund would leave its wrong charge
            # "correcting" with no refund).
            savepoint = _Savepoint(shared)
            try:
                yield
            except BaseException:
                savepoint.undo()
                raise
            savepoint.release()
            return
        group = self.open_batch()
        try:
            with group.joined():
                yield
        except BaseException:
            group.abandon()
            raise
        group.commit()


class SqlGroupCommit:
    """Group commit: every unit of work opened in this thread inside ``joined()`` is a savepoint of one
    transaction, and one commit (one fsync) makes them all durable together. Callers answer only after
    ``commit()`` returns; the connection is closed afterwards whatever happened."""

    def __init__(self, engine: Engine, slot: threading.local, after_commit: Callable[[Connection], None]) -> None:
        self._slot = slot
        self._after_commit = after_commit
        self._conn = engine.connect()
        self._conn.info.pop(UNCHAINED, None)
        self._conn.begin()

    @contextmanager
    def joined(self) -> Iterator[None]:
        if getattr(self._slot, "conn", None) is not None:
            raise RuntimeError("a group commit is already open in this thread")
        self._slot.conn = self._conn
        try:
            yield
        finally:
            self._slot.conn = None

    def commit(self) -> None:
        try:
            self._conn.commit()
            self._after_commit(self._conn)
        finally:
            self.abandon()

    def abandon(self) -> None:
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
