"""The provider's desk in the console, for its operations staff: device returns with their decision clock (the
most urgent first) and a return's page with its steps — approve shipping, record receipt and inspection with a
photo, decide (full or partial refund with itemised deductions, replacement, rejection). Everything goes
through ``service/provider/``; a merchant's admin sees its own returns here, read-only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from posrefund.domain.device_return import Deduction
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, texts
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, render, submit
from posrefund.service.provider import clock, decisions, documents, returns

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
DEDUCTION_LINES = 3
# Service codes → the field of the form they are about.
FIELD_OF = {
    "device_return.invalid_inspection": "inspection",
    "device_return.documents_missing": "photo",
    "device_return.document_type": "photo",
    "device_return.document_too_large": "photo",
    "evidence.empty": "photo",
    "device_return.invalid_decision": "decision",
    "device_return.deductions_required": "deductions",
    "device_return.deductions_not_partial": "deductions",
    "device_return.deductions_exceed_paid": "deductions",
    "device_return.deduction_item": "deductions",
    "device_return.deduction_amount": "deductions",
    "console.invalid_amount": "deductions",
    "provider.invalid_sn": "new_sn",
    "provider.sn_taken": "new_sn",
}
STEPS = ("opened_at", "shipping_approved_at", "received_at", "decided_at")  # named in the template


@router.get("/provider/returns")
async def return_list(request: Request, show: str = "open") -> Response:
    actor, c = allowed(request, "device_return.read")
    open_only = show != "all"
    rows = await c.run(clock.list_returns, c.deps, actor, c.router.is_workday, open_only=open_only)
    return render(request, "provider_returns.html", rows=rows, open_only=open_only)


@router.get("/provider/returns/{return_id}")
async def return_page(request: Request, return_id: str) -> Response:
    return await _page(request, return_id, Errors(lang_of(request)), {})


async def _page(request: Request, return_id: str, errors: Errors, typed: dict[str, str]) -> Response:
    actor, c = allowed(request, "device_return.read")
    r = await c.run(clock.get_return, c.deps, actor, return_id, c.router.is_workday)
    files = await c.run(documents.return_documents, c.deps, actor, return_id)
    steps = [(key, r[key]) for key in STEPS]
    return render(
        request,
        "provider_return.html",
        422 if errors else 200,
        r=r,
        steps=steps,
        files=files,
        errors=errors,
        typed=typed,
        lines=range(1, DEDUCTION_LINES + 1),
    )


def _back(return_id: str) -> str:
    return f"{PREFIX}/provider/returns/{return_id}"


@router.post("/provider/returns/{return_id}/shipping")
async def shipping(request: Request, return_id: str) -> Response:
    actor, c, form = await posted(request, "device_return.handle")
    typed = texts(form, "address", "courier", "tracking_no")

    async def step() -> None:
        await c.run(returns.approve_shipping, c.deps, actor, return_id, **typed)

    return await submit(request, step, lambda e: _page(request, return_id, e, typed), _back(return_id), FIELD_OF)


@router.post("/provider/returns/{return_id}/receipt")
async def receipt(request: Request, return_id: str) -> Response:
    actor, c, form = await posted(request, "device_return.handle")
    typed = texts(form, "inspection", "note")
    photo = form.get("photo")

    async def step() -> None:
        r = await c.run(clock.get_return, c.deps, actor, return_id, c.router.is_workday)
        ids = []
        if isinstance(photo, UploadFile) and photo.filename:
            content = await photo.read(documents.DOCUMENT_MAX_BYTES + 1)
            doc = await c.run(
                documents.upload, c.deps, actor, sn=r["sn"], kind="inspection_photo", filename=photo.filename,
                content=content,
            )  # fmt: skip
            ids.append(str(doc["id"]))
        await c.run(
            returns.receive, c.deps, actor, return_id, c.router.is_workday,
            inspection=typed["inspection"], note=typed["note"], photo_ids=ids,
        )  # fmt: skip

    return await submit(request, step, lambda e: _page(request, return_id, e, typed), _back(return_id), FIELD_OF)


def deductions_of(typed: dict[str, str]) -> list[Deduction]:
    """The filled lines of the deduction table: an item and an amount in yuan (exact fen)."""
    out = []
    for n in range(1, DEDUCTION_LINES + 1):
        item, amount = typed[f"item_{n}"].strip(), typed[f"amount_{n}"].strip()
        if item or amount:
            out.append(Deduction(item, fmt.parse_yuan(amount, "deductions")))
    return out


@router.post("/provider/returns/{return_id}/decision")
async def decision(request: Request, return_id: str) -> Response:
    actor, c, form = await posted(request, "device_return.decide")
    names = [f"{k}_{n}" for n in range(1, DEDUCTION_LINES + 1) for k in ("item", "amount")]
    typed = texts(form, "decision", "reason", "new_sn", *names)

    async def step() -> None:
        inp = decisions.DecisionInput(
            decision=typed["decision"],
            reason=typed["reason"],
            deductions=deductions_of(typed),
            new_sn=typed["new_sn"].strip(),
        )
        await c.run(decisions.decide, c.deps, actor, return_id, inp)

    return await submit(request, step, lambda e: _page(request, return_id, e, typed), _back(return_id), FIELD_OF)
