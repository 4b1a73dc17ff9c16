"""What an Alipay freeze's success and a conversion (冻结转支付) do to the hold: the freeze brings Alipay's
``auth_no`` (every later operation quotes it); a conversion takes part of what is frozen and becomes an ordinary
Alipay sale (its ``trade_no``), so its refund is an ordinary Alipay refund. The rest stays frozen until it is
released or the freeze expires (auth_confirm_mode NOT_COMPLETE, docs/alipay-fund-auth.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from posrefund.domain.channel import ChannelAnswer
from posrefund.domain.fund_hold import AUTH_NO, TRADE_NO, CompletionRef, HoldStep, after_operation
from posrefund.domain.sale import Channel, Sale, SaleKind, SettlementStatus
from posrefund.ports import UnitOfWork
from posrefund.ports.fund_holds import HoldOperation, HoldRecord
from posrefund.service.deps import Deps


def _saved(uow: UnitOfWork, hold: HoldRecord, now: datetime) -> HoldRecord:
    if not uow.fund_holds.save_hold(hold, now):
        raise RuntimeError(f"hold {hold.id} changed while its operation was recorded")
    return hold


def frozen(uow: UnitOfWork, hold: HoldRecord, answer: ChannelAnswer, now: datetime) -> HoldRecord:
    """The freeze done: held from Alipay's time of the freeze, under its ``auth_no``."""
    held = replace(hold.held, channel_hold_id=answer.details.get(AUTH_NO, ""), held_at=answer.succeeded_at or now)
    status = after_operation(hold.status, HoldStep.HOLD, hold.held.amount_fen)
    return _saved(uow, replace(hold, held=held, status=status), now)


def converted(
    deps: Deps, uow: UnitOfWork, hold: HoldRecord, op: HoldOperation, answer: ChannelAnswer, now: datetime
) -> HoldRecord:
    """Part of the freeze paid: the payment recorded as an Alipay sale (out_trade_no = the operation's number,
    trade_no from the answer); the hold keeps the rest until all of it is taken."""
    paid_at = answer.succeeded_at or now
    done = CompletionRef(op.operation_no, op.amount_fen, "", "", "", "", paid_at)
    trade_no = answer.details.get(TRADE_NO, answer.channel_refund_id)
    sale_id = completion_sale(deps, uow, hold, done, Channel.ALIPAY, (op.operation_no, trade_no), now)
    status = after_operation(
        hold.status, HoldStep.COMPLETE, op.amount_fen, done, partial=True, limit=hold.held.amount_fen
    )
    return _saved(uow, replace(hold, status=status, sale_id=sale_id), now)


def completion_sale(
    deps: Deps,
    uow: UnitOfWork,
    hold: HoldRecord,
    done: CompletionRef,
    channel: Channel,
    refs: tuple[str, str],
    now: datetime,
) -> str:
    """The completion as an ordinary sale of the hold's terminal, refunded as any sale of its channel: a card's
    RRN, auth code, trace and batch (``done``); ``refs``: the order no. and the channel's trade no. (a card's hold
    number and RRN; an Alipay payment's out_trade_no and trade_no)."""
    order_no, trade_no = refs
    terminal = uow.merchants.get_terminal(hold.merchant_id, hold.terminal_id)
    sale = Sale(
        id=deps.ids.new_id("sal"),
        merchant_id=hold.merchant_id,
        store_id=str(terminal["store_id"]) if terminal else "",
        terminal_id=hold.terminal_id,
        channel=channel,
        kind=SaleKind.SALE,
        amount_fen=done.amount_fen,
        fee_fen=0,
        currency=hold.held.currency,
        paid_at=done.completed_at,
        settlement_status=SettlementStatus.UNSETTLED,
        voucher_no=done.voucher_no,
        rrn=done.rrn,
        batch_no=done.batch_no,
        auth_code=done.auth_code,
        order_no=order_no,
        payer_masked=hold.held.card_masked,
        channel_trade_no=trade_no,
    )
    uow.sales.add_sale(sale, now)
    return sale.id
