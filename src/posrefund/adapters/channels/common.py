"""What the wallet adapters share: the reason text the payer sees, and the clock they default to."""

from __future__ import annotations

from datetime import UTC, datetime

from posrefund.domain.policy import Reason

# Shown in the payer's refund message (WeChat Pay) or the refund record (Alipay).
REASON_TEXT: dict[str, str] = {
    Reason.GOODS_QUALITY: "商品质量问题",
    Reason.SERVICE_ISSUE: "服务问题",
    Reason.CUSTOMER_CANCELLED: "顾客取消",
    Reason.DEPOSIT_RETURN: "定金退还",
    Reason.TRANSACTION_ERROR: "交易差错",
    Reason.WRONG_AMOUNT: "金额有误",
    Reason.DUPLICATE_CHARGE: "重复扣款",
    Reason.SYSTEM_FAULT: "系统故障",
    Reason.OTHER: "其他",
}


def utc_now() -> datetime:
    return datetime.now(UTC)
