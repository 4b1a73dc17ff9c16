"""A merchant's return of a POS device to its payment service provider (退机): the terminal's and the return's
states, the 7-day window, the documents a return needs, itemised deductions and the provider's 3-working-day
decision clock. Pure rules; the service reads and writes, the calendar is handed in."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from posrefund.domain.calendar import add_business_days
from posrefund.domain.errors import Conflict, Invalid, check_step

# Within this many calendar days of signing for the device, a return needs no reason (DOMAIN.md).
RETURN_WINDOW_DAYS = 7
# The provider decides within this many Chinese working days of receiving the device back.
DECISION_WORKING_DAYS = 3
DEFAULT_WARRANTY_MONTHS = 12
MAX_DEDUCTIONS = 20
SN = "[A-Za-z0-9-]{4,64}"  # a device's serial number as printed on it


class TerminalState(StrEnum):
    ISSUED = "issued"
    ACTIVE = "active"
    RETURN_OPEN = "return_open"
    RETURNED = "returned"
    REPLACED = "replaced"
    DEACTIVATED = "deactivated"


class PaymentRoute(StrEnum):
    """How the merchant paid the provider for the device; the refund goes back the same way."""

    CARD = "card"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    TRANSFER = "transfer"


class ChargeKind(StrEnum):
    """What the merchant paid beside the price: a deposit (押金, comes back with the device) or a service
    charge (服务费)."""

    NONE = "none"
    DEPOSIT = "deposit"
    SERVICE_CHARGE = "service_charge"


class ReturnReason(StrEnum):
    NO_REASON = "no_reason"  # 7 天无理由
    FAULT = "fault"  # a fault under warranty


class ReturnStatus(StrEnum):
    OPENED = "opened"
    SHIPPING_APPROVED = "shipping_approved"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REPLACED = "replaced"
    REJECTED = "rejected"


class Inspection(StrEnum):
    INTACT = "intact"
    DAMAGED = "damaged"
    PARTS_MISSING = "parts_missing"


class Decision(StrEnum):
    FULL_REFUND = "full_refund"
    PARTIAL_REFUND = "partial_refund"
    REPLACEMENT = "replacement"
    REJECTION = "rejection"


class DocumentKind(StrEnum):
    INVOICE = "invoice"  # 发票
    WARRANTY_CARD = "warranty_card"  # 保修卡
    DEVICE_PHOTO = "device_photo"
    PACKAGING_PHOTO = "packaging_photo"
    RETURN_FORM = "return_form"  # printed from posrefund, signed by the merchant
    PAYER_IDENTITY = "payer_identity"  # when the refund goes to another account than the one that paid
    INSPECTION_PHOTO = "inspection_photo"  # the provider's photos on receipt


S = ReturnStatus
CLOSED = frozenset({S.REFUNDED, S.REPLACED, S.REJECTED})
TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    S.OPENED: frozenset({S.SHIPPING_APPROVED, S.REJECTED}),
    S.SHIPPING_APPROVED: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.REFUNDED, S.REPLACED, S.REJECTED}),
    S.REFUNDED: frozenset(),
    S.REPLACED: frozenset(),
    S.REJECTED: frozenset(),
}
DECIDED_AS: dict[Decision, ReturnStatus] = {
    Decision.FULL_REFUND: S.REFUNDED,
    Decision.PARTIAL_REFUND: S.REFUNDED,
    Decision.REPLACEMENT: S.REPLACED,
    Decision.REJECTION: S.REJECTED,
}
# What the terminal becomes when its return is decided; a rejected return sends the device back in use.
TERMINAL_AFTER: dict[ReturnStatus, TerminalState] = {
    S.REFUNDED: TerminalState.RETURNED,
    S.REPLACED: TerminalState.REPLACED,
    S.REJECTED: TerminalState.ACTIVE,
}
RETURNABLE = frozenset({TerminalState.ISSUED, TerminalState.ACTIVE})
PHOTOS = frozenset({DocumentKind.DEVICE_PHOTO, DocumentKind.PACKAGING_PHOTO, DocumentKind.INSPECTION_PHOTO})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
PAPER_TYPES = IMAGE_TYPES | {"application/pdf"}


def step(current: ReturnStatus, target: ReturnStatus) -> None:
    """Refuse a move the table does not have; a closed return says so in its own words."""
    if current in CLOSED:
        raise Conflict("device_return.closed", status=current.value)
    check_step(TRANSITIONS, current, target, "device_return.invalid_step")


def check_returnable(state: TerminalState) -> None:
    if state is TerminalState.RETURN_OPEN:
        raise Conflict("device_return.already_open")
    if state not in RETURNABLE:
        raise Conflict("device_return.terminal_not_returnable", state=state.value)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer days."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def check_window(signed_on: date | None, today: date, reason: ReturnReason, warranty_months: int) -> None:
    """Within 7 days of signing for the device any return is accepted; after that only a fault within the
    warranty. Refused with the dates that decided it."""
    if signed_on is None:
        raise Invalid("device_return.not_signed_for")
    days = (today - signed_on).days
    if days <= RETURN_WINDOW_DAYS:
        return
    if reason is not ReturnReason.FAULT:
        raise Invalid(
            "device_return.outside_window",
            signed_on=signed_on.isoformat(),
            days_since=days,
            window_days=RETURN_WINDOW_DAYS,
        )
    until = add_months(signed_on, warranty_months)
    if today > until:
        raise Invalid("device_return.warranty_expired", warranty_until=until.isoformat())


def required_documents(refund_to_other_account: bool) -> list[DocumentKind]:
    kinds = [
        DocumentKind.INVOICE,
        DocumentKind.WARRANTY_CARD,
        DocumentKind.DEVICE_PHOTO,
        DocumentKind.PACKAGING_PHOTO,
        DocumentKind.RETURN_FORM,
    ]
    return [*kinds, DocumentKind.PAYER_IDENTITY] if refund_to_other_account else kinds


def missing_documents(have: Iterable[str], refund_to_other_account: bool) -> list[str]:
    present = set(have)
    return [k.value for k in required_documents(refund_to_other_account) if k.value not in present]


def check_document_type(kind: DocumentKind, content_type: str) -> None:
    """Photos are images; invoices, warranty cards, forms and identity papers are images or PDF scans."""
    allowed = IMAGE_TYPES if kind in PHOTOS else PAPER_TYPES
    if content_type not in allowed:
        raise Invalid("device_return.document_type", kind=kind.value, allowed=sorted(allowed))


@dataclass(frozen=True, slots=True)
class Deduction:
    """One itemised deduction from a partial refund (a scratched screen, a missing charger), in fen."""

    item: str
    amount_fen: int


def refund_amount(paid_fen: int, decision: Decision, deductions: list[Deduction]) -> int:
    """What goes back to the merchant: all of it, or what is left after the itemised deductions — never more
    than was paid, never nothing."""
    if decision is Decision.FULL_REFUND:
        if deductions:
            raise Invalid("device_return.deductions_not_partial")
        return paid_fen
    if not deductions:
        raise Invalid("device_return.deductions_required")
    if len(deductions) > MAX_DEDUCTIONS:
        raise Invalid("device_return.too_many_deductions", max=MAX_DEDUCTIONS)
    for d in deductions:
        if not d.item.strip() or len(d.item) > 100:
            raise Invalid("device_return.deduction_item")
        if isinstance(d.amount_fen, bool) or not isinstance(d.amount_fen, int) or d.amount_fen <= 0:
            raise Invalid("device_return.deduction_amount", item=d.item)
    total = sum(d.amount_fen for d in deductions)
    if total >= paid_fen:
        raise Invalid("device_return.deductions_exceed_paid", deducted_fen=total, paid_fen=paid_fen)
    return paid_fen - total


def decision_due(received_on: date, is_workday: Callable[[date], bool]) -> date:
    """The last day of the decision: the 3rd Chinese working day after the device arrived (holidays skipped,
    make-up working days counted)."""
    return add_business_days(received_on, DECISION_WORKING_DAYS, is_workday)


def working_days_left(today: date, due_on: date, is_workday: Callable[[date], bool]) -> int:
    """Working days after today up to the due day: 0 on the last day itself, negative once past it (the
    working days overdue)."""
    if today <= due_on:
        return sum(1 for n in range(1, (due_on - today).days + 1) if is_workday(today + timedelta(days=n)))
    return -sum(1 for n in range(1, (today - due_on).days + 1) if is_workday(due_on + timedelta(days=n)))


class Clock(StrEnum):
    """Where a return stands against its decision clock."""

    NOT_STARTED = "not_started"  # the device has not arrived yet
    RUNNING = "running"
    LAST_DAY = "last_day"  # escalated to the provider's administrator
    BREACHED = "breached"
    STOPPED = "stopped"  # decided


def clock_of(status: ReturnStatus, due_on: date | None, today: date) -> Clock:
    if status in CLOSED:
        return Clock.STOPPED
    if due_on is None:
        return Clock.NOT_STARTED
    if today > due_on:
        return Clock.BREACHED
    return Clock.LAST_DAY if today == due_on else Clock.RUNNING
