"""Bodies and answers of the fee routes. Bodies refuse unknown fields; rates, caps and channels are checked by the
domain (domain/fees.py) so each refusal has its own code (``fees.invalid_rate``, ``fees.cap_below_minimum``…)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from posrefund.entrypoints.api.responses import Out

# Wide enough that a negative or oversized value reaches the domain's own check (and its own code), narrow enough
# for a BIGINT column and date arithmetic.
Fen = Annotated[int, Field(ge=-(10**12), le=10**12)]
Rate = Annotated[int, Field(ge=-(10**9), le=10**9)]
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleIn(Strict):
    channel: str = Field(max_length=16, description="card / wechat / alipay / unionpay_qr")
    card_type: str = Field(default="any", max_length=8, description="debit / credit / foreign / wallet / any")
    rate_ppm: Rate = Field(description="parts per million of the amount: 0.6 % = 6000, 0.38 % = 3800")
    band_from_fen: Fen = Field(default=0, description="the rule applies from this amount up (QR size bands)")
    cap_fen: Fen | None = Field(default=None, description="per-transaction cap (封顶), fen")
    min_fen: Fen = Field(default=0, description="per-transaction minimum, fen")
    returned_on_refund: bool = True


class PeriodIn(Strict):
    effective_from: Day
    effective_to: Day | None = None
    consented_on: Day | None = Field(default=None, description="the day the merchant agreed to this period")
    consent_ref: str = Field(default="", max_length=64, description="the signed notice or contract no.")
    rules: list[RuleIn] = Field(max_length=200)


class ConsentIn(Strict):
    consented_on: Day
    reference: str = Field(min_length=1, max_length=64)


class CheckIn(Strict):
    date_from: Day
    date_to: Day


class PayoutRejectIn(Strict):
    reason: str = Field(max_length=400)


class PayIn(Strict):
    transfer_ref: str = Field(max_length=64, description="the bank transfer's serial no. (转账流水号)")


class TermsIn(Strict):
    kind: str = Field(max_length=16, description="volume / device_return / none")
    volume_fen: Fen = 0
    within_days: int = Field(default=0, ge=0, le=3_650)
    channels: list[Annotated[str, Field(max_length=16)]] = Field(default=["card"], max_length=4)


class ChargeIn(Strict):
    kind: str = Field(max_length=16, description="activation / service / device")
    amount_fen: Fen
    charged_on: Day
    activated_on: Day | None = Field(default=None, description="the volume window's first day (default: charged_on)")
    terms: TermsIn
    description: str = Field(default="", max_length=200)


class ChargeRefundIn(Strict):
    device_returned_on: Day | None = None


# ---- answers ---------------------------------------------------------------------------------------------------
class RuleOut(Out):
    channel: str
    card_type: str
    rate_ppm: int
    rate_text: str = Field(description="the rate as a percentage, e.g. 0.60%")
    band_from_fen: int
    cap_fen: int | None
    min_fen: int
    returned_on_refund: bool
    description: str


class PeriodOut(Out):
    id: str
    effective_from: str
    effective_to: str | None
    ends_on: str | None = Field(description="the last day in force: its own end or the day before the next starts")
    consented_on: str | None
    consent_ref: str
    rules: list[RuleOut]


class PeriodList(Out):
    items: list[PeriodOut]


class StatementLineOut(Out):
    line_id: int
    line_no: int
    date: str
    kind: str
    amount_fen: int
    charged_fen: int
    due_fen: int
    difference_fen: int
    rule: str


class PayoutOut(Out):
    id: str
    kind: str = Field(description="overcharge (fees above the contract) / charge (a one-off charge given back)")
    status: str = Field(description="open / approved / paid / rejected / refused")
    amount_fen: int
    explanation: str
    charge_id: str | None
    period_from: str | None
    period_to: str | None
    opened_by: str
    opened_at: str
    approved_by: str | None
    paid_by: str | None
    transfer_ref: str | None
    reason: str | None


class PayoutWithStatement(Out):
    case: PayoutOut
    statement: list[StatementLineOut]


class CheckOut(Out):
    case: PayoutOut | None = Field(description="null: every fee of the period is as the contract says")
    statement: list[StatementLineOut]


class PayoutList(Out):
    items: list[PayoutOut]


class TermsOut(Out):
    kind: str
    volume_fen: int
    within_days: int
    channels: list[str]


class ChargeOut(Out):
    id: str
    kind: str
    amount_fen: int
    charged_on: str
    activated_on: str
    terms: TermsOut
    description: str


class ChargeList(Out):
    items: list[ChargeOut]


class DecisionOut(Out):
    refundable: bool
    amount_fen: int
    code: str
    explanation: str = Field(description="the computation, in Chinese")
    volume_fen: int
    window_end: str | None
    case: PayoutOut
