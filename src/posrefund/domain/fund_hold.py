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

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Final

from posrefund.domain.errors import Conflict, IllegalTransition, Invalid


class HoldStep(StrEnum):
    """One operation on held funds, as a channel executes it."""

    HOLD = "hold"  # 资金冻结 (Alipay, sent by posrefund with the payer's code); card holds come from the terminal
    RELEASE = "release"  # 预授权撤销 / 资金解冻 (of the remainder)
    COMPLETE = "complete"  # 预授权完成 (request 0200 or notification 0220) / 冻结转支付 (trade pay with auth_no)
    # (an Alipay conversion, NOT_COMPLETE, may take part: the rest stays frozen)
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
    by_notice: bool = False  # sent as 预授权完成通知 (0220): a notification cannot be cancelled, only refunded


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


# ---- the hold's life -------------------------------------------------------------------------------------------

SHANGHAI: Final = timezone(timedelta(hours=8), "Asia/Shanghai")  # the acquirer's batch day is Beijing time


class HoldState(StrEnum):
    """Where a hold stands. An Alipay freeze starts HOLDING (asked, not yet answered) → HELD | FAILED (Alipay
    refused it) | CANCELLED (its outcome stayed unknown and it was withdrawn); a card hold starts HELD (the
    terminal made it). HELD → COMPLETED | RELEASED | EXPIRED; an Alipay conversion of part leaves it HELD for the
    rest; a card completion cancelled the same batch day puts it back to HELD. RELEASED, EXPIRED, FAILED and
    CANCELLED are final; COMPLETED is final once its batch day is over."""

    HOLDING = "holding"
    FAILED = "failed"
    CANCELLED = "cancelled"
    HELD = "held"
    COMPLETED = "completed"
    RELEASED = "released"
    EXPIRED = "expired"


HOLD_TRANSITIONS: Final[dict[HoldState, frozenset[HoldState]]] = {
    HoldState.HOLDING: frozenset({HoldState.HELD, HoldState.FAILED, HoldState.CANCELLED}),
    HoldState.FAILED: frozenset(),
    HoldState.CANCELLED: frozenset(),
    HoldState.HELD: frozenset({HoldState.HELD, HoldState.COMPLETED, HoldState.RELEASED, HoldState.EXPIRED}),
    HoldState.COMPLETED: frozenset({HoldState.HELD}),
    HoldState.RELEASED: frozenset(),
    HoldState.EXPIRED: frozenset(),
}
STEP_TARGET: Final = {
    HoldStep.HOLD: HoldState.HELD,
    HoldStep.COMPLETE: HoldState.COMPLETED,
    HoldStep.RELEASE: HoldState.RELEASED,
    HoldStep.CANCEL_COMPLETION: HoldState.HELD,
}


@dataclass(frozen=True, slots=True)
class HoldStatus:
    """What has become of a hold: its state, what the completion took and the completion itself (the sale a
    refund later quotes, and what a 预授权完成撤销 undoes)."""

    state: HoldState = HoldState.HELD
    taken_fen: int = 0
    completion: CompletionRef | None = None


def held_fen(hold: HeldFunds, status: HoldStatus) -> int:
    """What is still held on the payer's account. A card completion takes its amount and the issuer releases the
    rest at once: nothing stays held after it, whatever the amount taken. An Alipay conversion (NOT_COMPLETE)
    leaves the rest frozen until it is released or the freeze expires."""
    if status.state is not HoldState.HELD:
        return 0
    return hold.amount_fen - status.taken_fen if hold.channel == "alipay" else hold.amount_fen


def completion_limit(hold: HeldFunds, status: HoldStatus) -> int:
    """The most the next completion may take: the card's ceiling, or what an Alipay freeze still holds."""
    return completion_ceiling(hold) - status.taken_fen


def is_expired(hold: HeldFunds, now: datetime) -> bool:
    """Past the validity period the issuer releases the hold by itself and refuses a completion."""
    return now >= hold.expires_at


def expires_within(hold: HeldFunds, status: HoldStatus, now: datetime, warning: timedelta) -> bool:
    """A hold still held whose validity ends within ``warning``: someone should complete or release it now."""
    return status.state is HoldState.HELD and not is_expired(hold, now) and hold.expires_at - now <= warning


def check_operation(
    hold: HeldFunds,
    status: HoldStatus,
    step: HoldStep,
    amount_fen: int,
    now: datetime,
    *,
    open_batch_no: str = "",
) -> None:
    """Refuse an operation the scheme would refuse or that would contradict what already happened; nothing is
    sent then. ``open_batch_no`` is the terminal's open batch (a completion cancel must be in it)."""
    if step is HoldStep.HOLD:
        raise Invalid("hold.step_not_asked", step=step.value)
    if amount_fen <= 0:
        raise Invalid("hold.invalid_amount", amount_fen=amount_fen)
    if step is HoldStep.COMPLETE:
        _check_complete(hold, status, amount_fen, now)
    elif step is HoldStep.RELEASE:
        _check_release(hold, status, now)
    else:
        _check_cancel_completion(hold, status, amount_fen, now, open_batch_no)


