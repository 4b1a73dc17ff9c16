"""Request bodies of the reconciliation and wrong-charge routes. Unknown fields are refused (422)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SourceName = Literal["card", "wechat", "alipay"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunIn(Strict):
    source: SourceName
    date_from: date
    date_to: date
    file_ids: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None, max_length=100)
    window_seconds: int = Field(default=600, ge=0, le=7 * 86_400)


class FeeRateIn(Strict):
    channel: Literal["card", "wechat", "alipay", "unionpay_qr"]
    rate_bp: int = Field(ge=0, le=1_000)
    large_rate_bp: int | None = Field(default=None, ge=0, le=1_000)
    large_from_fen: int | None = Field(default=None, gt=0, le=10**12)


class WithdrawIn(Strict):
    reason: str = Field(max_length=500, description="why the file is withdrawn (audited, shown on its runs)")


class RecoverIn(Strict):
    reason: str = Field(default="", max_length=500)


class WrongChargeIn(Strict):
    cause: str = Field(default="unknown", max_length=32)
    responsible: str = Field(default="unknown", max_length=32)
    analysis: str = Field(default="", max_length=1_000)
    evidence_ids: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=20)


class WrongChargeUpdateIn(Strict):
    cause: str | None = Field(default=None, max_length=32)
    responsible: str | None = Field(default=None, max_length=32)
    analysis: str | None = Field(default=None, max_length=1_000)
    evidence_ids: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None, max_length=20)
    contact_method: str | None = Field(default=None, max_length=16)
    contact_note: str | None = Field(default=None, max_length=1_000)


class CustomerIn(Strict):
    phone: str | None = Field(default=None, max_length=20)
    name: str | None = Field(default=None, max_length=50)


class CorrectionIn(Strict):
    amount_fen: int | None = Field(default=None, gt=0, le=10**12)
    note: str = Field(default="", max_length=300)
    customer: CustomerIn | None = None
    by_channel_reference: bool | None = Field(
        default=None,
        description="refund the channel line's own transaction (WeChat transaction_id, Alipay trade_no, card RRN) "
        "instead of our sale; default: only when the finding has no sale of ours",
    )
    terminal_id: str | None = Field(default=None, max_length=40, description="where a channel-only charge is booked")
