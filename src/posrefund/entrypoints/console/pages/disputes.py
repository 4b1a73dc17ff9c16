"""Disputes (争议): the list with age and status filters, opening one from a case, and the dispute page —
the claim, evidence (uploaded or picked from the case's, images inline), escalation to a third party and
the outcome. Everything goes through ``service/disputes.py``; its events are on the case's timeline."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import Invalid
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import NOT_MINE, Errors
from posrefund.entrypoints.console.forms import posted, signed_in, texts
from posrefund.entrypoints.console.pages.case_notifications import section_page
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, lang_of, render, submit
from posrefund.ports import AuditEventRow
from posrefund.service import admin, disputes, evidence, refunds
from posrefund.service.disputes import Outcome

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
STATUSES = ("open", "escalated", "upheld", "rejected")
MAX_FILES = 5
# Service codes → the field they are about, where the service does not name it itself.
FIELD_OF = {
    "refund.amount_not_positive": "claimed",
    "dispute.amount_required": "amount",
    "dispute.invalid_party": "to",
    "dispute.invalid_outcome": "outcome",
    "dispute.evidence_required": "evidence",
    "dispute.too_much_evidence": "evidence",
    "evidence.not_found": "evidence",
    "evidence.empty": "evidence",
    "evidence.too_large": "evidence",
    "evidence.type_not_allowed": "evidence",
    "evidence.invalid_kind": "evidence",
}


@router.get("/disputes")
async def dispute_list(request: Request, status: str = "", min_days: str = "") -> Response:
    actor, c = signed_in(request)
    errors = Errors(lang_of(request))
    wanted = status if status in STATUSES else None
    least = 0
    with errors.catch():
        least = fmt.parse_count(min_days, "min_days", high=3650) if min_days.strip() else 0
    rows = await c.run(disputes.list_disputes, c.deps, actor, wanted, None, 200)
    rows = [r for r in rows if r["age_days"] >= least]
    refund_nos: dict[str, str] = {}
    for r in rows:
        if r["case_id"] not in refund_nos:
            view = await c.run(refunds.get_case, c.deps, actor, r["case_id"])
            refund_nos[r["case_id"]] = view.case.refund_no
    return render(
        request,
        "disputes.html",
        422 if errors else 200,
        rows=rows,
        refund_nos=refund_nos,
        chosen=wanted or "",
        min_days=min_days[:12],
        statuses=STATUSES,
        errors=errors,
    )


async def _uploads(request: Request, form: Any, kind: str) -> list[str]:
    """Files sent with a form become evidence of the merchant (``evidence.upload`` checks type and size)."""
    actor, c = signed_in(request)
    ids = []
    for f in [f for f in form.getlist("evidence") if isinstance(f, UploadFile) and f.filename][:MAX_FILES]:
        content = await f.read(evidence.MAX_BYTES + 1)
        row = await c.run(evidence.upload, c.deps, actor, content=content, filename=f.filename or "", kind=kind)
        ids.append(str(row["id"]))
    return ids


def _picked(form: Any) -> list[str]:
    return [v for v in form.getlist("evidence_id") if isinstance(v, str) and 0 < len(v) <= 64][:20]


@router.post("/cases/{case_id}/disputes")
async def open_dispute(request: Request, case_id: str) -> Response:
    """Open a dispute on a case with the customer's claim, the amount claimed and evidence."""
    actor, c, form = await posted(request)
    errors = Errors(lang_of(request))
    typed = texts(form, "claim", "claimed")
    ids = _picked(form)
    with errors.catch(FIELD_OF, passing=NOT_MINE):
        claimed = fmt.parse_yuan(typed["claimed"], "claimed") if typed["claimed"].strip() else None
        claim = fmt.bounded(typed["claim"], "claim", disputes.MAX_TEXT)
        await c.run(refunds.get_case, c.deps, actor, case_id[:64])  # a case of this merchant before any upload
        ids += await _uploads(request, form, "communication")
        row = await c.run(disputes.open_dispute, c.deps, actor, case_id[:64], claim, claimed, ids)
    if errors:
        # files uploaded by a refused try come back ticked: sent again, they are not uploaded twice
        kept = [f for f in await c.run(evidence.list_for, c.deps, actor, ids) if f["id"] in ids] if ids else []
        return await section_page(request, case_id, 422, errors=errors, typed=typed, kept=kept)
    return RedirectResponse(f"{PREFIX}/disputes/{row['id']}", status_code=303)


