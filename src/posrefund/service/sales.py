"""Recording sales (消费) and finding the original sale the way a cashier does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from posrefund.domain.errors import DomainError, Invalid, NotFound
from posrefund.domain.identifiers import AUTH_CODE, BATCH_NO, ORDER_NO, RRN, VOUCHER_NO
from posrefund.domain.money import SUPPORTED_CURRENCIES
from posrefund.domain.pii import refuse_card_data, validate_payer_masked
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Channel, Sale, SaleKind, SettlementStatus
from posrefund.domain.sale_items import ItemRefund, SaleLine, check_lines
from posrefund.ports import FieldRules, SaleQuery
from posrefund.service import refund_items
from posrefund.service.deps import Deps
from posrefund.service.records import record
from posrefund.service.refunds import get_case

MAX_AMOUNT_FEN = 100_000_000_00  # 1 亿元: beyond any POS sale
CLOCK_SKEW = timedelta(minutes=10)
# What each identifier of a sale may hold: ASCII only, as the channels take them.
_IDENTIFIERS = {
    "voucher_no": VOUCHER_NO,
    "batch_no": BATCH_NO,
    "rrn": RRN,
    "auth_code": AUTH_CODE,
    "order_no": ORDER_NO,
}


@dataclass(frozen=True)
class SaleInput:
    terminal_id: str
    voucher_no: str
    rrn: str
    batch_no: str
    auth_code: str
    order_no: str
    channel: str
    kind: str
    amount_fen: int
    fee_fen: int
    currency: str
    paid_at: datetime
    payer_masked: str
    settlement_status: str = SettlementStatus.UNSETTLED.value
    items: tuple[SaleLine, ...] = ()  # what was bought, line by line, when the till says


# Wallet payments have no voucher, batch or RRN: such a sale is its order no. (the channel's out_trade_no).
WALLET_CHANNELS = (Channel.WECHAT.value, Channel.ALIPAY.value)
_CARD_KEYS = ("voucher_no", "batch_no", "rrn")
# Compiled once: an import checks every field of hundreds of thousands of rows.
_PATTERNS = {name: re.compile(pattern) for name, pattern in _IDENTIFIERS.items()}
_CHANNELS = frozenset(c.value for c in Channel)
_KINDS = frozenset(k.value for k in SaleKind)
_SETTLEMENT_STATUSES = frozenset(s.value for s in SettlementStatus) - {SettlementStatus.VOIDED.value}  # channel's word
# The same values for a reader that judges a whole column at once (an import's rows in bulk): what it clears
# must be what ``check_fields`` clears; anything else it leaves to ``check_fields``.
FIELD_RULES = FieldRules(
    patterns=_IDENTIFIERS,
    wallet_channels=WALLET_CHANNELS,
    card_keys=_CARD_KEYS,
    channels=_CHANNELS,
    kinds=_KINDS,
    settlement_statuses=_SETTLEMENT_STATUSES,
    currencies=SUPPORTED_CURRENCIES,
    max_amount_fen=MAX_AMOUNT_FEN,
    clock_skew_seconds=int(CLOCK_SKEW.total_seconds()),
)


def check_fields(inp: SaleInput, now: datetime) -> None:
    """Everything a sale must hold before it is recorded, whatever door it came through (API, CLI, import)."""
    wallet_keys = inp.channel in WALLET_CHANNELS and not inp.voucher_no
    for name, pattern in _PATTERNS.items():
        value = getattr(inp, name)
        if not (wallet_keys and name in _CARD_KEYS and value == "") and pattern.fullmatch(value) is None:
            raise Invalid("sale.invalid_field", field=name)
    if wallet_keys and not inp.order_no:
        raise Invalid("sale.invalid_field", field="order_no")
    refuse_card_data(inp.order_no, "order_no")
    if inp.channel not in _CHANNELS:
        raise Invalid("sale.invalid_field", field="channel")
    if inp.kind not in _KINDS:
        raise Invalid("sale.invalid_field", field="kind")
    if inp.settlement_status not in _SETTLEMENT_STATUSES:
        raise Invalid("sale.invalid_field", field="settlement_status")
    if not 0 < inp.amount_fen <= MAX_AMOUNT_FEN:
        raise Invalid("sale.invalid_amount", field="amount_fen")
    if not 0 <= inp.fee_fen <= inp.amount_fen:
        raise Invalid("sale.invalid_amount", field="fee_fen")
    if inp.currency not in SUPPORTED_CURRENCIES:
        raise Invalid("money.unsupported_currency", currency=inp.currency)
    if inp.paid_at.tzinfo is None:
        raise Invalid("sale.naive_time", field="paid_at")
    if inp.paid_at > now + CLOCK_SKEW:
        raise Invalid("sale.paid_in_future", field="paid_at")
    validate_payer_masked(inp.payer_masked)
    check_lines(inp.items, inp.amount_fen)


def build_sale(actor: Actor, inp: SaleInput, store_id: str, sale_id: str) -> Sale:
    return Sale(
        id=sale_id,
        merchant_id=actor.merchant_id or "",
        store_id=store_id,
        terminal_id=inp.terminal_id,
        channel=Channel(inp.channel),
        kind=SaleKind(inp.kind),
        amount_fen=inp.amount_fen,
        fee_fen=inp.fee_fen,
        currency=inp.currency,
        paid_at=inp.paid_at,
        settlement_status=SettlementStatus(inp.settlement_status),
        voucher_no=inp.voucher_no,
        rrn=inp.rrn,
        batch_no=inp.batch_no,
        auth_code=inp.auth_code,
        order_no=inp.order_no,
        payer_masked=inp.payer_masked,
        sold_by=actor.id if actor.terminal_id is None else "",
    )


def _terminal_store(uow: Any, actor: Actor, terminal_id: str) -> str:
    if actor.terminal_id is not None and actor.terminal_id != terminal_id:
        raise NotFound("terminal.not_found")
    terminal = uow.merchants.get_terminal(actor.merchant_id or "", terminal_id)
    if terminal is None:
        raise NotFound("terminal.not_found")
    return str(terminal["store_id"])


def record_sale(deps: Deps, actor: Actor, inp: SaleInput, *, permission: str = "sale.create") -> Sale:
    """``permission`` names the action that allows it: a provider's device charge is recorded by its
    operations staff (``provider.terminal.manage``) without giving them the cashier's right."""
    actor.require(permission)
    now = deps.clock.now()
    check_fields(inp, now)
    with deps.uow() as uow:
        store_id = _terminal_store(uow, actor, inp.terminal_id)
        sale = build_sale(actor, inp, store_id, deps.ids.new_id("sal"))
        if not uow.sales.add_sale(sale, now):
            raise DuplicateSale(inp.terminal_id, inp.batch_no, inp.voucher_no)
        uow.sale_items.add_lines(sale.id, inp.items)
        record(uow, actor, actor.merchant_id, "sale.recorded", now, sale_id=sale.id, amount_fen=sale.amount_fen)
        uow.commit()
    return sale


