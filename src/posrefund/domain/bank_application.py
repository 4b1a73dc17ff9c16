"""The refund application to the bank (退费申请): a card refund that cannot go through the terminal — the
merchant's account is closed, the sale is too old for the terminal to refund, or the cardholder disputes it
through the issuer — is asked of the acquirer or issuer on paper, with reason and evidence, and the bank
answers within its review time.

Its life: *prepared* (the form printed) → *submitted* (on a date, through a channel, to a bank, with the
bank's reference; the answer is due a number of Chinese business days later) → *accepted* or *rejected*
(on a date, with the bank's reply). One table of transitions decides every move."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from posrefund.domain.errors import Invalid, check_step
from posrefund.domain.free_text import free_text as typed


class ApplicationStatus(StrEnum):
    PREPARED = "prepared"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


A = ApplicationStatus
TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    A.PREPARED: frozenset({A.PREPARED, A.SUBMITTED}),  # prepared again: the form re-issued with new details
    A.SUBMITTED: frozenset({A.ACCEPTED, A.REJECTED}),
    A.ACCEPTED: frozenset(),
    A.REJECTED: frozenset(),
}
OPEN = frozenset({A.PREPARED, A.SUBMITTED})
OUTCOMES = (A.ACCEPTED, A.REJECTED)


class WhyBank(StrEnum):
    """Why the refund goes to the bank instead of through the terminal."""

    ACCOUNT_CLOSED = "account_closed"  # the merchant's account (or terminal) is closed
    TOO_OLD = "too_old"  # beyond what the terminal may refund
    ISSUER_DISPUTE = "issuer_dispute"  # the cardholder disputes the sale through the issuing bank
    OTHER = "other"


WHY_ZH: dict[str, str] = {
    WhyBank.ACCOUNT_CLOSED: "商户账户已注销 / 终端已撤机，无法通过终端退货",
    WhyBank.TOO_OLD: "原交易超过终端可退货期限",
    WhyBank.ISSUER_DISPUTE: "持卡人通过发卡行提出争议",
    WhyBank.OTHER: "其他原因",
}


class SubmitChannel(StrEnum):
    COUNTER = "counter"  # handed in at the bank's counter
    MAIL = "mail"  # posted
    PORTAL = "portal"  # the acquirer's merchant portal
    ACCOUNT_MANAGER = "account_manager"  # through the acquirer's account manager


CHANNEL_ZH: dict[str, str] = {
    SubmitChannel.COUNTER: "银行柜台递交",
    SubmitChannel.MAIL: "邮寄",
    SubmitChannel.PORTAL: "收单机构商户平台",
    SubmitChannel.ACCOUNT_MANAGER: "客户经理转交",
}
STATUS_ZH: dict[str, str] = {
    A.PREPARED: "已准备（待递交）",
    A.SUBMITTED: "已递交银行（待答复）",
    A.ACCEPTED: "银行已受理退款",
    A.REJECTED: "银行已拒绝",
}

EVIDENCE_ZH: dict[str, str] = {
    "receipt": "购物小票",
    "order_record": "订单记录",
    "payment_record": "支付记录",
    "voucher": "POS 签购单",
    "communication": "沟通记录",
    "photo": "照片",
}

MAX_TEXT = 2000
MAX_REFERENCE = 64
MAX_ATTACHMENTS = 20
# The card statuses a refund may be in when the bank is asked: never one refused, withdrawn or already paid.
NOT_FOR_BANK = frozenset({"rejected", "cancelled", "succeeded"})
_DIGITS = re.compile(r"\d")


def check_transition(current: ApplicationStatus, target: ApplicationStatus) -> None:
    codes = {A.PREPARED: "bank_application.not_submitted", A.SUBMITTED: "bank_application.already_submitted"}
    code = codes.get(current, "bank_application.closed")
    check_step(TRANSITIONS, current, target, code, status=current.value)


def why_bank(value: str) -> WhyBank:
    try:
        return WhyBank(value)
    except ValueError:
        raise Invalid("bank_application.bad_reason", reason=value[:40]) from None


def submit_channel(value: str) -> SubmitChannel:
    try:
        return SubmitChannel(value)
    except ValueError:
        raise Invalid("bank_application.bad_channel", channel=value[:40]) from None


def outcome_of(value: str) -> ApplicationStatus:
    if value not in (A.ACCEPTED.value, A.REJECTED.value):
        raise Invalid("bank_application.bad_outcome", outcome=value[:40])
    return ApplicationStatus(value)


def free_text(value: str, field: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    """A statement, bank name, reference or reply: trimmed, bounded, never a card number."""
    return typed(value, field, limit=limit, required=required, missing="bank_application.text_required")


def attachment_list(names: list[str]) -> list[str]:
    """The paper documents handed over with the form (copies of the slip, the ID card …), each once."""
    out = list(dict.fromkeys(free_text(n, "attachments", required=True, limit=200) for n in names))
    if len(out) > MAX_ATTACHMENTS:
        raise Invalid("request.field_too_long", field="attachments", max=MAX_ATTACHMENTS)
    return out


OLDEST_SUBMISSION_DAYS = 366  # a submission recorded later than this is a typing mistake, not a late entry


def check_dates(submitted_on: date, today: date) -> None:
    if submitted_on > today or (today - submitted_on).days > OLDEST_SUBMISSION_DAYS:
        raise Invalid("bank_application.bad_submission_date", day=submitted_on.isoformat())


def check_outcome_date(outcome_on: date, submitted_on: date, today: date) -> None:
    if outcome_on > today or outcome_on < submitted_on:
        raise Invalid("bank_application.bad_outcome_date", day=outcome_on.isoformat())


def masked_card(payer_masked: str) -> str:
    """At most the first six and last four digits of a card, whatever was stored: a longer run of digits (it
    should never be there) is masked again rather than printed."""
    digits = _DIGITS.findall(payer_masked)
    if len(digits) <= 10:
        return payer_masked
    return "".join(digits[:6]) + "******" + "".join(digits[-4:])
