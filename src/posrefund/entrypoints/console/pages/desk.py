"""The cashier's refund desk (退款台): find the sale, ask for the refund, see the answer at once.

The request goes through the same ``refunds.request_refund_once`` as the API, keyed by a token issued
with the form, so a double click or a resubmitted page gives the first answer again, never a second
refund.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import DomainError, Invalid
from posrefund.domain.policy import EvidenceKind, Reason
from posrefund.domain.refund import RefundCase
from posrefund.domain.sale import Sale
from posrefund.domain.sale_items import SaleLine
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import signed_in
from posrefund.entrypoints.console.texts import label
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, actor_of, ctx_of, lang_of, render
from posrefund.entrypoints.wording import message
from posrefund.ports import CustomerRecord
from posrefund.service import evidence, refunds, sales
from posrefund.service.refunds import CustomerInput, Idempotency, RefundRequest

router = APIRouter(prefix=PREFIX + "/desk", route_class=ConsoleRoute, include_in_schema=False)

SEARCH_FIELDS = ("voucher_no", "order_no", "last4", "amount", "on")
# Which form field a service error belongs beside.
REFUND_FIELD_OF = {
    "refund.exceeds_refundable": "amount",
    "console.exceeds_refundable": "amount",
    "policy.customer_phone_required": "phone",
    "refund.amount_not_positive": "amount",
    "refund.invalid_reason": "reason",
    "refund.note_too_long": "note",
    "pii.invalid_phone": "phone",
    "pii.invalid_id_no": "id_no",
    "evidence.invalid_kind": "evidence_kind",
    "evidence.empty": "evidence",
    "evidence.too_large": "evidence",
    "evidence.type_not_allowed": "evidence",
    "idempotency.key_reused": "amount",
    "refund.item_amount_mismatch": "amount",
    "refund.items_changed": "amount",
}
FIELD_NAMES = {"note": "note", "customer.name": "name", "customer.phone": "phone", "filename": "evidence"}
MAX_FILES = 5


@router.get("")
async def desk(request: Request) -> Response:
    actor = actor_of(request)
    actor.require("refund.request")
    q = request.query_params
    values = {k: q.get(k, "")[:64] for k in SEARCH_FIELDS}
    errors = Errors(lang_of(request))
    found: list[Sale] | None = None
    if any(values.values()):
        with errors.catch():
            amount = fmt.parse_yuan(values["amount"], "amount") if values["amount"] else None
            on = fmt.parse_date(values["on"], "on") if values["on"] else None
            c = ctx_of(request)
            found = await c.run(
                sales.find_sales,
                c.deps,
                actor,
                voucher_no=values["voucher_no"].strip() or None,
                order_no=values["order_no"].strip() or None,
                last4=values["last4"].strip() or None,
                amount_fen=amount,
                on=on,
                limit=20,
            )
    return render(request, "desk.html", values=values, found=found, errors=errors)


def _fresh_form(sale: Sale, lines: list[SaleLine]) -> dict[str, Any]:
    """A new form: the whole refundable amount, or, for a sale with item lines, no amount (the units chosen
    give it) and no units yet."""
    return {
        "amount": "" if lines else fmt.yuan_input(sale.refundable_fen),
        "reason": "",
        "note": "",
        "phone": "",
        "name": "",
        "evidence_kind": EvidenceKind.RECEIPT.value,
        "form_id": secrets.token_urlsafe(16),
    }


async def _sale(request: Request, sale_id: str) -> tuple[Sale, list[SaleLine]]:
    c = ctx_of(request)
    return await c.run(sales.sale_lines, c.deps, actor_of(request), sale_id[:64])


def _units(form: Any, lines: list[SaleLine]) -> tuple[tuple[int, int], ...]:
    """The units typed per line (``qty_<line>``), the lines left at 0 left out."""
    asked = []
    for line in lines:
        text = str(form.get(f"qty_{line.line}") or "").strip()
        units = fmt.parse_count(text, f"qty_{line.line}", high=line.quantity) if text else 0
        if units:
            asked.append((line.line, units))
    return tuple(asked)


@router.post("/sale/{sale_id}/price")
async def price(request: Request, sale_id: str) -> Response:
    """The running total of the units chosen, as the server computes it (htmx swaps it under the lines)."""
    actor, c = signed_in(request)
    sale, lines = await _sale(request, sale_id)
    errors = Errors(lang_of(request))
    total: int | None = None
    with errors.catch(place=errors.note):
        units = _units(await request.form(), lines)
        total = await c.run(sales.quote_units, c.deps, actor, sale.id, units) if units else None
    total_error = errors.form[0] if errors.form else ""
    return render(request, "_items_total.html", sale=sale, total=total, total_error=total_error)


@router.get("/sale/{sale_id}")
async def refund_form(request: Request, sale_id: str) -> Response:
    actor_of(request).require("refund.request")
    sale, lines = await _sale(request, sale_id)
    return render(
        request,
        "refund_form.html",
        sale=sale,
        lines=lines,
        total=None,
        total_error="",
        form=_fresh_form(sale, lines),
        reasons=list(Reason),
        kinds=list(EvidenceKind),
        rules=[],
        kept=[],
    )


def _render_answer(case: RefundCase, _sale: Sale, _customer: CustomerRecord) -> tuple[int, bytes]:
    return 201, json.dumps({"case_id": case.id}).encode()


@router.post("/sale/{sale_id}")
async def request_refund(request: Request, sale_id: str) -> Response:
    actor = actor_of(request)
    actor.require("refund.request")
    sale, lines = await _sale(request, sale_id)
    form = await request.form()
    text = {
        k: str(form.get(k) or "") for k in ("amount", "reason", "note", "phone", "name", "evidence_kind", "form_id")
    }
    text.update({f"qty_{line.line}": str(form.get(f"qty_{line.line}") or "")[:8] for line in lines})
    files = [f for f in form.getlist("evidence") if isinstance(f, UploadFile) and f.filename][:MAX_FILES]
    # Photos already uploaded with an earlier, refused try of this form are kept (the service checks that
    # each belongs to this merchant), so the cashier does not photograph the receipt again.
    evidence_ids = [v for v in form.getlist("evidence_id") if isinstance(v, str) and 0 < len(v) <= 64][:MAX_FILES]
    errors = Errors(lang_of(request))
    rules: list[str] = []
    with errors.catch(place=lambda err: rules.extend(explain(err, errors, errors.lang))) as refused:
        case_id = await _ask(request, sale, text, files, evidence_ids, _units(form, lines))
    if refused.error is None:
        return RedirectResponse(f"{PREFIX}/desk/answer/{case_id}", status_code=303)
    sale, lines = await _sale(request, sale_id)
    return render(
        request,
        "refund_form.html",
        422,
        sale=sale,
        lines=lines,
        total=None,
        total_error="",
        form=text,
        reasons=list(Reason),
        kinds=list(EvidenceKind),
        rules=rules,
        errors=errors,
        kept=evidence_ids,
    )


async def _ask(
    request: Request,
    sale: Sale,
    text: dict[str, str],
    files: list[UploadFile],
    evidence_ids: list[str],
    units: tuple[tuple[int, int], ...],
) -> str:
    """The refund asked once per form: the new case's id, or the first answer again for a resubmitted form.
    Uploaded photos are added to ``evidence_ids``, so a refused try keeps them for the next. With ``units``
    chosen, an amount left empty is computed by the service from them."""
    actor, c = signed_in(request)
    amount = fmt.parse_yuan(text["amount"], "amount") if text["amount"].strip() or not units else 0
    if text["reason"] not in Reason.__members__.values():
        raise Invalid("console.invalid_choice", field="reason")
    fmt.bounded(text["phone"], "phone", 32)
    fmt.bounded(text["note"], "note", 500)
    key = text["form_id"].strip()
    if not 8 <= len(key) <= 64 or not key.isascii() or not key.isprintable():
        raise Invalid("console.csrf")
    # The answer is keyed by the form, not by its files: a resubmitted form replays the first case.
    digest = hashlib.sha256(
        json.dumps([sale.id, amount, text["reason"], text["note"], text["phone"], text["name"], units]).encode()
    ).hexdigest()
    for f in files[: MAX_FILES - len(evidence_ids)]:
        content = await f.read(evidence.MAX_BYTES + 1)
        row = await c.run(
            evidence.upload, c.deps, actor, content=content, filename=f.filename or "", kind=text["evidence_kind"]
        )
        evidence_ids.append(str(row["id"]))
    req = RefundRequest(
        sale_id=sale.id,
        amount_fen=amount,
        reason=text["reason"],
        note=text["note"],
        customer=CustomerInput(phone=text["phone"].strip() or None, name=text["name"].strip() or None),
        evidence_ids=tuple(evidence_ids),
        items=units,
    )
    idem = Idempotency(scope=actor.merchant_id or "", key="console:" + key, request_hash=digest, render=_render_answer)
    try:
        answer = await c.run(refunds.request_refund_once, c.deps, actor, req, idem)
    except IntegrityError:
        # The same form committed by a concurrent request between our lookup and insert: its answer.
        answer = await c.run(refunds.request_refund_once, c.deps, actor, req, idem)
    return str(json.loads(answer.body)["case_id"])


def explain(err: DomainError, errors: Errors, lang: str) -> list[str]:
    """Put each refusal where the cashier looks: beside its field, or in the box of policy rules."""
    raw = err.params.get("rules")
    found = raw if isinstance(raw, list) and raw else [{"code": err.code, "params": err.params}]
    rules: list[str] = []
    for rule in found:
        code, params = str(rule["code"]), dict(rule["params"]) if isinstance(rule["params"], dict) else {}
        if code == "refund.exceeds_refundable":  # in yuan, as the cashier typed it
            code = "console.exceeds_refundable"
            params = {"amount": fmt.yuan(params["amount_fen"]), "refundable": fmt.yuan(params["refundable_fen"])}
        if code == "policy.evidence_required":  # the kinds by their names, not their codes
            params["missing"] = "、".join(label("evidence", k, lang) for k in params.get("missing", []))
        raw_field = str(params.get("field", ""))
        name = REFUND_FIELD_OF.get(code) or FIELD_NAMES.get(raw_field, raw_field)
        if code.startswith("policy.") and code != "policy.customer_phone_required":
            rules.append(message(code, lang, params))
        elif name and name not in errors.fields:
            errors.fields[name] = message(code, lang, params)
        else:
            errors.form.append(message(code, lang, params))
    return rules


@router.get("/answer/{case_id}")
async def answer(request: Request, case_id: str) -> Response:
    actor, c = signed_in(request)
    view = await c.run(refunds.get_case, c.deps, actor, case_id[:64])
    sale = await c.run(sales.get_sale, c.deps, actor, view.case.sale_id)
    return render(request, "answer.html", case=view.case, customer=view.customer, sale=sale)
