"""Fund holds (card 预授权, Alipay 资金授权冻结): recording a hold (an Alipay freeze asked at the counter),
asking for its release, completion or completion cancel, the worker executing each exactly once, and expiry
(docs/holds.md)."""

from __future__ import annotations

from posrefund.service.fund_holds.asking import ask
from posrefund.service.fund_holds.attention import HoldAttention, holds_needing_attention, retry
from posrefund.service.fund_holds.execution import HoldWorker, advance_operation, call_claimed, sweep_holds
from posrefund.service.fund_holds.freezing import AlipayHoldInput, ask_freeze, finish_freeze, record_alipay_hold
from posrefund.service.fund_holds.recording import (
    CardHoldInput,
    expire_holds,
    expiring_holds,
    get_hold,
    list_holds,
    record_card_hold,
)

__all__ = [
    "AlipayHoldInput",
    "CardHoldInput",
    "HoldAttention",
    "HoldWorker",
    "advance_operation",
    "ask",
    "ask_freeze",
    "call_claimed",
    "expire_holds",
    "expiring_holds",
    "finish_freeze",
    "get_hold",
    "holds_needing_attention",
    "list_holds",
    "record_alipay_hold",
    "record_card_hold",
    "retry",
    "sweep_holds",
]
