"""An abnormal WeChat Pay refund (异常退款) sent again to a bank card: the customer's consent, the card's bank,
number and holder, and the rules a supervisor's application must meet before anything goes to WeChat Pay.

WeChat Pay marks a refund ABNORMAL when the money cannot reach the payer (the card account was closed or frozen);
its ``apply-abnormal-refund`` call sends it to a bank card instead: the customer's own debit card at one of
fifteen banks (USER_BANK_CARD, number and name required) or the merchant's settlement account
(MERCHANT_BANK_CARD). The card number and name are personal data: they exist in clear only in memory, on their
way to the channel (encrypted again there with WeChat Pay's public key); what is kept is encrypted, and what is
shown is the last four digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from posrefund.domain.channel import RefundOrder
from posrefund.domain.errors import Conflict, Invalid


class CardKind(StrEnum):
    USER_BANK_CARD = "USER_BANK_CARD"  # 退款至用户银行卡
    MERCHANT_BANK_CARD = "MERCHANT_BANK_CARD"  # 退款至交易商户银行账户


# The debit cards WeChat Pay accepts for USER_BANK_CARD, by its bank-type code (银行类型), with the bank's name.
BANK_TYPES: dict[str, tuple[str, str]] = {
    "CMB_DEBIT": ("招商银行", "China Merchants Bank"),
    "COMM_DEBIT": ("交通银行", "Bank of Communications"),
    "ABC_DEBIT": ("农业银行", "Agricultural Bank of China"),
    "CCB_DEBIT": ("建设银行", "China Construction Bank"),
    "ICBC_DEBIT": ("工商银行", "Industrial and Commercial Bank of China"),
    "BOC_DEBIT": ("中国银行", "Bank of China"),
    "PAB_DEBIT": ("平安银行", "Ping An Bank"),
    "SPDB_DEBIT": ("浦发银行", "Shanghai Pudong Development Bank"),
    "CITIC_DEBIT": ("中信银行", "China CITIC Bank"),
    "CEB_DEBIT": ("光大银行", "China Everbright Bank"),
    "CMBC_DEBIT": ("民生银行", "China Minsheng Bank"),
    "CIB_DEBIT": ("兴业银行", "Industrial Bank"),
    "GDB_DEBIT": ("广发银行", "China Guangfa Bank"),
    "PSBC_DEBIT": ("邮储银行", "Postal Savings Bank of China"),
    "NBCB_DEBIT": ("宁波银行", "Bank of Ningbo"),
}
# How the customer agreed to the money going to a card: by phone, or in person at the counter.
CONSENT_CHANNELS = ("phone", "counter")

# The application's life: ``sent`` (its answer is not known yet), ``accepted`` (WeChat Pay took it: the refund
# is PROCESSING again), ``declined`` (refused: nothing was applied, a corrected application may follow).
SENT, ACCEPTED, DECLINED = "sent", "accepted", "declined"

_ACCOUNT = re.compile(r"^[0-9]{8,30}$")  # debit card or account numbers of the listed banks: 8–30 digits
_SEPARATORS = re.compile(r"[\s\-]")
MAX_NAME = 50
MAX_CONSENT_BY = 40


@dataclass(frozen=True, slots=True)
class Consent:
    """Who agreed (the customer, or the person speaking for them), how, and when (told by the supervisor)."""

    given_by: str
    how: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CardDetails:
    """Where the money goes: kind, bank (customer's card only), number and holder — in clear, in memory only."""

    kind: CardKind
    bank_type: str = ""
    account: str = ""
    real_name: str = ""

    @property
    def masked_account(self) -> str:
        return mask_account(self.account)


@dataclass(frozen=True, slots=True)
class CardRefund:
    """What the channel is asked: refund ``channel_refund_id`` (our ``order.refund_no``) again, to this card."""

    order: RefundOrder
    channel_refund_id: str
    card: CardDetails


def mask_account(account: str) -> str:
    """``****1234``: the last four digits are all a person ever sees again."""
    return f"****{account[-4:]}" if len(account) >= 4 else ""


def checked_consent(given_by: str, how: str, at: datetime | None, now: datetime) -> Consent:
    """The customer's consent is required: who, how (phone / counter) and when (not in the future)."""
    given_by = given_by.strip()
    if not given_by or at is None:
        raise Invalid("abnormal_refund.consent_required")
    if len(given_by) > MAX_CONSENT_BY:
        raise Invalid("abnormal_refund.consent_required", max=MAX_CONSENT_BY)
    if how not in CONSENT_CHANNELS:
        raise Invalid("abnormal_refund.consent_channel", channels="/".join(CONSENT_CHANNELS))
    if at.tzinfo is None or at > now:
        raise Invalid("abnormal_refund.consent_time")
    return Consent(given_by, how, at)


def checked_card(kind: str, bank_type: str, account: str, real_name: str) -> CardDetails:
    """The card as WeChat Pay requires it: a customer's card names one of the fifteen banks, an all-digit
    number and the holder's name; the merchant's own account needs none of them (WeChat Pay knows it)."""
    try:
        card_kind = CardKind(kind)
    except ValueError:
        raise Invalid("abnormal_refund.invalid_kind", kind=kind[:30]) from None
    if card_kind is CardKind.MERCHANT_BANK_CARD:
        return CardDetails(card_kind)
    if bank_type not in BANK_TYPES:
        raise Invalid("abnormal_refund.invalid_bank", bank_type=bank_type[:20])
    number = _SEPARATORS.sub("", account)
    if not _ACCOUNT.match(number):
        raise Invalid("abnormal_refund.invalid_account")
    name = real_name.strip()
    if not name or len(name) > MAX_NAME or any(ch.isdigit() for ch in name):
        raise Invalid("abnormal_refund.invalid_name")
    return CardDetails(card_kind, bank_type, number, name)


def check_may_apply(channel: str, status: str, channel_refund_id: str) -> None:
    """Only a WeChat Pay refund that WeChat Pay itself reported ABNORMAL (so it has WeChat's refund id) can be
    sent to a card."""
    if channel != "wechat":
        raise Conflict("abnormal_refund.not_wechat", channel=channel)
    if status != "abnormal":
        raise Conflict("abnormal_refund.not_abnormal", current=status)
    if not channel_refund_id:
        raise Conflict("abnormal_refund.no_channel_refund")
