"""What the API answers, as models for the OpenAPI description (and docs/api.md, generated from it).

The routes build their bodies with the view functions (views.py) and return them as they are: these models
describe those bodies and are not run on each answer, so the bytes on the wire stay what the views make and
the counter's hot path (``POST /v1/refunds``) pays nothing for the description. ``tests/api/test_openapi.py``
checks real answers against these models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, with_config

from posrefund.domain.roles import PERMISSIONS, Role
from posrefund.entrypoints.api.errors import error_responses
from posrefund.ports import EvidenceFacts

# Every signed-in operation can be refused for who is calling (401, 403) and for what it was sent: a
# malformed field, or a full card number anywhere in the URL (422, from the card-number guard).
SIGNED_IN = (401, 403, 422)
# What a request with a body can be refused for on top: over the body cap.
WITH_BODY = (413,)


def answers(
    model: type[BaseModel] | type[Mapping[str, Any]] | None,
    *errors: int,
    status: int = 200,
    media_type: str | None = None,
    description: str | None = None,
    again: str | None = None,
    permission: str | None = None,
    openapi_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The decorator keywords of an operation: its 2xx body (a model, or a typed dict sharing its fields with
    a port's row, or a media type for files and pages) and the refusals it can answer.
    ``response_model=None``: the model documents, it does not re-validate (see the module's docstring)."""
    ok: dict[str, Any] = {"description": description or "OK"}
    if model is not None:
        ok["model"] = model
    if media_type is not None:
        schema = {"type": "string"} if media_type.startswith("text/") else {"type": "string", "format": "binary"}
        ok["content"] = {media_type: {"schema": schema}}
    responses: dict[int | str, dict[str, Any]] = {status: ok, **error_responses(*errors)}
    if again is not None:
        responses[200] = {"model": model, "description": again}
    extra = dict(openapi_extra or {})
    if permission is not None:
        extra.update({"x-permission": permission, "x-roles": roles_of(permission)})
    return {"status_code": status, "response_model": None, "responses": responses, "openapi_extra": extra}


def roles_of(permission: str) -> list[str]:
    """Who may: ``*`` anyone signed in, an action the roles ``PERMISSIONS`` gives it, and ``action+provider``
    also the service provider's admin (who acts across merchants there)."""
    if permission == "*":
        return ["any signed-in user"]
    action, _, also = permission.partition("+")
    roles = [role.value for role in Role if role in PERMISSIONS[action]]
    return roles + (["provider_admin"] if also == "provider" and "provider_admin" not in roles else [])


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(Out):
    status: str
    version: str


class Ready(Out):
    status: str = Field(description="`ready`")
    checks: dict[str, str] = Field(description="`database`, `schema`, `evidence`: each `ok`")


class Me(Out):
    id: str
    role: str
    merchant_id: str | None
    display_name: str
    terminal_id: str | None


class TokenUser(Out):
    id: str
    role: str
    merchant_id: str | None
    display_name: str


class Token(Out):
    """An access token (at most 30 minutes) and the refresh token that buys the next pair, once."""

    access_token: str
    token_type: str
    expires_at: str
    refresh_token: str
    refresh_expires_at: str
    must_change_password: bool
    user: TokenUser
    failed_attempts_since_last_sign_in: int
    last_sign_in_at: str | None


class ChannelAccount(Out):
    merchant_id: str
    channel: str
    sub_mchid: str
    sub_appid: str
    updated_by: str
    updated_at: str | None


class Merchant(Out):
    id: str
    code: str
    name: str
    contact_phone: str
    created_at: str | None
    provider_id: str
    licence_no: str = ""
    settlement_bank: str = ""
    settlement_account_name: str = ""
    settlement_account_masked: str = ""


class Store(Out):
    id: str
    merchant_id: str
    name: str
    address: str
    created_at: str | None


class Terminal(Out):
    id: str
    merchant_id: str
    store_id: str
    terminal_no: str
    device_sn: str
    created_at: str | None


class User(Out):
    id: str
    merchant_id: str | None
    username: str
    display_name: str
    role: str
    active: bool
    failed_logins: int
    locked_until: str | None
    created_at: str | None
    token_generation: int
    must_change_password: bool
    provider_id: str
    failed_since_sign_in: int = 0  # failed sign-ins since the last one (absent on a user just created)
    last_sign_in_at: str | None = None


