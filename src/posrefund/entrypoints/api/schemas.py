"""Request bodies. Unknown fields are refused (422), never silently taken."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from posrefund.domain.identifiers import (
    AUTH_CODE,
    BATCH_NO,
    MERCHANT_CODE,
    ORDER_NO,
    RRN,
    TERMINAL_NO,
    VOUCHER_NO,
    anchored,
)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


Fen = Annotated[StrictInt, Field(ge=0, le=10**13)]
Text = Annotated[str, Field(max_length=500)]


class TokenIn(Body):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class MerchantIn(Body):
    code: Annotated[str, Field(min_length=1, max_length=32, pattern=anchored(MERCHANT_CODE))]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    contact_phone: Annotated[str, Field(max_length=40)] = ""
    licence_no: Annotated[str, Field(max_length=18, description="统一社会信用代码 (18 characters, GB 32100)")] = ""
    settlement_bank: Annotated[str, Field(max_length=100)] = ""
    settlement_account_name: Annotated[str, Field(max_length=200)] = ""
    settlement_account_no: Annotated[
        str, Field(max_length=40, description="checked, then kept only as its last four and a keyed fingerprint")
    ] = ""


class SettlementAccountIn(Body):
    bank: Annotated[str, Field(min_length=1, max_length=100)]
    holder: Annotated[str, Field(min_length=1, max_length=200)]
    account_no: Annotated[str, Field(min_length=1, max_length=40)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ChannelAccountIn(Body):
    sub_mchid: Annotated[str, Field(min_length=1, max_length=32)]
    sub_appid: Annotated[str, Field(max_length=32)] = ""


class StoreIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: Annotated[str, Field(max_length=400)] = ""


class TerminalIn(Body):
    store_id: Annotated[str, Field(min_length=1, max_length=40)]
    terminal_no: Annotated[str, Field(min_length=1, max_length=16, pattern=anchored(TERMINAL_NO))]
    device_sn: Annotated[str, Field(min_length=1, max_length=64)]


class UserIn(Body):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    role: Annotated[str, Field(min_length=1, max_length=32)]
    display_name: Annotated[str, Field(max_length=100)] = ""
    merchant_id: Annotated[str | None, Field(max_length=40)] = None


class ApiKeyIn(Body):
    terminal_id: Annotated[str, Field(min_length=1, max_length=40)]


class SaleItemIn(Body):
    """One line of what was bought; ``amount_fen`` is what was paid for it (quantity × unit price unless
    discounted). The lines are numbered 1… in the order sent."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]
    unit_price_fen: Fen
    amount_fen: Fen | None = None


class RefundItemIn(Body):
    line: Annotated[StrictInt, Field(ge=1, le=200)]
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]


class SaleIn(Body):
    terminal_id: Annotated[str, Field(min_length=1, max_length=40)]
    voucher_no: Annotated[str, Field(min_length=1, max_length=12, pattern=anchored(VOUCHER_NO))]
    rrn: Annotated[str, Field(min_length=1, max_length=12, pattern=anchored(RRN))]
    batch_no: Annotated[str, Field(min_length=1, max_length=6, pattern=anchored(BATCH_NO))]
    auth_code: Annotated[str, Field(max_length=6, pattern=anchored(AUTH_CODE))] = ""
    order_no: Annotated[str, Field(max_length=64, pattern=anchored(ORDER_NO))] = ""
    channel: Annotated[str, Field(min_length=1, max_length=16)]
    kind: Annotated[str, Field(max_length=16)] = "sale"
    amount_fen: Fen
    fee_fen: Fen = 0
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "CNY"
    paid_at: AwareDatetime
    payer_masked: Annotated[str, Field(max_length=40)] = ""
    settlement_status: Annotated[str, Field(max_length=16)] = "unsettled"
    items: Annotated[list[SaleItemIn], Field(max_length=200)] = []


class CustomerIn(Body):
    phone: Annotated[str | None, Field(max_length=20)] = None
    name: Annotated[str | None, Field(max_length=50)] = None
    id_no: Annotated[str | None, Field(max_length=18)] = None


class RefundIn(Body):
    sale_id: Annotated[str, Field(min_length=1, max_length=40)]
    # Left out when ``items`` are named: the server computes it from them (and refuses a different one).
    amount_fen: Annotated[StrictInt | None, Field(gt=0, le=10**13)] = None
    reason: Annotated[str, Field(min_length=1, max_length=32)]
    note: Text = ""
    customer: CustomerIn | None = None
    evidence_ids: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] = []
    items: Annotated[list[RefundItemIn], Field(max_length=200)] = []


class ReviewIn(Body):
    reason: Text = ""


class RejectIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class RevealIn(Body):
    purpose: Annotated[str, Field(min_length=1, max_length=200)]


class PolicyIn(Body):
    refund_window_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 30
    evidence_required: dict[str, list[str]] = {}
    auto_approve_limit_fen: Fen = 0
    supervisor_limit_fen: Fen = 500_000
    two_person_limit_fen: Fen = 1_000_000
    max_partial_refunds: Annotated[StrictInt, Field(ge=1, le=1000)] = 50
    channel_window_days: dict[str, Annotated[StrictInt, Field(ge=1, le=3650)]] = {
        "wechat": 365,
        "alipay": 365,
        "unionpay_qr": 365,
    }
    require_customer_phone_above_fen: Fen | None = None


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
