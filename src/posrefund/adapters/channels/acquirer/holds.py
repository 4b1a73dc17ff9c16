"""Card pre-authorisations (预授权) through the same POS terminal: ``FundHoldChannel`` for cards (docs/holds.md).

The hold itself is made at the terminal when the card is presented (0100, 3 = 030000, 60.1 = 10); posrefund then
releases it (预授权撤销 0100, 60.1 = 11), completes it (预授权完成: request 0200, 60.1 = 20, or, when the acquirer
settings say ``completion_by_notice``, notification 0220, 60.1 = 24) or cancels a completion of the open batch
(预授权完成撤销 0200, 60.1 = 21). Each goes through the terminal's journal exactly as a void or refund does: written
down before it leaves, keyed by the operation_no; a request without a valid answer is reversed (0400) and, once
the reversal is acknowledged, ``query`` says NOT_FOUND so the same operation_no is sent again as a new message; a
notification is resent with its own trace. Nothing here is ever executed twice.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Final

from posrefund.adapters.channels.acquirer import mapping, messages
from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.domain.channel import REFUNDED_FEN, ChannelAnswer, Outcome
from posrefund.domain.fund_hold import REST_FEN, TRADE_NO, CompletionRef, HeldFunds, HoldOrder, HoldStep

PREAUTH: Final = "preauth"
RELEASE: Final = "release"
COMPLETE: Final = "complete"
NOTICE: Final = "notice"
COMPLETION_VOID: Final = "compvoid"


class CardHoldChannel:
    """``FundHoldChannel`` for bank cards, as the terminal of ``card`` (sharing its keys, link and journal).

    ``ChannelAnswer.details`` are the card adapter's (``method`` = the journal kind, ``terminal_no``,
    ``batch_no``, ``stan``, ``sends``, ``reversal_tries``), plus, when approved, ``auth_code``, ``trade_no`` (the
    RRN of the message: for a completion, the sale it became), ``rest_fen`` (what is still held) and ``by_notice``
    for a completion."""

    name = "card"

    def __init__(self, card: CardAcquirerChannel, *, completion_by_notice: bool = False) -> None:
        self.card = card
        self.completion_by_notice = completion_by_notice

    @property
    def longest_call_seconds(self) -> float:
        """As the terminal's: one message, its resends, its reversals."""
        return self.card.longest_call_seconds

    def __repr__(self) -> str:
        return f"CardHoldChannel({self.card!r}, by_notice={self.completion_by_notice})"

    def execute(self, order: HoldOrder) -> ChannelAnswer:
        problem = _invalid(order)
        if problem:
            return ChannelAnswer(Outcome.DECLINED, code="invalid_request", message=problem)
        kind = self._kind(order.step)
        return _hold_answer(order, self.card.send(order.operation_no, kind, order.amount_fen, self._build(order)))

    def _build(self, order: HoldOrder) -> messages.Builder:
        terminal, amount = self.card.terminal, order.amount_fen
        if order.step is HoldStep.CANCEL_COMPLETION and order.completion is not None:
            return partial(
                messages.completion_void, terminal, amount_fen=amount, completed=_completed(order.completion)
            )
        held = _held(order.hold)
        if order.step is HoldStep.COMPLETE:
            notice = self.completion_by_notice
            return partial(messages.completion, terminal, amount_fen=amount, original=held, notice=notice)
        return partial(messages.preauth_release, terminal, amount_fen=amount, original=held)

    def query(self, order: HoldOrder) -> ChannelAnswer:
        if order.step not in (HoldStep.RELEASE, HoldStep.COMPLETE, HoldStep.CANCEL_COMPLETION):
            return mapping.nothing_done(None, f"a card terminal never sends {order.step}")
        return _hold_answer(order, self.card.recall(order.operation_no, self._kind(order.step)))

    def authorise(self, hold_no: str, amount_fen: int) -> ChannelAnswer:
        """预授权 (0100, 3 = 030000) for ``amount_fen``, as the terminal sends it when the card is presented: the
        demo and the tests play the terminal with it. Approved: ``channel_refund_id`` is the hold's RRN and
        ``details`` carry its ``auth_code``, ``batch_no`` and ``stan`` (the voucher)."""
        terminal = self.card.terminal
        return self.card.send(
            hold_no, PREAUTH, amount_fen, partial(messages.preauthorisation, terminal, amount_fen=amount_fen)
        )

    def _kind(self, step: HoldStep) -> str:
        if step is HoldStep.COMPLETE:
            return NOTICE if self.completion_by_notice else COMPLETE
        return COMPLETION_VOID if step is HoldStep.CANCEL_COMPLETION else RELEASE


def _hold_answer(order: HoldOrder, answer: ChannelAnswer) -> ChannelAnswer:
    """The card adapter's answer in the hold's words: no refunded amount; what it took and what is still held."""
    details = {k: v for k, v in answer.details.items() if k != REFUNDED_FEN}
    if answer.outcome is Outcome.SUCCEEDED:
        rest = order.hold.amount_fen if order.step is HoldStep.CANCEL_COMPLETION else 0
        details |= {TRADE_NO: answer.channel_refund_id, REST_FEN: str(rest)}
        if order.step is HoldStep.COMPLETE:
            details["by_notice"] = "true" if details.get("method") == NOTICE else "false"
    return replace(answer, details=details)


def _held(hold: HeldFunds) -> messages.Original:
    return messages.quoting(hold.rrn, hold.auth_code, hold.batch_no, hold.voucher_no, hold.held_at)


def _completed(done: CompletionRef) -> messages.Original:
    return messages.quoting(done.rrn, done.auth_code, done.batch_no, done.voucher_no, done.completed_at)


def _references(rrn: str, auth_code: str, voucher_no: str, batch_no: str, whose: str) -> list[tuple[bool, str]]:
    return [
        (len(rrn) == 12 and rrn.isascii(), f"the {whose}'s RRN must be 12 characters"),
        (len(auth_code) <= 6 and auth_code.isascii(), f"the {whose}'s auth code must be ≤6 characters"),
        (voucher_no.isdigit() and len(voucher_no) <= 6, f"the {whose}'s voucher (trace) no. is ≤6 digits"),
        (batch_no.isdigit() and len(batch_no) <= 6, f"the {whose}'s batch no. is ≤6 digits"),
    ]


def _invalid(order: HoldOrder) -> str:
    hold, done = order.hold, order.completion
    checks = [
        (
            order.step in (HoldStep.RELEASE, HoldStep.COMPLETE, HoldStep.CANCEL_COMPLETION),
            "a card hold is made at the terminal: only release, complete and cancel_completion are sent",
        ),
        (hold.channel == "card", "not a card hold"),
        (order.currency == "CNY" == hold.currency, "only CNY card holds are supported"),
        (0 < order.amount_fen < 10**12, "amount must be 1 to 999999999999 fen"),
        (0 < len(order.operation_no) <= 64 and order.operation_no.isascii(), "operation_no is 1–64 ASCII"),
        (hold.held_at.tzinfo is not None, "the hold's held_at must be timezone-aware"),
        *_references(hold.rrn, hold.auth_code, hold.voucher_no, hold.batch_no, "pre-authorisation"),
    ]
    if order.step is HoldStep.CANCEL_COMPLETION:
        if done is None:
            return "a completion cancel quotes the completion"
        checks += [(done.completed_at.tzinfo is not None, "the completion's time must be timezone-aware")]
        checks += _references(done.rrn, done.auth_code, done.voucher_no, done.batch_no, "completion")
    return next((why for ok, why in checks if not ok), "")
