"""What posrefund asks of a payment channel and what it can answer: the contract every adapter keeps.

Adapters translate these to each channel's own protocol (ISO 8583, WeChat Pay v3, Alipay) and back.
A channel never decides our case's status; the worker maps an ``Outcome`` onto the state machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Method(StrEnum):
    VOID = "void"  # 消费撤销: same batch, not settled, whole amount
    REFUND = "refund"  # 退货 / wallet refund
    REVERSAL = "reversal"  # 冲正: undo a message whose answer never came
    CASH = "cash"
    CHEQUE = "cheque"
    TRANSFER = "transfer"  # bank transfer: only as a reroute away from the original route


class Outcome(StrEnum):
    """What the channel says happened to one refund number."""

    ACCEPTED = "accepted"  # taken, not final yet: query later
    SUCCEEDED = "succeeded"  # money moved
    DECLINED = "declined"  # refused for good (no money moved); reason in ``code``
    CLOSED = "closed"  # the channel gave up (e.g. WeChat CLOSED)
    ABNORMAL = "abnormal"  # money stuck (closed card account…): a person decides
    NOT_FOUND = "not_found"  # the channel has no such refund number: safe to submit (again) with the SAME number
    UNKNOWN = "unknown"  # timeout, 5xx, system error: outcome unknown, resolve by querying
    UNRESOLVED = "unresolved"  # the channel's rules allow no more asking: settled by its settlement file or a person
    NOT_SENT = "not_sent"  # the request never left (DNS, connection refused): nothing can have happened; send again


@dataclass(frozen=True, slots=True)
class OriginalSale:
    """The sale as the channel knows it: the references a refund must quote."""

    channel: str
    order_no: str  # out_trade_no for wallets
    amount_fen: int  # the captured total
    currency: str
    paid_at: datetime
    rrn: str = ""
    auth_code: str = ""
    voucher_no: str = ""
    batch_no: str = ""
    terminal_no: str = ""
    merchant_no: str = ""
    settled: bool = True
    # The channel's own transaction reference (WeChat transaction_id, Alipay trade_no): when set, the refund names
    # the transaction by it instead of by ``order_no`` (a second capture may share the order no. of the first).
    channel_trade_no: str = ""


@dataclass(frozen=True, slots=True)
class RefundOrder:
    """One refund as sent to a channel. ``refund_no`` is generated once and reused on every retry."""

    refund_no: str
    amount_fen: int
    currency: str
    reason: str
    method: Method
    sale: OriginalSale


# The key of ``ChannelAnswer.details`` under which a channel's answer states the amount it refunded (fen,
# as text): a success for another amount than the case's is not that case's success.
REFUNDED_FEN = "refund_fen"
# The key of ``ChannelAnswer.details`` naming the kind of account the payer's money goes back to
# (``domain.calendar.RECEIVING_ACCOUNTS``): a bank card takes working days, a wallet balance minutes.
RECEIVING_ACCOUNT = "receiving_account"
# The key of ``ChannelAnswer.details`` set on an UNKNOWN answer the channel's documentation says to follow with
# the same request again, soon (WeChat's SYSTEM_ERROR and 5xx, Alipay's ACQ.SYSTEM_ERROR, a read timeout): the
# worker asks within seconds (``ChannelRules.ask_again_after``) instead of waiting for the first-query delay.
# Never set on "slow down" answers (FREQUENCY_LIMITED), which wait for the channel's own delay.
ASK_AGAIN_SOON = "ask_again_soon"
# The key of ``ChannelAnswer.details`` under which a notification about the whole *trade* states what the trade
# has had refunded in all (Alipay's trade notification after a refund: ``refund_fee``, 总退款金额). It cannot say
# this refund's amount (a second partial refund shows both), only that it is no more than that total.
TRADE_REFUNDED_FEN = "trade_refunded_fen"
# Set on a notification that says something happened without saying enough to settle the refund: the worker
# asks the channel at once instead of waiting for its next look.
QUERY_NOW = "query_now"


@dataclass(frozen=True, slots=True)
class ChannelAnswer:
    outcome: Outcome
    channel_refund_id: str = ""
    code: str = ""  # the channel's own code (e.g. "00", "SUCCESS", "ACQ.SYSTEM_ERROR")
    message: str = ""
    succeeded_at: datetime | None = None
    details: dict[str, str] = field(default_factory=dict)


class CallbackRejected(Exception):
    """A callback that is unsigned, tampered, stale or unreadable: answered 401, changes nothing."""


@dataclass(frozen=True, slots=True)
class CallbackNotice:
    """A verified, decrypted channel notification about one of our refund numbers."""

    refund_no: str
    answer: ChannelAnswer
    notice_id: str  # the channel's id for this notification, for de-duplication