async def _dispute_page(request: Request, dispute_id: str, status: int = 200, **extra: Any) -> Response:
    actor, c = signed_in(request)
    row = await c.run(disputes.get, c.deps, actor, dispute_id[:64])
    view = await c.run(refunds.get_case, c.deps, actor, row["case_id"])
    files = await c.run(evidence.list_for, c.deps, actor, row["evidence_ids"])
    case_files = await c.run(evidence.list_for, c.deps, actor, view.case.evidence_ids)
    events = await c.run(refunds.case_events, c.deps, actor, view.case.id)
    mine = [e for e in events if e["action"].startswith("dispute.") and _data(e).get("dispute_id") == row["id"]]
    names = await c.run(admin.staff_names, c.deps, actor)
    new_case = None
    if row["new_case_id"]:
        new_case = (await c.run(refunds.get_case, c.deps, actor, row["new_case_id"])).case
    return render(
        request,
        "dispute.html",
        status,
        d=row,
        case=view.case,
        files=files,
        other_files=[f for f in case_files if f["id"] not in row["evidence_ids"]],
        events=mine,
        names=names,
        new_case=new_case,
        parties=disputes.THIRD_PARTIES,
        is_open=row["status"] in disputes.OPEN,
        typed=extra.pop("typed", {}),
        **extra,
    )


def _data(event: AuditEventRow) -> dict[str, Any]:
    try:
        data = json.loads(event["data"] or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@router.get("/disputes/{dispute_id}")
async def dispute_page(request: Request, dispute_id: str) -> Response:
    return await _dispute_page(request, dispute_id)


async def _act(request: Request, dispute_id: str, action: Any, typed: dict[str, str]) -> Response:
    """Run one step of the dispute; its errors go back beside their fields and nothing changes."""
    return await submit(
        request,
        action,
        lambda errors: _dispute_page(request, dispute_id, 422, errors=errors, typed=typed),
        f"{PREFIX}/disputes/{dispute_id[:64]}",
        FIELD_OF,
        passing=(*NOT_MINE, "dispute.not_found"),
    )


@router.post("/disputes/{dispute_id}/evidence")
async def add_evidence(request: Request, dispute_id: str) -> Response:
    actor, c, form = await posted(request)

    async def step() -> None:
        await c.run(disputes.get, c.deps, actor, dispute_id[:64])  # this merchant's dispute before any upload
        actor.require("dispute.manage")
        ids = _picked(form) + await _uploads(request, form, "communication")
        await c.run(disputes.add_evidence, c.deps, actor, dispute_id[:64], ids)

    return await _act(request, dispute_id, step, {})


@router.post("/disputes/{dispute_id}/escalate")
async def escalate(request: Request, dispute_id: str) -> Response:
    actor, c, form = await posted(request)
    typed = texts(form, "to", "reference")

    async def step() -> None:
        reference = fmt.bounded(typed["reference"], "reference", 64)
        await c.run(disputes.escalate, c.deps, actor, dispute_id[:64], typed["to"], reference)

    return await _act(request, dispute_id, step, typed)


@router.post("/disputes/{dispute_id}/decide")
async def decide(request: Request, dispute_id: str) -> Response:
    """Upheld → a new refund through the normal flow (linked on the page); rejected → the reason is sent."""
    actor, c, form = await posted(request)
    typed = texts(form, "outcome", "reason", "amount")

    async def step() -> None:
        if typed["outcome"] not in ("upheld", "rejected"):
            raise Invalid("console.invalid_choice", field="outcome")
        reason = fmt.bounded(typed["reason"], "reason", disputes.MAX_TEXT)
        amount = fmt.parse_yuan(typed["amount"], "amount") if typed["amount"].strip() else None
        await c.run(disputes.decide, c.deps, actor, dispute_id[:64], Outcome(typed["outcome"], reason, amount))

    return await _act(request, dispute_id, step, typed)
