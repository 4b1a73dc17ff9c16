"""The provider's desk: its own seller record in the core, the terminals it issued to its merchants, the
device returns (退机) and the notices it leaves for merchants and its administrators."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol, TypedDict


class DeskRow(TypedDict):
    """A provider's desk: ``seller_merchant_id`` is the provider as a seller in the core (its sales are the
    device charges to its merchants), with the store and terminal those charges are recorded on."""

    provider_id: str
    name: str
    seller_merchant_id: str
    store_id: str
    terminal_id: str
    created_by: str
    created_at: datetime


class DeviceRow(TypedDict):
    """A POS terminal the provider issued to a merchant, and what the merchant paid for it (``sale_id``: that
    payment as a sale of the provider's seller record)."""

    id: str
    provider_id: str
    sn: str
    model: str
    merchant_id: str
    state: str
    issued_on: date
    shipped_on: date | None
    signed_on: date | None
    activated_on: date | None
    price_fen: int
    charge_kind: str
    charge_fen: int
    currency: str
    route: str
    sale_id: str
    warranty_months: int
    replaces_id: str | None
    replaced_by_id: str | None
    deactivated_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class ReturnRow(TypedDict):
    """A device return; ``documents`` and ``deductions`` are JSON lists, ``due_on`` the decision's last day."""

    id: str
    provider_id: str
    merchant_id: str
    device_id: str
    status: str
    reason: str
    fault_note: str
    refund_to_other_account: bool
    documents: str
    opened_by: str
    opened_at: datetime
    ship_address: str
    courier: str
    tracking_no: str
    shipping_approved_at: datetime | None
    received_at: datetime | None
    inspection: str
    inspection_note: str
    due_on: date | None
    escalated_at: datetime | None
    breached_at: datetime | None
    decision: str
    decision_reason: str
    deductions: str
    refund_fen: int
    refund_case_id: str | None
    replacement_id: str | None
    decided_by: str
    decided_at: datetime | None
    version: int
    updated_at: datetime


class NoticeRow(TypedDict):
    """What a merchant (``audience`` merchant) or the provider's administrators (provider_admin) are told."""

    provider_id: str
    merchant_id: str
    audience: str
    return_id: str
    kind: str
    params: str
    created_at: datetime


class ProviderRepo(Protocol):
    def add_desk(self, row: DeskRow) -> None: ...
    def desk(self, provider_id: str) -> DeskRow | None: ...
    def add_device(self, row: DeviceRow) -> None: ...
    def device(self, provider_id: str, device_id: str) -> DeviceRow | None: ...
    def device_by_sn(self, sn: str) -> DeviceRow | None: ...
    def list_devices(self, provider_id: str, merchant_id: str | None, limit: int) -> list[DeviceRow]: ...
    def save_device(self, device_id: str, version: int, **values: Any) -> bool: ...
    def add_return(self, row: ReturnRow) -> None: ...
    def get_return(self, return_id: str) -> ReturnRow | None: ...
    def return_by_case(self, case_id: str) -> ReturnRow | None: ...
    def list_returns(
        self, provider_id: str, merchant_id: str | None, statuses: list[str] | None, limit: int
    ) -> list[ReturnRow]: ...
    def providers_with_open_returns(self) -> list[str]: ...
    def save_return(self, return_id: str, version: int, **values: Any) -> bool: ...
    def add_notice(self, row: NoticeRow) -> None: ...
    def notices(self, provider_id: str, merchant_id: str | None, audience: str, limit: int) -> list[NoticeRow]: ...
