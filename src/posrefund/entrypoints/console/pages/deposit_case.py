"""One deposit at the counter: the terms the customer agreed to, the payment, the proposals with their
computation in the reader's language, the refund and penalty transfer they created, and the history; the
forms to record how the deal ended (deductions itemised with reason and evidence), to override (supervisor,
with a reason), to accept (the refund through the refund core, the penalty as a linked bank transfer) and to
confirm or cancel that transfer. Every rule is ``service.deposits``'s: a refused form is shown again with
the message beside its field and nothing changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from posrefund.domain.deposits import ENDINGS_OF, DepositKind, Ending
from posrefund.domain.errors import DomainError, Invalid
from posrefund.domain.policy import EvidenceKind
from posrefund.entrypoints.api.errors import status_of
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, texts
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, render
from posrefund.service import evidence, refunds, sales
from posrefund.service.deposits import holding, payouts, proposals
from posrefund.service.refunds import CustomerInput

router = APIRouter(prefix=PREFIX + "/deposits", route_class=ConsoleRoute, include_in_schema=False)
ROWS = 3  # deduction rows on the form: enough for a damaged room (key, towel, minibar); more by a second proposal
# Not an error of the form: another merchant's deposit, a proposal or payout not found, a forbidden role.
NOT_MINE = ("deposit.not_found", "deposit.proposal_not_found", "deposit.payout_not_found", "auth.forbidden")
MAX_ID = 64


def endings_of(kind: str) -> list[Ending]:
    """The endings the kind allows, in the domain's order (who broke the deal first, the item returned last)."""
    return [e for e in Ending if e in ENDINGS_OF[DepositKind(kind)]]


async def _linked(request: Request, found: dict[str, Any]) -> dict[str, Any]:
    """The refund cases the accepted proposals created, by id, as the deposit page lists them."""
    actor, c = allowed(request, "deposit.read")
    ids = [p["refund_id"] for p in found["proposals"] if p["refund_id"]]
    return {i: (await c.run(refunds.get_case, c.deps, actor, i)).case for i in ids}


async def _page(request: Request, deposit_id: str, status: int = 200, **extra: Any) -> Response:
    actor, c = allowed(request, "deposit.read")
    found = await c.run(holding.get_deposit, c.deps, actor, deposit_id[:MAX_ID])
    sale = await c.run(sales.get_sale, c.deps, actor, found["sale_id"])
    open_ids = [p["id"] for p in found["proposals"] if p["status"] == "proposed"]
    return render(
        request, "deposit.html", status, d=found, terms=found["terms"], sale=sale, cases=await _linked(request, found),
        newest_open=open_ids[-1] if open_ids else "", endings=endings_of(found["kind"]), rows=range(ROWS),
        form=extra.pop("form", {}), kept=extra.pop("kept", {}), errors=extra.pop("errors", None),
        today=c.deps.local_date(c.deps.clock.now()),
    )  # fmt: skip


@router.get("/{deposit_id}")
async def deposit_page(request: Request, deposit_id: str) -> Response:
    return await _page(request, deposit_id)


async def _step(
    request: Request,
    deposit_id: str,
    step: Callable[[Errors], Awaitable[object]],
    field_of: Callable[[DomainError], str | None] | dict[str, str] | None = None,
    **again: Any,
) -> Response:
    """One form on the deposit page: done, back to the page (303); refused, the page again with the message
    where it belongs and the refusal's own status."""
    errors = Errors(lang_of(request))
    with errors.catch(field_of, passing=NOT_MINE) as refused:
        await step(errors)
    if refused.error is None and not errors:
        return RedirectResponse(f"{PREFIX}/deposits/{deposit_id[:MAX_ID]}", status_code=303)
    status = status_of(refused.error) if refused.error is not None else 422
    return await _page(request, deposit_id, status, errors=errors, **again)


def _row_field(rows: list[int]) -> Callable[[DomainError], str | None]:
    """Which form row a deduction's refusal is about (its ``index`` already the form's row, from 1)."""

    def field_of(err: DomainError) -> str | None:
        index = err.params.get("index")
        at = index - 1 if isinstance(index, int) and index > 0 else (rows[-1] if rows else 0)
        if err.code == "deposit.deduction_reason_required":
            return f"reason_{at}"
        if err.code == "deposit.deduction_evidence_required" or err.code.startswith("evidence."):
            return f"evidence_{at}"
        if err.code in ("deposit.ending_not_for_kind", "deposit.invalid_ending"):
            return "ending"
        return None

    return field_of


def _numbered(err: DomainError, rows: list[int]) -> DomainError:
    """The domain counts the deductions sent from 0; the cashier reads the form's rows from 1."""
    index = err.params.get("index")
    if isinstance(index, int) and 0 <= index < len(rows):
        err.params["index"] = rows[index] + 1
    return err


def _amount(text: str, field: str) -> int:
    """A deduction's amount in yuan, more than nothing."""
    fen = fmt.parse_yuan(text, field)
    if fen <= 0:
        raise Invalid("console.invalid_amount", field=field)
    return fen


def _typed_rows(form: FormData) -> tuple[list[int], dict[str, str], dict[int, str]]:
    """The deduction rows filled in (any of amount, reason, a file or evidence kept from an earlier try), the
    text as typed, and the evidence already uploaded per row."""
    text = texts(form, "ending", *(f"{n}_{i}" for i in range(ROWS) for n in ("amount", "reason")))
    kept = {i: str(form.get(f"evidence_id_{i}") or "")[:MAX_ID] for i in range(ROWS)}
    rows = []
    for i in range(ROWS):
        upload = form.get(f"evidence_{i}")
        has_file = isinstance(upload, UploadFile) and bool(upload.filename)
        if text[f"amount_{i}"].strip() or text[f"reason_{i}"].strip() or has_file or kept[i]:
            rows.append(i)
    return rows, text, {i: v for i, v in kept.items() if v}


