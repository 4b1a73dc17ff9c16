"""The edges the core needs, as Protocols, one module a concept; adapters implement them, bootstrap picks which.
Every name is also importable from ``posrefund.ports`` itself."""

from posrefund.ports.channels import CallbackVerifier, PaymentChannel
from posrefund.ports.merchants import ApiKeyRow, MerchantRepo, PolicyRepo, StoreRow, TerminalRow, UserRepo, UserRow
from posrefund.ports.notifications import (
    ContactRepo,
    DisputeRepo,
    DisputeRow,
    FollowUpRepo,
    GatewayRow,
    NotificationRepo,
    Notifier,
    NotifySettingsRepo,
)
from posrefund.ports.reconciliation import (
    DiscrepancyRepo,
    DiscrepancyRow,
    FeeRateRepo,
    LedgerRepo,
    ReconRunRepo,
    RunSpec,
    SettlementFileRepo,
    WrongChargeRepo,
    WrongChargeRow,
)
from posrefund.ports.records import AuditRepo, CalendarRepo, CallbackRepo, IdempotencyRepo, IdempotencyRow, Outbox
from posrefund.ports.refunds import (
    ConcurrentUpdate,
    CustomerRecord,
    EvidenceRepo,
    RefundQuery,
    RefundRepo,
    SaleQuery,
    SaleRepo,
)
from posrefund.ports.system import Cipher, Clock, EvidenceStore, Ids, PasswordHasher
from posrefund.ports.unit_of_work import GroupCommit, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "ApiKeyRow",
    "AuditRepo",
    "CalendarRepo",
    "CallbackRepo",
    "CallbackVerifier",
    "Cipher",
    "Clock",
    "ConcurrentUpdate",
    "ContactRepo",
    "CustomerRecord",
    "DiscrepancyRepo",
    "DiscrepancyRow",
    "DisputeRepo",
    "DisputeRow",
    "EvidenceRepo",
    "EvidenceStore",
    "FeeRateRepo",
    "FollowUpRepo",
    "GatewayRow",
    "GroupCommit",
    "IdempotencyRepo",
    "IdempotencyRow",
    "Ids",
    "LedgerRepo",
    "MerchantRepo",
    "NotificationRepo",
    "Notifier",
    "NotifySettingsRepo",
    "Outbox",
    "PasswordHasher",
    "PaymentChannel",
    "PolicyRepo",
    "ReconRunRepo",
    "RefundQuery",
    "RefundRepo",
    "RunSpec",
    "SaleQuery",
    "SaleRepo",
    "SettlementFileRepo",
    "StoreRow",
    "TerminalRow",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepo",
    "UserRow",
    "WrongChargeRepo",
    "WrongChargeRow",
]
