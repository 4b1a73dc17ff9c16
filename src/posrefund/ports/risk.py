"""What risk warnings need from the store: the facts each rule reads over a window of refunds (one set-based
query a rule, grouped by the rule's subject), the merchant's rule settings, and the alerts with their cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypedDict


@dataclass(frozen=True, slots=True)
class Window:
    """Refunds requested in ``[start, end)``, of one merchant."""

    merchant_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """What one query found about one subject (a cashier, a terminal, a card, a phone, a sale): how many refunds
    matched, their sum and spread, and the cases themselves (oldest first)."""

    subject: str
    count: int
    amount_fen: int
    stores: int
    first_at: datetime
    last_at: datetime
    case_ids: tuple[str, ...]
    cashiers: tuple[str, ...] = ()
    label: str = ""  # what people see for a subject that is a hash (a phone's masked number)


@dataclass(frozen=True, slots=True)
class CashierActivity:
    """One cashier's sales and refund requests in the window, at the store where most of the sales were."""

    cashier: str
    store_id: str
    sales: int
    refunds: int
    refund_fen: int
    joined_at: datetime | None


class RiskFactsRepo(Protocol):
    def own_sales(
        self, w: Window, min_count: int, skip_reasons: list[str], min_gap_seconds: int
    ) -> list[SubjectFacts]: ...
    def own_shares(self, w: Window, skip_reasons: list[str], min_gap_seconds: int) -> dict[str, tuple[int, int]]: ...
    def paid_elsewhere(self, w: Window) -> list[SubjectFacts]: ...
    def near_limits(self, w: Window, limits: list[int], margin_pct: int, min_count: int) -> list[SubjectFacts]: ...
    def split_sales(self, w: Window, limits: list[int], within_seconds: int) -> list[SubjectFacts]: ...
    def cash_for_electronic(self, w: Window) -> list[SubjectFacts]: ...
    def soon_after_sale(
        self, w: Window, within_seconds: int, skip_reasons: list[str], min_count: int
    ) -> list[SubjectFacts]: ...
    def outside_hours(
        self, w: Window, open_minute: int, close_minute: int, utc_offset_minutes: int
    ) -> list[SubjectFacts]: ...
    def bursts(self, w: Window, key: str, count: int, within_seconds: int) -> list[SubjectFacts]: ...
    def across_stores(self, w: Window, key: str, min_stores: int) -> list[SubjectFacts]: ...
    def round_cycles(
        self, w: Window, unit_fen: int, min_fen: int, within_seconds: int, min_count: int
    ) -> list[SubjectFacts]: ...
    def wrong_charges(self, w: Window, reasons: list[str], min_count: int) -> list[SubjectFacts]: ...
    def failing_terminals(self, w: Window, min_count: int) -> list[SubjectFacts]: ...
    def cashier_activity(self, w: Window) -> list[CashierActivity]: ...


class AlertRow(TypedDict):
    id: str
    merchant_id: str
    rule: str
    subject_kind: str
    subject_id: str
    severity: str
    status: str
    window_start: datetime
    window_end: datetime
    evidence: dict[str, Any]
    assigned_to: str
    decision_reason: str
    decided_by: str
    decided_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AlertQuery:
    status: str | None = None
    rule: str | None = None
    severity: str | None = None
    assigned_to: str | None = None
    case_id: str | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class NewAlert:
    id: str
    merchant_id: str
    rule: str
    subject_kind: str
    subject_id: str
    severity: str
    window_start: datetime
    window_end: datetime
    evidence: dict[str, Any]
    case_ids: tuple[str, ...]
    created_at: datetime
    status: str = "new"
    extra: dict[str, Any] = field(default_factory=dict)


class RiskAlertRepo(Protocol):
    def get_settings(self, merchant_id: str) -> dict[str, Any] | None: ...
    def put_settings(self, merchant_id: str, document: dict[str, Any], actor_id: str, now: datetime) -> int: ...
    def add_alert(self, alert: NewAlert) -> None: ...
    def latest_alert(self, merchant_id: str, rule: str, subject_kind: str, subject_id: str) -> AlertRow | None: ...
    def get_alert(self, merchant_id: str, alert_id: str, *, for_update: bool = False) -> AlertRow | None: ...
    def list_alerts(self, merchant_id: str, query: AlertQuery) -> tuple[list[AlertRow], int]: ...
    def update_alert(self, merchant_id: str, alert_id: str, version: int, **values: Any) -> bool: ...
    def alert_cases(self, alert_id: str) -> list[str]: ...
    def link_cases(self, alert_id: str, case_ids: list[str], linked_by: str) -> int: ...
    def feedback(self, merchant_id: str) -> dict[str, dict[str, int]]: ...
    def alert_counts(self, merchant_id: str, start: datetime, end: datetime) -> list[tuple[str, str, str, int]]:
        """(rule, severity, status, alerts) of the alerts whose window meets ``[start, end)``."""
        ...


class HoldRow(TypedDict):
    case_id: str
    merchant_id: str
    alert_id: str
    status: str  # held, released, rejected
    held_at: datetime
    decided_by: str
    decided_at: datetime | None
    reason: str


class RiskHoldRepo(Protocol):
    def hold_many(
        self, merchant_id: str, case_ids: Sequence[str], alert_id: str, now: datetime
    ) -> list[tuple[str, str]]:
        """Hold the named cases that have not reached the channel and were never held (their version moves, so
        a worker's claim that read one before fails its compare-and-set): each newly held case with its status."""
        ...

    def is_held(self, case_id: str) -> bool: ...
    def get_hold(self, merchant_id: str, case_id: str, *, for_update: bool = False) -> HoldRow | None: ...
    def decide(self, case_id: str, status: str, by: str, at: datetime, reason: str) -> bool: ...
    def held(self, merchant_id: str, limit: int) -> list[HoldRow]: ...
    def claim_scan(self, merchant_id: str, now: datetime, next_at: datetime, worker: str) -> bool:
        """Take the merchant's scheduled scan when it is due: of several workers only one wins."""
        ...

    def merchants(self) -> list[str]: ...