class DuplicateSale(DomainError):
    """Same terminal, batch and voucher number as a recorded sale."""

    def __init__(self, terminal_id: str, batch_no: str, voucher_no: str) -> None:
        super().__init__("sale.duplicate", terminal_id=terminal_id, batch_no=batch_no, voucher_no=voucher_no)


def get_sale(deps: Deps, actor: Actor, sale_id: str) -> Sale:
    actor.require("sale.read")
    with deps.uow(readonly=True) as uow:
        sale = uow.sales.get_sale(actor.merchant_id or "", sale_id)
    if sale is None or (actor.terminal_id is not None and sale.terminal_id != actor.terminal_id):
        raise NotFound("sale.not_found")  # a terminal's key sees its own terminal's sales only
    return sale


def sale_lines(deps: Deps, actor: Actor, sale_id: str) -> tuple[Sale, list[SaleLine]]:
    """The sale with its item lines and, per line, the units refunded and held (none when the till sent none)."""
    sale = get_sale(deps, actor, sale_id)
    with deps.uow(readonly=True) as uow:
        return sale, uow.sale_items.lines(sale.id)


def case_items(deps: Deps, actor: Actor, case_id: str) -> tuple[RefundCase, list[ItemRefund], list[SaleLine]]:
    """The units a case covers, with the sale's lines they come from (a case of an amount only has none)."""
    view = get_case(deps, actor, case_id)
    with deps.uow(readonly=True) as uow:
        items = uow.sale_items.refund_items(view.case.id)
        lines = uow.sale_items.lines(view.case.sale_id) if items else []
    return view.case, items, lines


def quote_units(deps: Deps, actor: Actor, sale_id: str, items: tuple[tuple[int, int], ...]) -> int:
    """What refunding these units would refund now (the form's running total); the request computes it again."""
    actor.require("refund.request")
    sale = get_sale(deps, actor, sale_id)
    with deps.uow(readonly=True) as uow:
        amount, _units = refund_items.priced(uow, sale.id, items, 0)
    return amount


def find_sales(
    deps: Deps,
    actor: Actor,
    *,
    voucher_no: str | None = None,
    order_no: str | None = None,
    last4: str | None = None,
    amount_fen: int | None = None,
    on: date | None = None,
    limit: int = 50,
) -> list[Sale]:
    """By voucher no., by order no., or by card last 4 + amount (and the date, to narrow it) — as at the counter."""
    actor.require("sale.read")
    if not (voucher_no or order_no or (last4 and amount_fen is not None)):
        raise Invalid("sale.search_criteria")
    if last4 is not None and not (len(last4) == 4 and last4.isascii() and last4.isdigit()):
        raise Invalid("sale.invalid_field", field="last4")
    with deps.uow(readonly=True) as uow:
        return uow.sales.find_sales(
            actor.merchant_id or "",
            SaleQuery(
                voucher_no=voucher_no,
                order_no=order_no,
                last4=last4,
                amount_fen=amount_fen,
                local_date=on,
                limit=max(1, min(limit, 200)),
                terminal_id=actor.terminal_id,
            ),
        )
