"""Screen text of a shift's work: item-level refunds, the printable refund slip, the audit browser and the
administration pages added for them."""

from __future__ import annotations

EN_SHIFT: dict[str, str] = {
    "商品明细": "Items",
    "商品": "Item",
    "数量": "Qty",
    "单价": "Unit price",
    "实付": "Paid",
    "已退": "Refunded",
    "退款中": "Being refunded",
    "可退数量": "Refundable qty",
    "本次退货数量": "Qty to refund now",
    "所选商品应退": "The chosen items refund",
    "选择退货数量后，系统按实付金额计算应退金额。": (
        "Choose quantities: the amount is computed from what was paid for them."
    ),
    "退商品时请留空，金额由系统按所选数量计算；只退金额（如错收差额）时填写。": (
        "Leave empty when returning items: the amount is computed from the quantities chosen. Fill it in "
        "only to refund an amount (such as an overcharge)."
    ),
    "本单退货商品": "Items this refund covers",
    "退货数量": "Qty refunded",
    "打印退款单": "Print refund slip",
}
