"""A charge only the channel's settlement file showed (渠道单边账: a customer charged twice, or more than the goods,
with no sale of ours behind it) made refundable along its own route.

The channel line is recorded as a sale of kind ``channel_charge`` carrying the channel's own references —
WeChat ``transaction_id`` / Alipay ``trade_no`` / a card's RRN (``channel_trade_no``), a card's voucher, batch
and time — so the correction refund goes through the normal flow (policy, review, worker, channel,
notification) and the channel adapter names the transaction by the channel's reference, not by an order of
ours. The money the channel took is then in our books too, and can never be refunded beyond the line's amount
(the sale's own limit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from posrefund.domain.errors import Conflict, Invalid
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Channel, Sale, SaleKind, SettlementStatus
from posrefund.domain.wrong_charge import WrongCharge
from posrefund.ports import TerminalRow, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.records import record


def _terminal(uow: UnitOfWork, wc: WrongCharge, line: dict[str, Any], terminal_id: str | None) -> TerminalRow:
    """The terminal the charge is booked to: the one named, the one the line prints, the one of the sale the
    finding is about, or the merchant's only terminal (``recon.terminal_required`` when none of these is known)."""
    terminals = uow.merchants.list_terminals(wc.merchant_id)
    by_id = {t["id"]: t for t in terminals}
    if terminal_id:
        if terminal_id not in by_id:
            raise Invalid("recon.terminal_required")
        return by_id[terminal_id]
    for t in terminals:
        if line["terminal_no"] and t["terminal_no"] == line["terminal_no"]:
            return t
    if wc.discrepancy.sale_id:
        sale = uow.sales.get_sale(wc.merchant_id, wc.discrepancy.sale_id)
        if sale is not None and sale.terminal_id in by_id:
            return by_id[sale.terminal_id]
    if len(terminals) == 1:
        return terminals[0]
    raise Invalid("recon.terminal_required")


def charge_line(uow: UnitOfWork, wc: WrongCharge) -> tuple[dict[str, Any], str]:
    """The finding's settlement line and its channel, when it is a charge (a sale line) a refund can name."""
    line_id = wc.discrepancy.line_id
    line = uow.settlement_files.line(wc.merchant_id, int(line_id)) if line_id else None
    if line is None:
        raise Invalid("recon.no_sale")
    row: dict[str, Any] = dict(line)
    if row["kind"] != "sale":
        raise Invalid("recon.not_a_charge", kind=row["kind"])
    run = uow.recon_runs.get_run(wc.merchant_id, wc.discrepancy.run_id)
    return row, str(run["source"]) if run else "card"


def record_channel_charge(deps: Deps, actor: Actor, wc: WrongCharge, terminal_id: str | None, now: datetime) -> Sale:
    """Book the finding's channel line as a ``channel_charge`` sale (audited on the case's trail)."""
    with deps.uow() as uow:
        line, source = charge_line(uow, wc)
        terminal = _terminal(uow, wc, line, terminal_id)
        wallet = source != "card"
        sale = Sale(
            id=deps.ids.new_id("sal"),
            merchant_id=wc.merchant_id,
            store_id=terminal["store_id"],
            terminal_id=terminal["id"],
            channel=Channel(source),
            kind=SaleKind.CHANNEL_CHARGE,
            amount_fen=int(line["amount_fen"]),
            fee_fen=max(0, int(line["fee_fen"])),
            currency=str(line["currency"]),
            paid_at=line["occurred_at"],
            settlement_status=SettlementStatus.SETTLED,
            voucher_no=f"L{line['id']}"[-12:] if wallet or not line["voucher_no"] else str(line["voucher_no"])[:12],
            rrn=str(line["rrn"])[:12],
            batch_no=str(line["batch_no"])[:6],
            auth_code="",
            order_no=str(line["merchant_order_no"]),
            payer_masked=str(line["payer_masked"])[:40],
            # The channel's own name for the transaction: the wallet's trade no., or the card's RRN.
            channel_trade_no=str(line["channel_trade_no"] if wallet else line["rrn"]),
        )
        if not sale.channel_trade_no:
            raise Invalid("recon.no_sale")
        if not uow.sales.add_sale(sale, now):
            raise Conflict("recon.charge_exists")
        record(
            uow,
            actor,
            wc.merchant_id,
            "wrong_charge.channel_charge_recorded",
            now,
            case_id=wc.id,
            sale_id=sale.id,
            line_id=line["id"],
            channel=source,
            channel_trade_no=sale.channel_trade_no,
            rrn=sale.rrn,
            amount_fen=sale.amount_fen,
        )
        uow.commit()
    return sale