class ApiKey(Out):
    """The secret ``key`` is shown once, here."""

    id: str
    terminal_id: str
    key: str
    created_at: str | None


class StoreList(Out):
    items: list[Store]


class TerminalList(Out):
    items: list[Terminal]


class UserList(Out):
    items: list[User]


class Policy(Out):
    refund_window_days: int
    evidence_required: dict[str, list[str]]
    auto_approve_limit_fen: int
    supervisor_limit_fen: int
    two_person_limit_fen: int
    max_partial_refunds: int
    channel_window_days: dict[str, int]
    require_customer_phone_above_fen: int | None


class PolicyVersion(Policy):
    version: int


class SaleItemOut(Out):
    line: int
    name: str
    quantity: int
    unit_price_fen: int
    amount_fen: int = Field(description="paid for the line (quantity × unit price unless discounted)")
    refunded_qty: int
    reserved_qty: int = Field(description="units held by refunds still under way")
    refundable_qty: int


class SaleOut(Out):
    id: str
    merchant_id: str
    store_id: str
    terminal_id: str
    voucher_no: str = Field(description="the slip's voucher number (凭证号)")
    rrn: str = Field(description="the acquirer's retrieval reference number (参考号)")
    batch_no: str = Field(description="the terminal's settlement batch (批次号)")
    auth_code: str = Field(description="the issuer's authorisation code (授权码), when there is one")
    order_no: str = Field(description="the merchant order number of a QR payment (商户订单号)")
    channel: str
    kind: str = Field(description="`sale`, or a deposit: `deposit` 定金, `advance` 订金, `security` 押金")
    kind_label: str = Field(description="the kind in Chinese: 消费, 定金, 订金, 押金")
    amount_fen: int
    fee_fen: int
    currency: str
    paid_at: str | None
    settlement_status: str
    payer_masked: str
    refunded_fen: int
    reserved_fen: int
    refundable_fen: int
    refund_count: int
    items: list[SaleItemOut] = Field(default=[], description="the item lines (商品明细), when the till sent them")


class SaleList(Out):
    items: list[SaleOut]


class MaskedCustomer(Out):
    """Masked as stored; the full values only through the audited reveal."""

    phone: str | None
    name: str | None
    id_no: str | None


class RefundOut(Out):
    id: str
    refund_no: str
    sale_id: str
    merchant_id: str
    store_id: str
    terminal_id: str
    status: str
    amount_fen: int
    currency: str
    reason: str
    note: str
    channel: str
    method: str | None
    attempts: int
    channel_refund_id: str | None
    expected_arrival: str | None
    succeeded_at: str | None
    last_channel_code: str | None
    customer: MaskedCustomer
    evidence_ids: list[str]
    requested_by: str
    requested_role: str
    required_approvals: int
    approved_by: list[str]
    review_reason: str
    version: int
    created_at: str | None
    updated_at: str | None


class RefundCreated(RefundOut):
    sale_refundable_fen: int


class RefundPage(Out):
    items: list[RefundOut]
    total: int | None = Field(description="how many match in all: only with `count=true`, else null")
    limit: int
    offset: int
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class ReviewQueue(Out):
    items: list[RefundOut]
    total: int


class Event(Out):
    """One entry of the case's hash-chained audit trail; ``seq`` and ``hash`` are null for the moment between
    the event's commit and its chaining."""

    seq: int | None
    action: str
    actor_id: str
    actor_role: str
    at: str | None
    before: str | None
    after: str | None
    reason: str
    data: dict[str, Any]
    hash: str | None


class EventList(Out):
    items: list[Event]


class RefundItem(Out):
    line: int
    name: str
    quantity: int
    amount_fen: int = Field(description="what these units refund (their share of the line's amount)")


class RefundItemList(Out):
    items: list[RefundItem]


class RevealedCustomer(Out):
    phone: str | None
    name: str | None
    id_no: str | None


@with_config(ConfigDict(extra="forbid"))
class Evidence(EvidenceFacts):
    """The stored file's description; its bytes are at ``/v1/evidence/{id}/content``."""

    created_at: str | None


class Override(Out):
    day: str
    workday: bool


class OverrideList(Out):
    items: list[Override]


class WechatAck(Out):
    code: str
    message: str
