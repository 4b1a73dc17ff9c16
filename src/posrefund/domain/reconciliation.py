"""Reconciliation (对账) and wrong charges (错收): the vocabulary and the few rules that are pure arithmetic.

The matching itself runs in SQL over the staged settlement lines and the ledger (see
``adapters/db/recon_sql.py``); what it means is decided here so every edge speaks the same words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from posrefund.domain.errors import Invalid


class Source(StrEnum):
    """Who sent the settlement file; each file covers some of our sale channels."""

    CARD = "card"  # the acquirer's card file (UnionPay QR settles through the acquirer too)
    WECHAT = "wechat"
    ALIPAY = "alipay"


SOURCE_CHANNELS: dict[Source, tuple[str, ...]] = {
    Source.CARD: ("card", "unionpay_qr"),
    Source.WECHAT: ("wechat",),
    Source.ALIPAY: ("alipay",),
}


class DiscrepancyClass(StrEnum):
    MISSING_AT_CHANNEL = "missing_at_channel"  # we recorded it, the channel did not settle it
    MISSING_HERE = "missing_here"  # the channel settled it, we have no record
    AMOUNT_MISMATCH = "amount_mismatch"
    FEE_MISMATCH = "fee_mismatch"  # against the merchant's configured rate
    DUPLICATE_CHARGE = "duplicate_charge"  # one sale charged twice (same channel reference or a second capture)
    REFUND_STATUS_MISMATCH = "refund_status_mismatch"  # channel paid and we think not, or the reverse
    # a hold's completion (预授权完成 / a trade paid out of an Alipay freeze) the channel settled while ours is not
    # done (unanswered, unresolved, refused), and a completion of ours the channel did not settle
    COMPLETION_MISSING_HERE = "completion_missing_here"
    COMPLETION_MISSING_AT_CHANNEL = "completion_missing_at_channel"


class Cause(StrEnum):
    """Why a wrong charge happened (DOMAIN.md: analyse the cause so it can be fixed)."""

    UNKNOWN = "unknown"
    OPERATOR_ERROR = "operator_error"
    SYSTEM_FAULT = "system_fault"
    DATA_TRANSMISSION_ERROR = "data_transmission_error"
    CHANNEL_ERROR = "channel_error"


class Responsible(StrEnum):
    UNKNOWN = "unknown"
    MERCHANT_STAFF = "merchant_staff"
    MERCHANT_SYSTEM = "merchant_system"
    SERVICE_PROVIDER = "service_provider"
    ACQUIRER = "acquirer"
    WALLET_CHANNEL = "wallet_channel"
    CUSTOMER = "customer"


class ContactMethod(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    WECHAT = "wechat"
    EMAIL = "email"
    IN_PERSON = "in_person"


# How far apart two card captures of one voucher no. on one terminal may be to be one sale charged twice
# (voucher nos. recur in later batches); the other duplicate keys hold whatever the time.
DEFAULT_DUPLICATE_WINDOW_SECONDS = 600
MAX_DUPLICATE_WINDOW_SECONDS = 7 * 86_400
MAX_RUN_DAYS = 31
BP = 10_000  # basis points in one


@dataclass(frozen=True, slots=True)
class FeeRate:
    """A merchant's fee for one channel, in basis points (60 = 0.60 %). QR rates are often tiered:
    ``large_rate_bp`` applies from ``large_from_fen`` up (0.38 % small, 0.55 % large in DOMAIN.md)."""

    channel: str
    rate_bp: int
    large_rate_bp: int | None = None
    large_from_fen: int | None = None

    def __post_init__(self) -> None:
        for v in (self.rate_bp, self.large_rate_bp):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 1_000):
                raise Invalid("recon.invalid_fee_rate", channel=self.channel)
        if (self.large_rate_bp is None) != (self.large_from_fen is None):
            raise Invalid("recon.invalid_fee_rate", channel=self.channel)
        if self.large_from_fen is not None and self.large_from_fen <= 0:
            raise Invalid("recon.invalid_fee_rate", channel=self.channel)

    def expected_fee(self, amount_fen: int) -> int:
        """Integer maths, rounded half up to the fen — the same formula the SQL uses."""
        bp = self.rate_bp
        if self.large_from_fen is not None and self.large_rate_bp is not None and amount_fen >= self.large_from_fen:
            bp = self.large_rate_bp
        return (amount_fen * bp + BP // 2) // BP


def check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise Invalid("request.bad_range")
    if (date_to - date_from).days >= MAX_RUN_DAYS:
        raise Invalid("recon.range_too_long", max_days=MAX_RUN_DAYS)


def run_key(merchant_id: str, source: str, date_from: date, date_to: date, fingerprints: Iterable[str]) -> str:
    """A run is identified by channel + date range + the set of files: the same inputs, the same run."""
    parts = [merchant_id, source, date_from.isoformat(), date_to.isoformat(), *sorted(set(fingerprints))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def correction_amount(cls: DiscrepancyClass, ours_fen: int | None, theirs_fen: int | None) -> int | None:
    """What a correction refund gives back when nobody says otherwise: the whole duplicate charge, or what
    the channel took beyond the amount we recorded. None when the class has no natural amount."""
    if cls is DiscrepancyClass.DUPLICATE_CHARGE and theirs_fen:
        return theirs_fen
    if cls is DiscrepancyClass.AMOUNT_MISMATCH and ours_fen is not None and theirs_fen is not None:
        return theirs_fen - ours_fen if theirs_fen > ours_fen else None
    return None