def _check_complete(hold: HeldFunds, status: HoldStatus, amount_fen: int, now: datetime) -> None:
    _check_held(status, HoldState.COMPLETED)
    if is_expired(hold, now):
        raise Conflict("hold.expired")
    ceiling = completion_limit(hold, status)
    if amount_fen > ceiling:
        raise Invalid("hold.above_ceiling", amount_fen=amount_fen, limit_fen=ceiling)


def _check_release(hold: HeldFunds, status: HoldStatus, now: datetime) -> None:
    if status.state is HoldState.COMPLETED:
        raise Conflict("hold.already_completed")
    _check_held(status, HoldState.RELEASED)
    if is_expired(hold, now) and hold.channel != "alipay":  # an Alipay freeze stays until it is released
        raise Conflict("hold.expired")


def _check_cancel_completion(
    hold: HeldFunds, status: HoldStatus, amount_fen: int, now: datetime, open_batch_no: str
) -> None:
    if hold.channel != "card":
        raise Invalid("hold.step_not_asked", step=HoldStep.CANCEL_COMPLETION.value)
    completion = status.completion
    if status.state is not HoldState.COMPLETED or completion is None:
        raise IllegalTransition("hold.not_completed", status.state.value, HoldState.HELD.value)
    if completion.by_notice:
        raise Conflict("hold.completion_by_notice")
    same_day = completion.completed_at.astimezone(SHANGHAI).date() == now.astimezone(SHANGHAI).date()
    if not same_day or (open_batch_no and completion.batch_no != open_batch_no):
        raise Conflict("hold.completion_other_day", completed_at=completion.completed_at)
    if amount_fen != completion.amount_fen:
        raise Invalid("hold.cancel_amount", amount_fen=amount_fen, limit_fen=completion.amount_fen)


def _check_held(status: HoldStatus, target: HoldState) -> None:
    if status.state is HoldState.EXPIRED:
        raise Conflict("hold.expired")
    if status.state is not HoldState.HELD:
        raise IllegalTransition("hold.not_held", status.state.value, target.value)


def after_operation(
    status: HoldStatus,
    step: HoldStep,
    amount_fen: int,
    completion: CompletionRef | None = None,
    *,
    partial: bool = False,
    limit: int = 0,
) -> HoldStatus:
    """The hold once the channel executed ``step``: a freeze makes it held; a completion records what it took
    and the completion (the ordinary sale its refund quotes) — with ``partial`` (Alipay) the hold stays held
    until ``limit`` (its amount) is taken; a completion cancel gives the whole hold back; a release ends it."""
    target = STEP_TARGET[step]
    if target not in HOLD_TRANSITIONS[status.state] or (step is HoldStep.HOLD) != (status.state is HoldState.HOLDING):
        raise IllegalTransition("hold.invalid_transition", status.state.value, target.value)
    if step is HoldStep.HOLD:
        return HoldStatus(HoldState.HELD)
    if step is HoldStep.COMPLETE and partial:
        taken = status.taken_fen + amount_fen
        return HoldStatus(HoldState.HELD if taken < limit else HoldState.COMPLETED, taken, completion)
    if step is HoldStep.COMPLETE:
        return HoldStatus(HoldState.COMPLETED, amount_fen, completion)
    if step is HoldStep.CANCEL_COMPLETION:
        return HoldStatus(HoldState.HELD)
    return replace(status, state=HoldState.RELEASED)


def after_freeze_failed(status: HoldStatus, *, withdrawn: bool) -> HoldStatus:
    """A freeze that never held: refused by the channel (FAILED) or withdrawn because its outcome stayed unknown
    (CANCELLED; whatever had been frozen went back to the payer)."""
    target = HoldState.CANCELLED if withdrawn else HoldState.FAILED
    if target not in HOLD_TRANSITIONS[status.state]:
        raise IllegalTransition("hold.invalid_transition", status.state.value, target.value)
    return replace(status, state=target)


def after_expiry(hold: HeldFunds, status: HoldStatus, now: datetime) -> HoldStatus:
    """A card hold still held past its validity is expired: the issuer released it, nothing can be taken any
    more. An Alipay freeze is not released by itself: it stays held (its completion refused) until released."""
    if status.state is HoldState.HELD and is_expired(hold, now) and hold.channel != "alipay":
        return replace(status, state=HoldState.EXPIRED)
    return status
