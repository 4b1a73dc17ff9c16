"""The merchant's refund policy (退款政策) and the check of one request against it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from posrefund.domain.errors import Invalid
from posrefund.domain.sale import DEPOSIT_KINDS, Channel, Sale


class Reason(StrEnum):
    GOODS_QUALITY = "goods_quality"
    SERVICE_ISSUE = "service_issue"
    CUSTOMER_CANCELLED = "customer_cancelled"
    DEPOSIT_RETURN = "deposit_return"
    TRANSACTION_ERROR = "transaction_error"
    WRONG_AMOUNT = "wrong_amount"
    DUPLICATE_CHARGE = "duplicate_charge"
    SYSTEM_FAULT = "system_fault"
    OTHER = "other"


class EvidenceKind(StrEnum):
    RECEIPT = "receipt"  # 购物小票
    ORDER_RECORD = "order_record"
    PAYMENT_RECORD = "payment_record"
    VOUCHER = "voucher"  # POS 签购单
    COMMUNICATION = "communication"
    PHOTO = "photo"
    OTHER = "other"


# Channels' own limits (CHANNELS.md): WeChat Pay and Alipay refuse orders older than 365 days.
DEFAULT_CHANNEL_WINDOWS = {Channel.WECHAT.value: 365, Channel.ALIPAY.value: 365, Channel.UNIONPAY_QR.value: 365}


@dataclass(frozen=True)
class RefundPolicy:
    """All limits in fen; ``channel_window_days`` narrows the merchant window per channel."""

    refund_window_days: int = 30
    evidence_required: dict[str, list[str]] = field(default_factory=dict)
    auto_approve_limit_fen: int = 0  # a new merchant auto-approves nothing until an admin sets limits
    supervisor_limit_fen: int = 500_000
    two_person_limit_fen: int = 1_000_000
    max_partial_refunds: int = 50
    channel_window_days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CHANNEL_WINDOWS))
    require_customer_phone_above_fen: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RefundPolicy:
        """Build from a plain mapping (API body or TOML), refusing unknown keys and bad values."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise Invalid("policy.unknown_field", fields=unknown)
        policy = cls(**data)
        policy.validate()
        return policy

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def validate(self) -> None:
        ints = {
            "refund_window_days": self.refund_window_days,
            "auto_approve_limit_fen": self.auto_approve_limit_fen,
            "supervisor_limit_fen": self.supervisor_limit_fen,
            "two_person_limit_fen": self.two_person_limit_fen,
            "max_partial_refunds": self.max_partial_refunds,
        }
        for name, value in ints.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 10**12:
                raise Invalid("policy.invalid_value", field=name)
        if self.refund_window_days < 1 or self.max_partial_refunds < 1:
            raise Invalid("policy.invalid_value", field="refund_window_days/max_partial_refunds")
        if not self.auto_approve_limit_fen <= self.supervisor_limit_fen:
            raise Invalid("policy.limits_out_of_order", field="auto_approve_limit_fen")
        if self.require_customer_phone_above_fen is not None and (
            isinstance(self.require_customer_phone_above_fen, bool)
            or not isinstance(self.require_customer_phone_above_fen, int)
            or self.require_customer_phone_above_fen < 0
        ):
            raise Invalid("policy.invalid_value", field="require_customer_phone_above_fen")
        if not isinstance(self.evidence_required, dict):
            raise Invalid("policy.invalid_value", field="evidence_required")
        for reason, kinds in self.evidence_required.items():
            if reason not in Reason.__members__.values() or not isinstance(kinds, list):
                raise Invalid("policy.invalid_value", field=f"evidence_required.{reason}")
            for kind in kinds:
                if kind not in EvidenceKind.__members__.values():
                    raise Invalid("policy.invalid_value", field=f"evidence_required.{reason}")
        if not isinstance(self.channel_window_days, dict):
            raise Invalid("policy.invalid_value", field="channel_window_days")
        for channel, days in self.channel_window_days.items():
            if channel not in Channel.__members__.values():
                raise Invalid("policy.invalid_value", field=f"channel_window_days.{channel}")
            if isinstance(days, bool) or not isinstance(days, int) or days < 1:
                raise Invalid("policy.invalid_value", field=f"channel_window_days.{channel}")


@dataclass(frozen=True, slots=True)
class Violation:
    code: str
    params: dict[str, Any]


def check_request(
    policy: RefundPolicy,
    sale: Sale,
    amount_fen: int,
    reason: Reason,
    evidence_kinds: set[str],
    has_phone: bool,
    now: datetime,
) -> list[Violation]:
    """Every rule the request breaks, in the order a cashier would explain them."""
    out: list[Violation] = []
    if amount_fen <= 0:
        out.append(Violation("refund.amount_not_positive", {"amount_fen": amount_fen}))
    if amount_fen > sale.refundable_fen:
        out.append(
            Violation(
                "refund.exceeds_refundable",
                {"amount_fen": amount_fen, "refundable_fen": sale.refundable_fen},
            )
        )
    age = now - sale.paid_at
    if age > timedelta(days=policy.refund_window_days):
        out.append(Violation("policy.window_expired", {"window_days": policy.refund_window_days}))
    channel_days = policy.channel_window_days.get(sale.channel.value)
    if channel_days is not None and age > timedelta(days=channel_days):
        out.append(
            Violation("policy.channel_window_expired", {"channel": sale.channel.value, "window_days": channel_days})
        )
    if sale.refund_count >= policy.max_partial_refunds:
        out.append(Violation("policy.partial_limit", {"max_partial_refunds": policy.max_partial_refunds}))
    missing = [k for k in policy.evidence_required.get(reason.value, []) if k not in evidence_kinds]
    if missing:
        out.append(Violation("policy.evidence_required", {"reason": reason.value, "missing": missing}))
    if (
        policy.require_customer_phone_above_fen is not None
        and amount_fen > policy.require_customer_phone_above_fen
        and not has_phone
    ):
        out.append(Violation("policy.customer_phone_required", {}))
    if reason is Reason.DEPOSIT_RETURN and sale.kind not in DEPOSIT_KINDS:
        out.append(Violation("policy.not_a_deposit", {}))
    return out
