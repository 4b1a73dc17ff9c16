"""A sale (消费) and what is still refundable of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    CARD = "card"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    UNIONPAY_QR = "unionpay_qr"
    CASH = "cash"
    CHEQUE = "cheque"
    TRANSFER = "transfer"  # a bank transfer (a provider's device charge): refunded by transfer, confirmed by hand


class SaleKind(StrEnum):
    SALE = "sale"
    DEPOSIT = "deposit"  # 定金 (earnest money)
    ADVANCE = "advance"  # 订金 (advance payment)
    SECURITY = "security"  # 押金 (security deposit)
    # A charge only the channel's settlement file showed (a customer charged twice, or more than the goods):
    # recorded from the file's line so its correction refund names the channel's own transaction reference.
    CHANNEL_CHARGE = "channel_charge"


# Money taken before the service: refunded by its terms (domain/deposits.py), not as a purchase.
DEPOSIT_KINDS = frozenset({SaleKind.DEPOSIT, SaleKind.ADVANCE, SaleKind.SECURITY})
# What people read for each kind: staff mix these words up, the answers must not.
KIND_LABELS: dict[SaleKind, tuple[str, str]] = {
    SaleKind.SALE: ("消费", "sale"),
    SaleKind.DEPOSIT: ("定金", "earnest money"),
    SaleKind.ADVANCE: ("订金", "advance payment"),
    SaleKind.SECURITY: ("押金", "security deposit"),
    SaleKind.CHANNEL_CHARGE: ("渠道单边扣款", "charge only the channel showed"),
}


class SettlementStatus(StrEnum):
    UNSETTLED = "unsettled"
    SETTLED = "settled"
    # the channel itself undid the sale the same day (a card 预授权完成 cancelled by 预授权完成撤销): nothing was taken,
    # nothing can be refunded, and it never settles
    VOIDED = "voided"


@dataclass(slots=True)
class Sale:
    """The captured amount is fixed; refunded + reserved may never exceed it."""

    id: str
    merchant_id: str
    store_id: str
    terminal_id: str
    channel: Channel
    kind: SaleKind
    amount_fen: int
    fee_fen: int
    currency: str
    paid_at: datetime
    settlement_status: SettlementStatus
    voucher_no: str
    rrn: str
    batch_no: str
    auth_code: str
    order_no: str
    payer_masked: str
    refunded_fen: int = 0
    reserved_fen: int = 0
    refund_count: int = 0
    sold_by: str = ""  # the staff member who rang it up; "" when a terminal's key recorded it
    channel_trade_no: str = ""  # WeChat transaction_id / Alipay trade_no / card RRN, when a refund must name it

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen - self.reserved_fen


SaleKey = str
SALE_KEY_SEPARATOR = "\x1f"  # the unit separator: in no identifier a sale may hold (they are printable)


def sale_key(terminal_id: str, batch_no: str, voucher_no: str, order_no: str) -> SaleKey | None:
    """What makes a row of an import the same sale as another of the same merchant, as the database's two unique
    keys of a sale say: its card keys (terminal, batch, voucher no.) when it has a voucher no., else a wallet
    sale's order no.; None for a row with neither (the checks refuse it). One text, so a batch's keys are a set
    of strings (a bulk reader builds them as a column: ``adapters/sales_table.sale_keys``)."""
    if voucher_no:
        return SALE_KEY_SEPARATOR.join(("card", terminal_id, batch_no, voucher_no))
    if order_no:
        return SALE_KEY_SEPARATOR.join(("wallet", order_no))
    return None
