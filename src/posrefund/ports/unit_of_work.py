"""The unit of work: every repository over one transaction, and batches of units committed together."""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType
from typing import Protocol, Self

from posrefund.ports.abnormal_refunds import CardApplicationRepo
from posrefund.ports.attempts import RefundAttemptRepo
from posrefund.ports.deposits import DepositRepo
from posrefund.ports.desk import SettlementMappingRepo, TillRepo
from posrefund.ports.documents import BankApplicationRepo, SummaryRepo
from posrefund.ports.fees import FeeContractRepo
from posrefund.ports.fund_holds import FundHoldRepo
from posrefund.ports.imports import ExternalRefundRepo
from posrefund.ports.merchants import MerchantRepo, PolicyRepo, UserRepo
from posrefund.ports.notifications import ContactRepo, DisputeRepo, FollowUpRepo, NotificationRepo, NotifySettingsRepo
from posrefund.ports.provider import ProviderRepo
from posrefund.ports.reconciliation import (
    DiscrepancyRepo,
    FeeRateRepo,
    LedgerRepo,
    ReconRunRepo,
    SettlementFileRepo,
    WrongChargeRepo,
)
from posrefund.ports.records import AuditRepo, CalendarRepo, CallbackRepo, IdempotencyRepo, Outbox
from posrefund.ports.refunds import EvidenceRepo, RefundRepo, SaleItemRepo, SaleRepo
from posrefund.ports.reports import ReportRepo
from posrefund.ports.risk import RiskAlertRepo, RiskFactsRepo, RiskHoldRepo


class UnitOfWork(Protocol):
    """One database transaction; everything written inside commits together or not at all."""

    merchants: MerchantRepo
    users: UserRepo
    policies: PolicyRepo
    sales: SaleRepo
    external_refunds: ExternalRefundRepo
    sale_items: SaleItemRepo
    refunds: RefundRepo
    attempts: RefundAttemptRepo
    evidence: EvidenceRepo
    audit: AuditRepo
    outbox: Outbox
    idempotency: IdempotencyRepo
    callbacks: CallbackRepo
    calendar: CalendarRepo
    settlement_files: SettlementFileRepo
    fee_rates: FeeRateRepo
    recon_runs: ReconRunRepo
    discrepancies: DiscrepancyRepo
    wrong_charges: WrongChargeRepo
    ledger: LedgerRepo
    notifications: NotificationRepo
    contacts: ContactRepo
    follow_ups: FollowUpRepo
    disputes: DisputeRepo
    notify_settings: NotifySettingsRepo
    risk: RiskAlertRepo
    risk_facts: RiskFactsRepo
    risk_holds: RiskHoldRepo
    reports: ReportRepo
    deposits: DepositRepo
    bank_applications: BankApplicationRepo
    summaries: SummaryRepo
    fee_contracts: FeeContractRepo
    provider: ProviderRepo
    settlement_mappings: SettlementMappingRepo
    tills: TillRepo
    card_applications: CardApplicationRepo
    fund_holds: FundHoldRepo

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def send_writes_with_commit(self) -> None:
        """From here to the commit, inserts nobody reads back may travel with the COMMIT (one round trip on
        PostgreSQL); a failing one (a unique key) raises at the commit, and nothing is committed."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, readonly: bool = False) -> UnitOfWork: ...

    @property
    def writers(self) -> int:
        """Transactions worth writing at once: 1 where the database has one writer (SQLite), more where writes
        to different rows go side by side (PostgreSQL)."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Units of work opened inside are one transaction: all of them are kept, or none."""
        ...

    def open_batch(self) -> GroupCommit:
        """Group commit: units of work opened inside ``joined()`` share one transaction and one commit."""
        ...

    def chain_audit(self, *, wait: bool = False) -> int:
        """Chain every committed audit event still waiting for its place; how many were chained. Without
        ``wait`` it gives up at once (0) when another sequencer is at work: that one chains them."""
        ...


class GroupCommit(Protocol):
    """One transaction shared by many units of work (each a savepoint), made durable by one commit.

    ``joined()`` is used on the thread that runs the units of work; ``commit()`` may then run on another
    thread (the fsync leaves the event loop free), after which the transaction is closed either way."""

    def joined(self) -> AbstractContextManager[None]: ...

    def commit(self) -> None: ...

    def abandon(self) -> None: ...
