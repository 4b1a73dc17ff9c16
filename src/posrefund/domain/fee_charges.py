"""One-off charges a provider takes from a merchant (the 299-yuan activation fee, a service charge deducted from a
settlement, a device deposit), the terms on which they come back, and the payout case that gives money back to the
merchant — for a refunded charge or for fees charged above the contract (``domain.fees``).

Terms are data, decided against the merchant's own settlement history: ``volume`` (refundable once the merchant's
net volume on the named channels reaches an amount within N days of activation), ``device_return`` (refundable when
the device comes back, within N days of the charge if N is set), ``none`` (never refundable). The decision carries
its computation in Chinese, so the merchant sees why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from posrefund.domain.errors import Forbidden, Invalid, check_step
from posrefund.domain.fees import CHANNEL_ZH, FEE_CHANNELS, yuan

MAX_CHARGE_FEN = 10_000_000  # 100 000 yuan: a one-off charge above this is a typing error


class ChargeKind(StrEnum):
    ACTIVATION = "activation"  # 激活费 / 开通费 (the 299-yuan charge)
    SERVICE = "service"  # 服务费, deducted from a settlement
    DEVICE = "device"  # 机具费 / 押金 for a POS device


class TermsKind(StrEnum):
    VOLUME = "volume"
    DEVICE_RETURN = "device_return"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class ChargeTerms:
    kind: str
    volume_fen: int = 0
    within_days: int = 0
    channels: tuple[str, ...] = ("card",)

    def __post_init__(self) -> None:
        if self.kind not in TermsKind.__members__.values():
            raise Invalid("fees.invalid_terms", kind=self.kind)
        if any(c not in FEE_CHANNELS for c in self.channels):
            raise Invalid("fees.unknown_channel", channel=",".join(self.channels))
        bad_volume = self.kind == TermsKind.VOLUME and (self.volume_fen <= 0 or self.within_days <= 0)
        if bad_volume or self.volume_fen < 0 or self.within_days < 0 or not self.channels:
            raise Invalid("fees.invalid_terms", kind=self.kind)


@dataclass(frozen=True, slots=True)
class OneOffCharge:
    id: str
    merchant_id: str
    kind: str
    amount_fen: int
    charged_on: date
    activated_on: date
    terms: ChargeTerms
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ChargeKind.__members__.values():
            raise Invalid("fees.invalid_charge_kind", kind=self.kind)
        if isinstance(self.amount_fen, bool) or not 0 < self.amount_fen <= MAX_CHARGE_FEN:
            raise Invalid("fees.invalid_charge_amount", max_fen=MAX_CHARGE_FEN)


@dataclass(frozen=True, slots=True)
class VolumeLine:
    """A settled transaction as volume counts it: sales add, refunds and voids take away."""

    day: date
    kind: str
    channel: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class ChargeDecision:
    refundable: bool
    amount_fen: int
    code: str  # why: fees.charge_refundable, fees.volume_not_reached, fees.device_not_returned, ...
    explanation: str
    volume_fen: int = 0
    window_end: date | None = None


def decide_charge_refund(
    charge: OneOffCharge, history: Iterable[VolumeLine], today: date, device_returned_on: date | None = None
) -> ChargeDecision:
    """Whether the charge comes back now, and the computation that says so."""
    terms, amount = charge.terms, yuan(charge.amount_fen)
    if terms.kind == TermsKind.NONE:
        return ChargeDecision(False, 0, "fees.charge_not_refundable", f"按约定，该笔 {amount} 元费用不予退还。")
    if terms.kind == TermsKind.DEVICE_RETURN:
        return _device_decision(charge, device_returned_on)
    end = charge.activated_on + timedelta(days=terms.within_days - 1)
    volume = net_volume(history, terms.channels, charge.activated_on, end)
    span = (
        f"激活日 {charge.activated_on} 起 {terms.within_days} 天内（至 {end}），"
        f"{'、'.join(CHANNEL_ZH[c] for c in terms.channels)}交易净额 {yuan(volume)} 元"
    )
    if volume >= terms.volume_fen:
        text = f"{span}，达到 {yuan(terms.volume_fen)} 元的条件，{amount} 元予以退还。"
        return ChargeDecision(True, charge.amount_fen, "fees.charge_refundable", text, volume, end)
    short, goal = yuan(terms.volume_fen - volume), yuan(terms.volume_fen)
    if today <= end:
        text = f"{span}，尚差 {short} 元达到 {goal} 元；期限未到，可稍后再申请。"
    else:
        text = f"{span}，未达到 {goal} 元的条件（差 {short} 元），不予退还。"
    return ChargeDecision(False, 0, "fees.volume_not_reached", text, volume, end)


def _device_decision(charge: OneOffCharge, returned_on: date | None) -> ChargeDecision:
    amount = yuan(charge.amount_fen)
    if returned_on is None:
        return ChargeDecision(False, 0, "fees.device_not_returned", f"机具尚未退回，{amount} 元暂不退还。")
    days = charge.terms.within_days
    if days and returned_on > charge.charged_on + timedelta(days=days - 1):
        text = (
            f"机具于 {returned_on} 退回，超过收费日 {charge.charged_on} 起 {days} 天的退还期限，{amount} 元不予退还。"
        )
        return ChargeDecision(False, 0, "fees.device_return_late", text)
    return ChargeDecision(
        True, charge.amount_fen, "fees.charge_refundable", f"机具已于 {returned_on} 退回，{amount} 元予以退还。"
    )


def net_volume(history: Iterable[VolumeLine], channels: Iterable[str], start: date, end: date) -> int:
    """Sales less refunds and voids on the channels, settled from ``start`` to ``end`` inclusive."""
    wanted = set(channels)
    total = 0
    for line in history:
        if line.channel in wanted and start <= line.day <= end:
            total += line.amount_fen if line.kind == "sale" else -line.amount_fen
    return total


# ---- the payout case: money owed back to the merchant, approved by finance and paid by transfer ----------------


class PayoutStatus(StrEnum):
    OPEN = "open"  # computed, awaiting finance's approval
    APPROVED = "approved"  # awaiting the transfer
    PAID = "paid"
    REJECTED = "rejected"  # finance refused it, with a reason
    REFUSED = "refused"  # the terms did not allow it: kept with the computation that said so


class PayoutKind(StrEnum):
    OVERCHARGE = "overcharge"  # fees charged above the contract (费率多收退还)
    CHARGE = "charge"  # a one-off charge given back


P = PayoutStatus
PAYOUT_TRANSITIONS: dict[PayoutStatus, frozenset[PayoutStatus]] = {
    P.OPEN: frozenset({P.APPROVED, P.REJECTED}),
    P.APPROVED: frozenset({P.PAID}),
    P.PAID: frozenset(),
    P.REJECTED: frozenset(),
    P.REFUSED: frozenset(),
}


@dataclass(slots=True)
class PayoutCase:
    """Who opened, approved and paid it are three facts; the one who opens never approves, the one who approves
    never confirms the transfer (the core's rule for a refund paid away from the original route)."""

    id: str
    merchant_id: str
    kind: str
    status: PayoutStatus
    amount_fen: int
    opened_by: str
    opened_at: datetime
    explanation: str = ""
    charge_id: str = ""
    period_from: date | None = None
    period_to: date | None = None
    approved_by: str = ""
    paid_by: str = ""
    transfer_ref: str = ""
    reason: str = ""
    version: int = 0
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def approve(self, actor_id: str) -> None:
        check_step(PAYOUT_TRANSITIONS, self.status, P.APPROVED, "fees.case_not_open", status=self.status.value)
        if actor_id == self.opened_by:
            raise Forbidden("fees.self_approval")
        self.status, self.approved_by = P.APPROVED, actor_id
        self.events.append(("fees.case_approved", {"amount_fen": self.amount_fen}))

    def reject(self, actor_id: str, reason: str) -> None:
        if not reason.strip():
            raise Invalid("fees.reason_required")
        check_step(PAYOUT_TRANSITIONS, self.status, P.REJECTED, "fees.case_not_open", status=self.status.value)
        self.status, self.reason = P.REJECTED, reason.strip()
        self.events.append(("fees.case_rejected", {"reason": self.reason}))

    def pay(self, actor_id: str, transfer_ref: str) -> None:
        if not transfer_ref.strip():
            raise Invalid("fees.transfer_ref_required")
        check_step(PAYOUT_TRANSITIONS, self.status, P.PAID, "fees.case_not_approved", status=self.status.value)
        if actor_id == self.approved_by:
            raise Forbidden("fees.same_person")
        self.status, self.paid_by, self.transfer_ref = P.PAID, actor_id, transfer_ref.strip()
        self.events.append(("fees.case_paid", {"amount_fen": self.amount_fen, "transfer_ref": self.transfer_ref}))
