"""What a channel's answer states about the refund it concerns, checked against the refund as we sent it.

A correctly signed answer or notification may still be about something else: another refund number, another
amount, another order total, another sub-merchant. Such an answer is not this refund's outcome, whatever
status it carries: it goes to a person (ABNORMAL with a ``MISMATCH_…`` code), never to succeeded or closed.
Adapters opt in by stating the facts under these ``ChannelAnswer.details`` keys; a fact not stated is not
checked.
"""

from __future__ import annotations

from dataclasses import replace

from posrefund.domain.channel import REFUNDED_FEN, TRADE_REFUNDED_FEN, ChannelAnswer, Outcome, RefundOrder

STATED_REFUND_NO = "stated_refund_no"  # the refund number the answer is about
STATED_ORDER_NO = "stated_order_no"  # the sale's order number (out_trade_no)
STATED_TOTAL_FEN = "stated_total_fen"  # the sale's total, fen as text
STATED_SUB_MERCHANT = "stated_sub_merchant"  # a service provider's sub-merchant (WeChat sub_mchid)

# Outcomes that carry no statement about a refund, so there is nothing to contradict.
_SILENT = frozenset({Outcome.UNKNOWN, Outcome.NOT_FOUND, Outcome.NOT_SENT})

MISMATCH_CODES = {
    STATED_REFUND_NO: "MISMATCH_REFUND_NO",
    REFUNDED_FEN: "MISMATCH_REFUND_AMOUNT",
    STATED_TOTAL_FEN: "MISMATCH_TOTAL_AMOUNT",
    STATED_ORDER_NO: "MISMATCH_ORDER_NO",
    STATED_SUB_MERCHANT: "MISMATCH_SUB_MERCHANT",
}


def checked_against(answer: ChannelAnswer, order: RefundOrder) -> ChannelAnswer:
    """``answer`` unchanged when every fact it states is the order's; otherwise an ABNORMAL answer naming the
    first fact that differs (the channel's own status is kept in the message for the person)."""
    if answer.outcome in _SILENT:
        return answer
    expected = {
        STATED_REFUND_NO: order.refund_no,
        REFUNDED_FEN: str(order.amount_fen),
        STATED_TOTAL_FEN: str(order.sale.amount_fen),
        STATED_ORDER_NO: order.sale.order_no,
        STATED_SUB_MERCHANT: order.sale.merchant_no,
    }
    for key, want in expected.items():
        said = answer.details.get(key)
        if said is not None and said != want:
            return replace(
                answer,
                outcome=Outcome.ABNORMAL,
                code=MISMATCH_CODES[key],
                succeeded_at=None,
                message=f"channel said {answer.outcome.value} ({answer.code}) stating {key}={said!r}; ours is {want!r}",
            )
    return answer


def of_this_amount(answer: ChannelAnswer, amount_fen: int) -> ChannelAnswer:
    """What every answer goes through before the case applies it (the order's other facts are checked where the
    order is at hand, ``checked_against``): a success that states another refunded amount than the refund's (a
    signed notification of one fen for a 5,000-fen refund), or a trade that says it had less refunded in all
    than this refund alone, is not this refund's success — ABNORMAL, for a person, with the channel's code."""
    said, trade = answer.details.get(REFUNDED_FEN), answer.details.get(TRADE_REFUNDED_FEN)
    if answer.outcome is Outcome.SUCCEEDED and said is not None and said != str(amount_fen):
        message = f"channel reports {said} fen refunded; this refund is {amount_fen} fen"
    elif trade is not None and (not trade.isdigit() or int(trade) < amount_fen):
        message = f"channel reports {trade} fen refunded on the whole trade; this refund is {amount_fen} fen"
    else:
        return answer
    return replace(answer, outcome=Outcome.ABNORMAL, message=message)
