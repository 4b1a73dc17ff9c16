"""The answers of the provider's desk: its record, terminals, device returns with their clock, notices, the
dashboard and the masked view of its merchants' refunds."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from posrefund.entrypoints.api.responses import Out


class Desk(Out):
    provider_id: str
    name: str
    seller_merchant_id: str
    store_id: str
    terminal_id: str
    created_by: str
    created_at: str


class Device(Out):
    id: str
    provider_id: str
    sn: str
    model: str
    merchant_id: str
    state: str
    issued_on: str
    shipped_on: str | None
    signed_on: str | None
    activated_on: str | None
    price_fen: int
    charge_kind: str
    charge_fen: int
    paid_fen: int
    currency: str
    route: str
    sale_id: str
    warranty_months: int
    replaces_id: str | None
    replaced_by_id: str | None
    deactivated_at: str | None
    version: int
    created_at: str
    updated_at: str


class DeviceList(Out):
    items: list[Device]


class Document(Out):
    kind: str
    evidence_id: str


class Deduction(Out):
    item: str
    amount_fen: int


class DeviceReturn(Out):
    """A return with its decision clock: ``due_at`` the end of the last working day (Shanghai),
    ``working_days_left`` 0 on that day and negative once past it, ``clock`` where it stands."""

    id: str
    provider_id: str
    merchant_id: str
    device_id: str
    sn: str
    model: str
    paid_fen: int
    route: str
    status: str
    reason: str
    fault_note: str
    refund_to_other_account: bool
    documents: list[Document]
    opened_by: str
    opened_at: str
    ship_address: str
    courier: str
    tracking_no: str
    shipping_approved_at: str | None
    received_at: str | None
    inspection: str
    inspection_note: str
    due_on: str | None
    due_at: str | None
    working_days_left: int | None
    clock: str
    escalated_at: str | None
    breached_at: str | None
    decision: str
    decision_reason: str
    deductions: list[Deduction]
    refund_fen: int
    refund_case_id: str | None
    refund_status: str | None
    replacement_id: str | None
    replacement_sn: str | None
    decided_by: str
    decided_at: str | None
    updated_at: str


class DeviceReturnList(Out):
    items: list[DeviceReturn]


class Notice(Out):
    id: int
    provider_id: str
    merchant_id: str
    audience: str
    return_id: str
    kind: str
    params: dict[str, Any]
    created_at: str
    delivery: list[dict[str, str]] = Field(
        default_factory=list,
        description="the step's messages to the merchant: channel, message_id, status (pending / sending / sent / "
        "failed / skipped), reason (no_contact: not sent, the merchant has no address there), masked recipient",
    )


class NoticeList(Out):
    items: list[Notice]


class Dashboard(Out):
    """Open returns by where their clock stands and by working days left (``not_started`` before receipt,
    negative once overdue); what was refunded to merchants this month."""

    open_returns: int
    open_by_clock: dict[str, int]
    open_by_working_days_left: dict[str, int]
    refunded_this_month_fen: int
    refunds_this_month: int
    breached: int


class ProviderMerchant(Out):
    id: str
    code: str
    name: str
    licence_no: str = ""
    settlement_bank: str = ""
    settlement_account_masked: str = ""


class ProviderMerchantList(Out):
    items: list[ProviderMerchant]


class MaskedCustomer(Out):
    phone: str
    name: str
    id_no: str


class MaskedRefund(Out):
    id: str
    refund_no: str
    status: str
    amount_fen: int
    currency: str
    channel: str
    method: str | None
    reason: str
    created_at: str
    customer: MaskedCustomer


class MaskedRefundList(Out):
    items: list[MaskedRefund]
