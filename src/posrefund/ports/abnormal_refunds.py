"""Abnormal WeChat Pay refunds sent to a bank card: the channel's call, and the record of each case's application
(one per case; the card number and holder's name only as ciphertext)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypedDict, runtime_checkable

from posrefund.domain.abnormal_refund import CardRefund
from posrefund.domain.channel import ChannelAnswer, RefundOrder


@runtime_checkable
class AbnormalRefundChannel(Protocol):
    """A channel that can send an abnormal refund to a bank card (WeChat Pay's ``apply-abnormal-refund``).
    Like ``submit``, it never raises for channel trouble: ACCEPTED / SUCCEEDED when taken, DECLINED when refused,
    UNKNOWN (or NOT_SENT) when nobody can tell; ``query`` then says whether it was applied."""

    name: str

    def apply_abnormal_refund(self, refund: CardRefund) -> ChannelAnswer: ...

    def query(self, order: RefundOrder) -> ChannelAnswer: ...


class CardApplicationRow(TypedDict):
    case_id: str
    merchant_id: str
    kind: str  # USER_BANK_CARD | MERCHANT_BANK_CARD
    bank_type: str
    account_masked: str  # ****1234
    real_name_enc: str
    consent_by_enc: str  # who consented: a person's name, so encrypted too
    consent_how: str  # phone | counter
    consent_at: datetime
    applied_by: str
    applied_at: datetime
    reason: str
    status: str  # sent | accepted | declined
    sends: int  # how many times the application went to the channel
    last_code: str
    updated_at: datetime


class CardApplicationRepo(Protocol):
    def get_application(self, merchant_id: str, case_id: str) -> CardApplicationRow | None: ...

    def save_application(self, row: CardApplicationRow, replacing: CardApplicationRow | None) -> bool:
        """Insert the case's application in place of ``replacing`` exactly as the caller read it (declined, or sent
        and shown not applied), or as the first; False when another application holds the case — including one
        that replaced ``replacing`` meanwhile (two people applying at once: one goes out)."""
        ...

    def mark(self, case_id: str, status: str, code: str, at: datetime, *, sent: bool = False) -> None:
        """Record what the channel said (and, ``sent``, that the application went out once more)."""
        ...
