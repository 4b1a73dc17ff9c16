"""The provider's terminals in the console: the terminals issued to its merchants with what was paid for each, the
form that registers a new one with its payment (what ``POST /v1/provider/terminals`` takes), each terminal's
printable return form, and a device return opened by the provider's customer service on a merchant's behalf (by
phone) with the documents it needs. A return's files are served only inside the return's scope, with headers
that keep a browser from reading them as anything but the image or PDF they are."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import HTMLResponse, RedirectResponse, Response

from posrefund.domain import device_return as dr
from posrefund.domain.errors import Invalid
from posrefund.entrypoints.api.security_headers import styled_document_policy
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, texts
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, may, render, submit
from posrefund.service.provider import desk, documents, oversight, returns

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
DEVICE_FIELDS = (
    "sn", "model", "merchant_id", "issued_on", "shipped_on", "signed_on", "activated_on", "price", "charge_kind",
    "charge", "warranty_months", "route", "paid_at", "payer_masked", "rrn", "voucher_no", "batch_no", "auth_code",
    "order_no",
)  # fmt: skip
# The payment's references, as long as the API lets them be.
REFERENCE_LENGTHS = {"payer_masked": 40, "rrn": 12, "voucher_no": 12, "batch_no": 6, "auth_code": 6, "order_no": 64}
DEVICE_FIELD_OF = {
    "provider.invalid_sn": "sn",
    "provider.sn_taken": "sn",
    "provider.invalid_route": "route",
    "provider.invalid_charge_kind": "charge_kind",
    "provider.invalid_amount": "price",
    "provider.invalid_warranty": "warranty_months",
    "provider.dates_out_of_order": "signed_on",
    "provider.card_reference_required": "rrn",
    "merchant.not_found": "merchant_id",
}
OPEN_FIELD_OF = {
    "provider.device_not_found": "sn",
    "device_return.not_signed_for": "sn",
    "device_return.terminal_not_returnable": "sn",
    "device_return.already_open": "sn",
    "device_return.invalid_reason": "reason",
    "device_return.outside_window": "reason",
    "device_return.warranty_expired": "reason",
}
RETURNABLE = (dr.TerminalState.ISSUED.value, dr.TerminalState.ACTIVE.value)
DOCUMENT_KINDS = [k.value for k in dr.required_documents(True)]  # the merchant's papers, payer's identity last
FORM_CSP = styled_document_policy(documents.FORM_STYLE)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


async def _terminals(request: Request, errors: Errors | None = None, typed: dict[str, str] | None = None) -> Response:
    actor, c = allowed(request, "provider.terminal.read")
    rows = await c.run(desk.list_devices, c.deps, actor)
    known = may(actor, "provider.merchants.read")
    merchants = await c.run(oversight.merchants, c.deps, actor) if known else []
    names = {m["id"]: m["name"] for m in merchants}
    today = c.deps.local_date(c.deps.clock.now()).isoformat()
    now = fmt.local(c.deps.clock.now()).replace(" ", "T")
    blank = {"issued_on": today, "signed_on": today, "paid_at": now, "warranty_months": "12", "charge_kind": "none"}
    return render(
        request, "provider_terminals.html", 422 if errors else 200, errors=errors, rows=rows, names=names,
        merchants=merchants, typed=typed or blank, routes=[r.value for r in dr.PaymentRoute],
        charge_kinds=[k.value for k in dr.ChargeKind], returnable=RETURNABLE,
    )  # fmt: skip


@router.get("/provider/terminals")
async def terminals(request: Request) -> Response:
    return await _terminals(request)


def device_input(t: dict[str, str]) -> desk.DeviceInput:
    """The typed form as the service's input: dates, yuan to exact fen, the payment's local time in Shanghai."""

    def day(name: str) -> Any:
        return fmt.parse_date(t[name], name) if t[name].strip() else None

    for name, longest in REFERENCE_LENGTHS.items():
        fmt.bounded(t[name].strip(), name, longest)
    payment = desk.Payment(
        route=t["route"], paid_at=fmt.parse_moment(t["paid_at"], "paid_at"),
        **{name: t[name].strip() for name in REFERENCE_LENGTHS},
    )  # fmt: skip
    return desk.DeviceInput(
        sn=t["sn"].strip(), model=fmt.bounded(t["model"], "model", 64), merchant_id=t["merchant_id"][:40],
        issued_on=fmt.parse_date(t["issued_on"], "issued_on"), price_fen=fmt.parse_yuan(t["price"], "price"),
        payment=payment, charge_kind=t["charge_kind"] or "none",
        charge_fen=fmt.parse_yuan(t["charge"], "charge") if t["charge"].strip() else 0,
        shipped_on=day("shipped_on"), signed_on=day("signed_on"), activated_on=day("activated_on"),
        warranty_months=fmt.parse_count(t["warranty_months"] or "12", "warranty_months", low=1, high=60),
    )  # fmt: skip


@router.post("/provider/terminals")
async def register(request: Request) -> Response:
    actor, c, form = await posted(request, "provider.terminal.manage")
    typed = texts(form, *DEVICE_FIELDS)

    async def step() -> None:
        await c.run(desk.register_device, c.deps, actor, device_input(typed))

    async def again(errors: Errors) -> Response:
        return await _terminals(request, errors, typed)

    return await submit(request, step, again, f"{PREFIX}/provider/terminals", DEVICE_FIELD_OF)


@router.get("/provider/terminals/{sn}/return-form")
async def return_form(request: Request, sn: str) -> Response:
    """The printable form, allowed its own style and nothing else."""
    actor, c = allowed(request, "device_return.open")
    page = await c.run(documents.return_form, c.deps, actor, sn[:64])
    return HTMLResponse(page, headers={"Content-Security-Policy": FORM_CSP})


async def _opening(request: Request, errors: Errors | None = None, typed: dict[str, str] | None = None) -> Response:
    actor, c = allowed(request, "device_return.open")
    devices = [d for d in await c.run(desk.list_devices, c.deps, actor) if d["state"] in RETURNABLE]
    typed = typed or {"sn": request.query_params.get("sn", "")[:64], "reason": "no_reason"}
    return render(
        request, "provider_new_return.html", 422 if errors else 200, errors=errors, typed=typed, devices=devices,
        kinds=DOCUMENT_KINDS,
    )  # fmt: skip


@router.get("/provider/new-return")
async def new_return(request: Request) -> Response:
    return await _opening(request)


async def _upload_all(c: Any, actor: Any, sn: str, form: FormData, errors: Errors) -> list[str]:
    """Each file given, checked and kept; a refused one is said beside its own field."""
    ids: list[str] = []
    for kind in DOCUMENT_KINDS:
        file = form.get(kind)
        if not isinstance(file, UploadFile) or not file.filename:
            continue
        content = await file.read(documents.DOCUMENT_MAX_BYTES + 1)
        with errors.catch({}, passing=("provider.device_not_found",), place=partial(errors.put, kind)):
            doc = await c.run(
                documents.upload, c.deps, actor, sn=sn, kind=kind, filename=file.filename[:200], content=content
            )
            ids.append(str(doc["id"]))
    return ids


@router.post("/provider/new-return")
async def open_return(request: Request) -> Response:
    """Opened for the merchant: the files first (each refusal beside its file), then the return itself — the
    window, the terminal's state and the documents checked by the same service as the API's."""
    actor, c, form = await posted(request, "device_return.open")
    typed = texts(form, "sn", "reason", "fault_note", "other_account")
    errors = Errors(lang_of(request))
    sn = typed["sn"].strip()[:64]
    with errors.catch(OPEN_FIELD_OF):
        if not sn:
            raise Invalid("request.field_required", field="sn")
        ids = await _upload_all(c, actor, sn, form, errors)
        if not errors:
            inp = returns.OpenInput(
                sn=sn, reason=typed["reason"], document_ids=tuple(ids), fault_note=typed["fault_note"],
                refund_to_other_account=typed["other_account"] == "1",
            )  # fmt: skip
            row = await c.run(returns.open_return, c.deps, actor, inp)
            return RedirectResponse(f"{PREFIX}/provider/returns/{row['id']}", status_code=303)
    return await _opening(request, errors, typed)


@router.get("/provider/returns/{return_id}/documents/{evidence_id}")
async def return_document(request: Request, return_id: str, evidence_id: str) -> Response:
    """One file of the return, shown in the browser (an image, a PDF) or downloaded with ``?download=1``."""
    actor, c = allowed(request, "device_return.read")
    row, content = await c.run(documents.return_document, c.deps, actor, return_id[:40], evidence_id[:40])
    kind = "attachment" if request.query_params.get("download") == "1" else "inline"
    name = f"{row['kind']}-{row['id']}.{EXTENSIONS.get(row['content_type'], 'bin')}"
    headers = {
        "Content-Disposition": f'{kind}; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
    }
    return Response(content, media_type=str(row["content_type"]), headers=headers)
