"""What the wallet adapters share: the reason text the payer sees, the clock they default to, and how their
sections of the channels file read the call timeout."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from posrefund.config import ConfigError
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


def timeout_of(section: dict[str, Any], channel: str, default: float = 10) -> float:
    """``timeout`` in seconds, in (0, 120], read alike for every wallet; anything else stops start-up with one
    line naming the section (``ConfigError``), never a channel that waits for ever."""
    raw = section.get("timeout", default)
    try:
        timeout = float(raw)
    except (TypeError, ValueError):
        timeout = math.nan
    if not 0 < timeout <= 120:
        raise ConfigError(f"[{channel}] timeout must be a number of seconds in (0, 120], not {raw!r}")
    return timeout
