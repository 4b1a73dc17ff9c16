"""Messages of a sale's item lines and of refunds of some of their units."""

from __future__ import annotations

MESSAGES_ITEMS: dict[str, tuple[str, str]] = {
    "sale.items_too_many": ("商品明细最多 {max} 行", "A sale lists at most {max} item lines"),
    "sale.item_invalid": ("第 {line} 行商品明细不合法：{field}", "Item line {line} is invalid: {field}"),
    "sale.items_sum_mismatch": (
        "商品明细合计 {items_fen}与消费金额 {amount_fen}不符",
        "The item lines add up to {items_fen}, not the sale's {amount_fen}",
    ),
    "refund.items_empty": ("请至少选择一件要退的商品", "Choose at least one item to refund"),
    "refund.item_unknown_line": ("该消费没有第 {line} 行商品", "The sale has no item line {line}"),
    "refund.item_duplicate_line": ("第 {line} 行商品重复填写", "Item line {line} is named twice"),
    "refund.item_quantity_invalid": (
        "第 {line} 行的退货数量必须是正整数",
        "The quantity for line {line} must be a whole number above zero",
    ),
    "refund.item_over_quantity": (
        "第 {line} 行“{name}”最多还可退 {refundable_qty} 件，申请了 {quantity} 件",
        "Line {line} ({name}): at most {refundable_qty} left to refund, {quantity} asked",
    ),
    "refund.item_amount_mismatch": (
        "退款金额 {amount_fen}与所选商品金额 {items_fen}不符",
        "The amount {amount_fen} differs from the chosen items' {items_fen}",
    ),
    "refund.items_changed": (
        "该消费的商品刚被另一笔退款占用，请刷新后重试",
        "Another refund just took items of this sale; reload and try again",
    ),
}
