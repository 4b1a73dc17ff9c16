"""The payment service provider's desk under /v1/provider: its record, the terminals it issues, device
returns (退机) with their decision clock, notices, the dashboard and the masked view of its merchants'
refunds. Merchants open and follow their own returns here too."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AwareDatetime, Field, StrictBool, StrictInt

from posrefund.domain.device_return import Deduction
from posrefund.entrypoints.api.context import Channels, Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, Evidence, answers
from posrefund.entrypoints.api.responses_provider import (
    Dashboard,
    Desk,
    Device,
    DeviceList,
    DeviceReturn,
    DeviceReturnList,
    MaskedRefundList,
    NoticeList,
    ProviderMerchantList,
)
from posrefund.entrypoints.api.schemas import Body
from posrefund.entrypoints.api.security_headers import styled_document_policy
from posrefund.entrypoints.api.views import plain
from posrefund.service.provider import clock, decisions, desk, documents, oversight, returns

FORM_POLICY = styled_document_policy(documents.FORM_STYLE)  # the printable form keeps its own style
router = APIRouter(prefix="/v1/provider", tags=["provider"])
STEP = (*SIGNED_IN, *WITH_BODY, 404, 409)
Short = Annotated[str, Field(min_length=1, max_length=64)]
Id = Annotated[str, Field(min_length=1, max_length=40)]


class DeskIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    code: Annotated[str, Field(min_length=2, max_length=32)]


class PaymentIn(Body):
    route: Literal["card", "wechat", "alipay", "transfer"]
    paid_at: AwareDatetime
    payer_masked: Annotated[str, Field(max_length=40)] = ""
    rrn: Annotated[str, Field(max_length=12)] = ""
    voucher_no: Annotated[str, Field(max_length=12)] = ""
    batch_no: Annotated[str, Field(max_length=6)] = ""
    auth_code: Annotated[str, Field(max_length=6)] = ""
    order_no: Annotated[str, Field(max_length=64)] = ""


class DeviceIn(Body):
    sn: Short
    model: Short
    merchant_id: Id
    issued_on: date
    shipped_on: date | None = None
    signed_on: date | None = None
    activated_on: date | None = None
    price_fen: Annotated[StrictInt, Field(gt=0, le=10**13)]
    charge_kind: Literal["none", "deposit", "service_charge"] = "none"
    charge_fen: Annotated[StrictInt, Field(ge=0, le=10**13)] = 0
    warranty_months: Annotated[StrictInt, Field(ge=1, le=60)] = 12
    payment: PaymentIn


class ReturnIn(Body):
    sn: Short
    reason: Literal["no_reason", "fault"]
    fault_note: Annotated[str, Field(max_length=2000)] = ""
    refund_to_other_account: StrictBool = False
    document_ids: Annotated[list[Id], Field(max_length=30)]


class ShippingIn(Body):
    address: Annotated[str, Field(min_length=1, max_length=400)]
    courier: Annotated[str, Field(min_length=1, max_length=40)]
    tracking_no: Annotated[str, Field(min_length=1, max_length=40)]


class ReceiptIn(Body):
    inspection: Literal["intact", "damaged", "parts_missing"]
    note: Annotated[str, Field(max_length=2000)] = ""
    photo_ids: Annotated[list[Id], Field(min_length=1, max_length=20)]


class DeductionIn(Body):
    item: Annotated[str, Field(min_length=1, max_length=100)]
    amount_fen: Annotated[StrictInt, Field(gt=0, le=10**13)]


class ReturnDecisionIn(Body):
    decision: Literal["full_refund", "partial_refund", "replacement", "rejection"]
    reason: Annotated[str, Field(max_length=2000)] = ""
    deductions: Annotated[list[DeductionIn], Field(max_length=20)] = Field(default_factory=list)
    refund_fen: Annotated[StrictInt | None, Field(gt=0, le=10**13)] = None
    new_sn: Annotated[str, Field(max_length=64)] = ""


@router.post(
    "/desk", summary="Open the provider's desk", **answers(Desk, *STEP, status=201, permission="provider.setup")
)
async def set_up(body: DeskIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    row = await c.run(desk.set_up, c.deps, actor, name=body.name, code=body.code)
    return JSONResponse(plain(row), status_code=201)


@router.get(
    "/merchants",
    summary="The provider's merchants",
    **answers(ProviderMerchantList, *SIGNED_IN, permission="provider.merchants.read"),
)
async def merchants(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"items": await c.run(oversight.merchants, c.deps, actor)}


@router.get(
    "/merchants/{merchant_id}/refunds",
    summary="A merchant's refunds, read-only and masked",
    **answers(MaskedRefundList, *SIGNED_IN, 404, permission="provider.refunds.read"),
)
async def merchant_refunds(
    merchant_id: str, actor: CurrentActor, c: Ctx, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> dict[str, Any]:
    return {"items": await c.run(oversight.merchant_refunds, c.deps, actor, merchant_id, limit)}


@router.post(
    "/terminals",
    summary="Register a terminal issued to a merchant, with its payment",
    **answers(Device, *STEP, status=201, permission="provider.terminal.manage"),
)
async def register(body: DeviceIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    fields = body.model_dump(exclude={"payment"})
    inp = desk.DeviceInput(**fields, payment=desk.Payment(**body.payment.model_dump()))
    row = await c.run(desk.register_device, c.deps, actor, inp)
    return JSONResponse(jsonable(desk.public_device(row)), status_code=201)


@router.get(
    "/terminals",
    summary="The terminals issued",
    **answers(DeviceList, *SIGNED_IN, 404, permission="provider.terminal.read"),
)
async def list_terminals(
    actor: CurrentActor, c: Ctx, merchant_id: Annotated[str | None, Query(max_length=40)] = None
) -> dict[str, Any]:
    rows = await c.run(desk.list_devices, c.deps, actor, merchant_id)
    return {"items": [desk.public_device(r) for r in rows]}


@router.get(
    "/terminals/{sn}/return-form",
    summary="The printable return form of a terminal",
    response_class=Response,
    **answers(None, *SIGNED_IN, 404, media_type="text/html", permission="device_return.open"),
)
async def return_form(sn: str, actor: CurrentActor, c: Ctx) -> HTMLResponse:
    form = await c.run(documents.return_form, c.deps, actor, sn)
    return HTMLResponse(form, headers={"Content-Security-Policy": FORM_POLICY})


@router.post(
    "/documents",
    summary="Upload a document of a device return",
    **answers(Evidence, *STEP, 503, status=201, permission="device_return.open"),
)
async def upload(
    actor: CurrentActor,
    c: Ctx,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP (photos), or PDF (papers); at most 4 MiB")],
    sn: Annotated[str, Form(min_length=1, max_length=64)],
    kind: Annotated[str, Form(max_length=32)],
) -> JSONResponse:
    content = await file.read(documents.DOCUMENT_MAX_BYTES + 1)
    row = await c.run(documents.upload, c.deps, actor, sn=sn, kind=kind, filename=file.filename or "", content=content)
    return JSONResponse(plain(row), status_code=201)


@router.post(
    "/returns",
    summary="Open a device return",
    **answers(DeviceReturn, *STEP, status=201, permission="device_return.open"),
)
async def open_return(body: ReturnIn, actor: CurrentActor, c: Ctx, channels: Channels) -> JSONResponse:
    inp = returns.OpenInput(
        sn=body.sn,
        reason=body.reason,
        document_ids=tuple(body.document_ids),
        fault_note=body.fault_note,
        refund_to_other_account=body.refund_to_other_account,
    )
    row = await c.run(returns.open_return, c.deps, actor, inp)
    return JSONResponse(await _view(c, actor, row["id"], channels), status_code=201)


async def _view(c: Any, actor: Any, return_id: str, channels: Any) -> dict[str, Any]:
    return jsonable(await c.run(clock.get_return, c.deps, actor, return_id, channels.is_workday))


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """Dates and instants as ISO text, nested lists and mappings as they are."""
    return {k: (v.isoformat() if isinstance(v, (date, datetime)) else v) for k, v in plain(row).items()}


@router.get(
    "/returns",
    summary="Device returns, most urgent first",
    **answers(DeviceReturnList, *SIGNED_IN, permission="device_return.read"),
)
async def list_returns(
    actor: CurrentActor, c: Ctx, channels: Channels, open_only: Annotated[bool, Query(alias="open")] = False
) -> dict[str, Any]:
    rows = await c.run(clock.list_returns, c.deps, actor, channels.is_workday, open_only=open_only)
    return {"items": [jsonable(r) for r in rows]}


@router.get(
    "/returns/{return_id}",
    summary="One device return with its clock",
    **answers(DeviceReturn, *SIGNED_IN, 404, permission="device_return.read"),
)
async def get_return(return_id: str, actor: CurrentActor, c: Ctx, channels: Channels) -> dict[str, Any]:
    return await _view(c, actor, return_id, channels)


@router.post(
    "/returns/{return_id}/shipping",
    summary="Approve shipping back",
    **answers(DeviceReturn, *STEP, permission="device_return.handle"),
)
async def shipping(return_id: str, body: ShippingIn, actor: CurrentActor, c: Ctx, channels: Channels) -> dict[str, Any]:
    await c.run(returns.approve_shipping, c.deps, actor, return_id, **body.model_dump())
    return await _view(c, actor, return_id, channels)


@router.post(
    "/returns/{return_id}/receipt",
    summary="Record receipt and inspection",
    **answers(DeviceReturn, *STEP, permission="device_return.handle"),
)
async def receipt(return_id: str, body: ReceiptIn, actor: CurrentActor, c: Ctx, channels: Channels) -> dict[str, Any]:
    await c.run(
        returns.receive, c.deps, actor, return_id, channels.is_workday,
        inspection=body.inspection, note=body.note, photo_ids=body.photo_ids,
    )  # fmt: skip
    return await _view(c, actor, return_id, channels)


@router.post(
    "/returns/{return_id}/decision",
    summary="Decide a return",
    **answers(DeviceReturn, *STEP, permission="device_return.decide"),
)
async def decision(
    return_id: str, body: ReturnDecisionIn, actor: CurrentActor, c: Ctx, channels: Channels
) -> dict[str, Any]:
    inp = decisions.DecisionInput(
        decision=body.decision,
        reason=body.reason,
        deductions=[Deduction(d.item, d.amount_fen) for d in body.deductions],
        refund_fen=body.refund_fen,
        new_sn=body.new_sn,
    )
    await c.run(decisions.decide, c.deps, actor, return_id, inp)
    return await _view(c, actor, return_id, channels)


class TransferIn(Body):
    reference: str = Field(min_length=1, max_length=200, description="the bank transfer's reference (流水号)")


@router.post(
    "/returns/{return_id}/confirm-transfer",
    summary="Record the refund transfer of a device paid by transfer (a second person)",
    **answers(DeviceReturn, *STEP, permission="device_return.decide"),
)
async def confirm_transfer(
    return_id: str, body: TransferIn, actor: CurrentActor, c: Ctx, channels: Channels
) -> dict[str, Any]:
    await c.run(decisions.confirm_transfer, c.deps, actor, return_id, body.reference)
    return await _view(c, actor, return_id, channels)


@router.get(
    "/breaches",
    summary="Returns past their decision day",
    **answers(DeviceReturnList, *SIGNED_IN, permission="provider.dashboard"),
)
async def breaches(actor: CurrentActor, c: Ctx, channels: Channels) -> dict[str, Any]:
    return {"items": [jsonable(r) for r in await c.run(clock.breaches, c.deps, actor, channels.is_workday)]}


@router.get(
    "/dashboard",
    summary="Open returns by clock, refunds this month",
    **answers(Dashboard, *SIGNED_IN, permission="provider.dashboard"),
)
async def dashboard(actor: CurrentActor, c: Ctx, channels: Channels) -> dict[str, Any]:
    return await c.run(clock.dashboard, c.deps, actor, channels.is_workday)


@router.get(
    "/notices",
    summary="Notices of the returns' steps",
    **answers(NoticeList, *SIGNED_IN, permission="device_return.read"),
)
async def notices(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"items": [plain(r) for r in await c.run(clock.notices, c.deps, actor)]}