async def _evidence_of(request: Request, form: FormData, i: int, kept: dict[int, str]) -> str:
    """Row ``i``'s evidence: the file sent now (uploaded, and kept for another try), or the one kept."""
    actor, c = allowed(request, "evidence.upload")
    upload = form.get(f"evidence_{i}")
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read(evidence.MAX_BYTES + 1)
        row = await c.run(
            evidence.upload, c.deps, actor, content=content, filename=upload.filename, kind=EvidenceKind.PHOTO.value
        )
        kept[i] = str(row["id"])
    return kept.get(i, "")


@router.post("/{deposit_id}/propose")
async def propose(request: Request, deposit_id: str) -> Response:
    """How the deal ended and the deductions, each checked by shape before any file is kept."""
    actor, c, form = await posted(request, "deposit.propose")
    rows, text, kept = _typed_rows(form)

    async def step(_errors: Errors) -> None:
        amounts = {i: _amount(text[f"amount_{i}"], f"amount_{i}") for i in rows}
        if text["ending"] not in {e.value for e in Ending}:
            raise Invalid("console.invalid_choice", field="ending")
        deductions = [
            {"amount_fen": amounts[i], "reason": text[f"reason_{i}"][:400].strip(), "evidence_id": ""} for i in rows
        ]
        for item, i in zip(deductions, rows, strict=True):
            try:
                item["evidence_id"] = await _evidence_of(request, form, i, kept)
            except DomainError as err:
                err.params.setdefault("index", i + 1)
                raise
        try:
            await c.run(
                proposals.propose, c.deps, actor, deposit_id[:MAX_ID], ending=text["ending"], deductions=deductions
            )
        except DomainError as err:
            raise _numbered(err, rows) from None

    return await _step(request, deposit_id, step, _row_field(rows), form=text, kept=kept)


_OVERRIDE_FIELDS = {
    "deposit.override_reason_required": "override_reason",
    "deposit.override_exceeds_paid": "back_total",
    "deposit.override_penalty_too_large": "penalty_total",
    "deposit.proposal_closed": "override_reason",
}


@router.post("/{deposit_id}/proposals/{proposal_id}/override")
async def override(request: Request, deposit_id: str, proposal_id: str) -> Response:
    """A supervisor's totals, in yuan, with the reason the trail keeps."""
    actor, c, form = await posted(request, "deposit.decide")
    text = texts(form, "back_total", "penalty_total", "override_reason")

    async def step(_errors: Errors) -> None:
        back = fmt.parse_yuan(text["back_total"], "back_total")
        penalty = fmt.parse_yuan(text["penalty_total"] or "0", "penalty_total")
        reason = fmt.bounded(text["override_reason"], "override_reason", 200)
        await c.run(
            proposals.override, c.deps, actor, deposit_id[:MAX_ID], proposal_id[:MAX_ID],
            back_total_fen=back, penalty_total_fen=penalty, reason=reason,
        )  # fmt: skip

    return await _step(request, deposit_id, step, _OVERRIDE_FIELDS, form=text)


@router.post("/{deposit_id}/proposals/{proposal_id}/accept")
async def accept(request: Request, deposit_id: str, proposal_id: str) -> Response:
    """The proposal accepted: the refund through the refund core and the linked penalty transfer, or nothing."""
    actor, c, form = await posted(request, "deposit.decide")
    text = texts(form, "phone")

    async def step(errors: Errors) -> None:
        phone = fmt.bounded(text["phone"].strip(), "phone", 32)
        customer = CustomerInput(phone=phone or None)
        try:
            await c.run(proposals.accept, c.deps, actor, deposit_id[:MAX_ID], proposal_id[:MAX_ID], customer=customer)
        except DomainError as err:
            if err.code in NOT_MINE:
                raise
            for rule in err.params.get("rules") or []:  # the refund policy's refusals, each in its own words
                errors.form.append(errors.text(Invalid(str(rule["code"]), **dict(rule.get("params") or {}))))
            if not errors:
                raise

    field_of = {"policy.customer_phone_required": "phone", "pii.invalid_phone": "phone"}
    return await _step(request, deposit_id, step, field_of, form=text)


@router.post("/{deposit_id}/payouts/{payout_id}/{step_name}")
async def payout_step(request: Request, deposit_id: str, payout_id: str, step_name: str) -> Response:
    """confirm (finance, supervisor, admin) or cancel (supervisor, admin) a penalty transfer, never by who
    accepted the proposal that made it."""
    if step_name not in ("confirm", "cancel"):
        raise Invalid("console.invalid_choice", field="step")
    confirm = step_name == "confirm"
    actor, c, form = await posted(request, "deposit.confirm_payout" if confirm else "deposit.decide")
    text = texts(form, "reference", "cancel_reason", "account_last4")

    async def step(_errors: Errors) -> None:
        if confirm:
            said = text["reference"][:200], text["account_last4"][:32]
            await c.run(payouts.confirm_payout, c.deps, actor, payout_id[:MAX_ID], *said)
        else:
            await c.run(payouts.cancel_payout, c.deps, actor, payout_id[:MAX_ID], text["cancel_reason"][:400])

    field_of = {
        "deposit.reference_required": "reference",
        "deposit.cancel_reason_required": "cancel_reason",
        "deposit.second_person_required": "reference" if confirm else "cancel_reason",
        "deposit.invalid_field": "account_last4",
        "pan_detected": "account_last4",
    }
    shown_again = {k: v for k, v in text.items() if k != "account_last4"}  # a card number typed is never echoed
    return await _step(request, deposit_id, step, field_of, form=shown_again)
