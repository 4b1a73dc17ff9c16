"""A discrepancy and what follows from it in the console: the recovery of a refund the channel paid, or the
wrong-charge case (错收) with its cause, responsible party, analysis and evidence, the contact with the
customer, and the correction refund that gives back what the channel took wrongly.

Every rule is the service's (``service.reconciliation``, ``service.wrong_charges``); this module reads forms
by shape, places errors beside their fields and renders."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import DomainError, Forbidden, Invalid, NotFound
from posrefund.domain.pii import CARD_DATA_CODES
from posrefund.domain.policy import EvidenceKind
from posrefund.domain.reconciliation import Cause, ContactMethod, DiscrepancyClass, Responsible
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale
from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, signed_in, texts
from posrefund.entrypoints.console.pages.reconciliation import choice
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, render, submit
from posrefund.entrypoints.wording import message
from posrefund.service import evidence, reconciliation, refunds, sales, wrong_charges
from posrefund.service.refunds import CustomerInput

router = APIRouter(prefix=PREFIX + "/recon", route_class=ConsoleRoute, include_in_schema=False)
MAX_EVIDENCE = 5
# The choices of a wrong-charge case's analysis and evidence, on the discrepancy and the case page.
ANALYSIS_CHOICES = {
    "causes": [x.value for x in Cause],
    "responsibles": [x.value for x in Responsible],
    "kinds": [k.value for k in EvidenceKind],
}
# What the service refuses in a case's own fields: said beside them; anything else is an error page.
CASE_REFUSALS = ("recon.invalid_field", *CARD_DATA_CODES, "request.field_too_long")


# ---- a discrepancy -----------------------------------------------------------------------------------------
def discrepancy_id_of(text: str) -> int:
    """A discrepancy id is a number; anything else names no discrepancy (404, as for another merchant's)."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound("recon.discrepancy_not_found")
    return int(text)


async def _linked(request: Request, sale_id: Any, refund_id: Any) -> tuple[Sale | None, RefundCase | None]:
    """The sale and the refund case a discrepancy or a wrong charge points at, where it points at one."""
    actor, c = signed_in(request)
    sale = await c.run(sales.get_sale, c.deps, actor, str(sale_id)) if sale_id else None
    view = await c.run(refunds.get_case, c.deps, actor, str(refund_id)) if refund_id else None
    return sale, view.case if view else None


async def discrepancy_view(request: Request, discrepancy_id: str, status: int = 200, **extra: Any) -> Response:
    actor, c = signed_in(request)
    did = discrepancy_id_of(discrepancy_id)
    d = await c.run(reconciliation.get_discrepancy, c.deps, actor, did)
    sale, refund = await _linked(request, d["sale_id"], d["refund_id"])
    recoverable = (
        d["class"] == DiscrepancyClass.REFUND_STATUS_MISMATCH.value
        and d["theirs_status"] == "SUCCESS"
        and not d["resolution"]
        and d["cleared_at"] is None
    )
    form = {"cause": "unknown", "responsible": "unknown", "analysis": ""} | extra.pop("form", {})
    return render(
        request,
        "recon_discrepancy.html",
        status,
        d=d,
        line=d["line"],
        sale=sale,
        refund=refund,
        recoverable=recoverable,
        **ANALYSIS_CHOICES,
        form=form,
        recover_reason=extra.pop("recover_reason", ""),
        **extra,
    )


@router.get("/discrepancies/{discrepancy_id}")
async def discrepancy_page(request: Request, discrepancy_id: str) -> Response:
    return await discrepancy_view(request, discrepancy_id)


@router.post("/discrepancies/{discrepancy_id}/recover")
async def recover(request: Request, discrepancy_id: str) -> Response:
    """A refund the channel paid but we did not record becomes a case of ours, with the stated reason."""
    actor, c, form = await posted(request, "recon.correct")
    reason = str(form.get("reason") or "")
    errors = Errors(lang_of(request))
    did = discrepancy_id_of(discrepancy_id)
    with errors.catch():
        fmt.bounded(reason, "reason", 500)
    if not errors:
        with errors.catch(dict.fromkeys(CARD_DATA_CODES, "reason"), only=CARD_DATA_CODES):
            case = await c.run(reconciliation.recover_refund, c.deps, actor, did, reason)
    if errors:
        return await discrepancy_view(request, discrepancy_id, 422, errors=errors, recover_reason=reason)
    return RedirectResponse(f"{PREFIX}/cases/{case.id}", status_code=303)


# ---- a wrong-charge case from the discrepancy ------------------------------------------------------------
async def _upload_evidence(request: Request, form: Any, errors: Errors) -> list[str]:
    """Files attached to a wrong-charge form, uploaded through ``service.evidence`` (kind and type checked
    there). A refused file is an error beside the file field; nothing else of the form is written then."""
    actor, c = signed_in(request)
    files = [f for f in form.getlist("evidence") if isinstance(f, UploadFile) and f.filename][:MAX_EVIDENCE]
    kind = str(form.get("evidence_kind") or "receipt")
    ids: list[str] = []
    if files and kind not in [k.value for k in EvidenceKind]:
        errors.put("evidence", Invalid("console.invalid_choice"))
        return ids
    # Checked before anything is stored, so a refused file leaves no orphan upload of its neighbours.
    contents = [(f, await f.read(evidence.MAX_BYTES + 1)) for f in files]
    for f, content in contents:
        with errors.catch(lambda _err: "evidence") as refused:
            row = await c.run(evidence.upload, c.deps, actor, content=content, filename=f.filename or "", kind=kind)
        if refused.error:
            return ids
        ids.append(str(row["id"]))
    return ids


def _analysis_form(form: Any, lang: str) -> tuple[dict[str, str], Errors]:
    """A wrong-charge case's cause, responsible party and analysis, each checked, errors beside the field."""
    text = texts(form, "cause", "responsible", "analysis")
    errors = Errors(lang)
    for name, options in (("cause", [x.value for x in Cause]), ("responsible", [x.value for x in Responsible])):
        with errors.catch():
            choice(text[name], options, name)
    with errors.catch():
        fmt.bounded(text["analysis"], "analysis", wrong_charges.MAX_TEXT)
    return text, errors


@router.post("/discrepancies/{discrepancy_id}/wrong-charge")
async def open_wrong_charge(request: Request, discrepancy_id: str) -> Response:
    actor, c, form = await posted(request, "recon.case")
    text, errors = _analysis_form(form, lang_of(request))
    # the discrepancy must be ours before any file is stored for it
    await c.run(reconciliation.get_discrepancy, c.deps, actor, discrepancy_id_of(discrepancy_id))
    ids: list[str] = []
    if not errors:
        ids = await _upload_evidence(request, form, errors)
    if not errors:
        with errors.catch(only=CASE_REFUSALS):
            wc = await c.run(
                wrong_charges.open_case,
                c.deps,
                actor,
                discrepancy_id_of(discrepancy_id),
                cause=text["cause"],
                responsible=text["responsible"],
                analysis=text["analysis"],
                evidence_ids=ids,
            )
    if errors:
        return await discrepancy_view(request, discrepancy_id, 422, errors=errors, form=text)
    return RedirectResponse(f"{PREFIX}/recon/wrong-charges/{wc['id']}", status_code=303)


# ---- a wrong-charge case -----------------------------------------------------------------------------------
async def _wrong_charge_page(request: Request, wc_id: str, status: int = 200, **extra: Any) -> Response:
    actor, c = signed_in(request)
    wc = await c.run(wrong_charges.get_case, c.deps, actor, wc_id[:64])
    d = await c.run(reconciliation.get_discrepancy, c.deps, actor, int(wc["discrepancy_id"]))
    sale, refund = await _linked(request, wc["sale_id"], wc["correction_refund_id"])
    files = await c.run(evidence.list_for, c.deps, actor, wc["evidence_ids"])
    form = {
        "cause": wc["cause"],
        "responsible": wc["responsible"],
        "analysis": wc["analysis"],
        "contact_method": "phone",
        "contact_note": "",
        "amount": "",  # empty: the amount the service computes (the duplicate, or what was taken beyond ours)
        "phone": "",
        "name": "",
        "note": "",
    } | extra.pop("form", {})
    return render(
        request,
        "wrong_charge.html",
        status,
        wc=wc,
        d=d,
        line=d["line"],
        sale=sale,
        refund=refund,
        files=files,
        **ANALYSIS_CHOICES,
        methods=[x.value for x in ContactMethod],
        events=wc["events"],
        form=form,
        **extra,
    )


@router.get("/wrong-charges/{wc_id}")
async def wrong_charge_page(request: Request, wc_id: str) -> Response:
    return await _wrong_charge_page(request, wc_id)


async def _amend(c: AppContext, actor: Actor, wc_id: str, **changes: Any) -> None:
    """One change to the merchant's wrong-charge case; the service checks each field and records the step."""
    await c.run(wrong_charges.update_case, c.deps, actor, wc_id[:64], **changes)


@router.post("/wrong-charges/{wc_id}/update")
async def update_wrong_charge(request: Request, wc_id: str) -> Response:
    actor, c = allowed(request, "recon.case")
    await c.run(wrong_charges.get_case, c.deps, actor, wc_id[:64])  # ours, before any file is stored
    form = await request.form()
    text, errors = _analysis_form(form, lang_of(request))
    ids: list[str] = []
    if not errors:
        ids = await _upload_evidence(request, form, errors)
    if not errors:
        with errors.catch(only=CASE_REFUSALS):
            await _amend(
                c,
                actor,
                wc_id,
                cause=text["cause"],
                responsible=text["responsible"],
                analysis=text["analysis"],
                evidence_ids=ids or None,
            )
    if errors:
        return await _wrong_charge_page(request, wc_id, 422, errors=errors, form=text)
    return RedirectResponse(f"{PREFIX}/recon/wrong-charges/{wc_id[:64]}", status_code=303)


@router.post("/wrong-charges/{wc_id}/contact")
async def contact(request: Request, wc_id: str) -> Response:
    actor, c, form = await posted(request, "recon.case")
    text = texts(form, "contact_method", "contact_note")

    async def step() -> None:
        choice(text["contact_method"], [x.value for x in ContactMethod], "contact_method")
        fmt.bounded(text["contact_note"], "contact_note", wrong_charges.MAX_TEXT)
        if not text["contact_note"].strip():
            raise Invalid("recon.note_required", field="contact_note")
        await _amend(c, actor, wc_id, contact_method=text["contact_method"], contact_note=text["contact_note"])

    return await submit(
        request,
        step,
        lambda errors: _wrong_charge_page(request, wc_id, 422, errors=errors, form=text),
        f"{PREFIX}/recon/wrong-charges/{wc_id[:64]}",
        dict.fromkeys(CARD_DATA_CODES, "contact_note"),
        only=("console.invalid_choice", "console.too_long", "recon.note_required", *CARD_DATA_CODES),
    )


CORRECTION_FIELDS = {
    "console.invalid_amount": "amount",
    "recon.amount_required": "amount",
    "refund.exceeds_refundable": "amount",
    "refund.amount_not_positive": "amount",
    "pii.invalid_phone": "phone",
    "recon.no_sale": "amount",
}


def _refused_correction(err: DomainError, errors: Errors) -> None:
    """Refused by shape, by the service or by the refund policy: each policy rule on the form, else the
    error beside its field."""
    raw = err.params.get("rules")
    for rule in raw if isinstance(raw, list) and raw else []:
        errors.form.append(message(str(rule["code"]), errors.lang, dict(rule.get("params") or {})))
    if not errors:
        errors.add(err, CORRECTION_FIELDS)


@router.post("/wrong-charges/{wc_id}/correction")
async def correction(request: Request, wc_id: str) -> Response:
    actor, c, form = await posted(request, "recon.correct")
    text = texts(form, "amount", "phone", "name", "note")
    errors = Errors(lang_of(request))
    with errors.catch(
        passing_kinds=(NotFound, Forbidden), place=lambda err: _refused_correction(err, errors)
    ) as refused:
        amount = fmt.parse_yuan(text["amount"], "amount") if text["amount"].strip() else None
        fmt.bounded(text["phone"], "phone", 32)
        fmt.bounded(text["name"], "name", 50)
        fmt.bounded(text["note"], "note", 300)
        customer = CustomerInput(phone=text["phone"].strip() or None, name=text["name"].strip() or None)
        await c.run(
            wrong_charges.start_correction,
            c.deps,
            actor,
            wc_id[:64],
            amount_fen=amount,
            customer=customer,
            note=text["note"],
        )
    if refused.error:
        status = 422 if isinstance(refused.error, Invalid) else 409
        return await _wrong_charge_page(request, wc_id, status, errors=errors, form=text)
    return RedirectResponse(f"{PREFIX}/recon/wrong-charges/{wc_id[:64]}", status_code=303)
