"""Money held, not taken: a card pre-authorisation (预授权) or an Alipay fund freeze (资金授权冻结).

A hold is not a sale and is never refunded. It ends one of three ways: it is **released** (预授权撤销 / 资金解冻),
**completed** for the final amount (预授权完成 / 冻结转支付, after which the completion is an ordinary sale whose
refund is an ordinary refund), or it **expires** (the scheme's validity period, about 30 days for UnionPay; the
freeze's own expiry for Alipay). A card completion may be cancelled the same day (预授权完成撤销), which puts the
hold back.

This module holds the vocabulary both channels share and the rules that decide whether an operation may be
asked at all; the channels' dialects live in their adapters (``ports.fund_holds``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class HoldStep(StrEnum):
    """One operation on held funds, as a channel executes it."""

    HOLD = "hold"  # 资金冻结 (Alipay, sent by posrefund with the payer's code); card holds come from the terminal
    RELEASE = "release"  # 预授权撤销 / 资金解冻 (of the remainder)
    COMPLETE = "complete"  # 预授权完成 (request 0200 or notification 0220) / 冻结转支付 (trade pay with auth_no)
    CANCEL_COMPLETION = "cancel_completion"  # 预授权完成撤销: card only, same batch, puts the hold back


# What UnionPay lets a completion exceed the authorised amount by, in 1/10,000 (115 % of the pre-authorisation is
# held on the cardholder's account). An acquirer may allow less; it is the hold's ``tolerance_bp``.
CARD_COMPLETION_TOLERANCE_BP = 1_500
# The scheme's validity period of a card pre-authorisation: past it the issuer releases the hold by itself and a
# completion is refused.
CARD_HOLD_VALIDITY = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class HeldFunds:
    """A hold as its channel knows it: the references every later operation must quote."""

    channel: str  # "card" | "alipay"
    hold_no: str  # our number for the hold (Alipay out_order_no; for a card hold from the terminal, its voucher)
    amount_fen: int  # authorised / frozen
    currency: str
    held_at: datetime
    expires_at: datetime
    channel_hold_id: str = ""  # Alipay auth_no; empty for cards
    tolerance_bp: int = 0  # how far a completion may exceed ``amount_fen`` (cards); 0 for Alipay
    # card references of the original 预授权 (the completion and the release quote them)
    auth_code: str = ""  # field 38
    rrn: str = ""  # field 37
    voucher_no: str = ""  # trace, field 11
    batch_no: str = ""
    terminal_no: str = ""
    merchant_no: str = ""
    card_masked: str = ""
    payer_ref: str = ""  # Alipay payer_user_id / logon id masked, for the people reading it


@dataclass(frozen=True, slots=True)
class CompletionRef:
    """The completion a 预授权完成撤销 undoes, as the channel answered it."""

    operation_no: str
    amount_fen: int
    rrn: str
    auth_code: str
    voucher_no: str
    batch_no: str
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class HoldOrder:
    """One operation as sent to a channel. ``operation_no`` is generated once and reused on every retry and query
    (Alipay out_request_no / out_trade_no; the card message's trace is derived by the adapter's journal)."""

    operation_no: str
    step: HoldStep
    amount_fen: int
    currency: str
    hold: HeldFunds
    completion: CompletionRef | None = None  # for CANCEL_COMPLETION
    payer_code: str = ""  # for HOLD: the payment code the customer showed (never stored)
    title: str = ""  # order title / remark shown to the payer


# Keys of ``ChannelAnswer.details`` a hold operation's answer may carry.
AUTH_NO = "auth_no"  # Alipay's id of the freeze
REST_FEN = "rest_fen"  # what is still held after the operation, as the channel counts it
TRADE_NO = "trade_no"  # the payment a completion became (Alipay trade_no; card RRN of the completion)


def completion_ceiling(hold: HeldFunds) -> int:
    """The most a completion may take: the authorised amount plus the allowed tolerance, rounded down."""
    return hold.amount_fen + hold.amount_fen * hold.tolerance_bp // 10_000
