"""The supervisor's review queue (待审核), the case page with its live status, review, reveal and notes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from posrefund.domain.errors import Invalid
from posrefund.domain.refund import TERMINAL
from posrefund.domain.review import check_reviewer
from posrefund.domain.roles import Actor
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.case_steps import steps_for
from posrefund.entrypoints.console.form_errors import NOT_MINE, Errors
from posrefund.entrypoints.console.forms import posted, signed_in
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, lang_of, may, render, submit
from posrefund.service import admin, evidence, execution, policies, refunds, sales
from posrefund.service.notifications import follow_up
from posrefund.service.refunds import CaseView
from posrefund.service.risk import holds

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
POLL_SECONDS = 3


@router.get("/review")
async def review_queue(request: Request) -> Response:
    actor, c = signed_in(request)
    views, total = await c.run(refunds.pending_review, c.deps, actor)
    now = c.deps.clock.now()
    lang = lang_of(request)
    rows = [(v, fmt.age(v.case.created_at, now, lang)) for v in views]
    return render(request, "review.html", rows=rows, total=total)


def _may_review(actor: Actor, view: CaseView, policy: Any, lang: str) -> str | None:
    """Why this operator may not approve this case now (in words), or None when they may."""
    why = Errors(lang)
    with why.catch(place=why.note):
        check_reviewer(policy, actor, view.case.requested_by, view.case.amount_fen, view.case.approved_by)
    return why.form[0] if why else None


async def show_case(request: Request, case_id: str, status: int = 200, **extra: Any) -> Response:
    actor, c = signed_in(request)
    lang = lang_of(request)
    case_id = case_id[:64]
    view = await c.run(refunds.get_case, c.deps, actor, case_id)
    sale = await c.run(sales.get_sale, c.deps, actor, view.case.sale_id)
    _case, units, lines = await c.run(sales.case_items, c.deps, actor, case_id)
    events = await c.run(refunds.case_events, c.deps, actor, case_id)
    attempts = await c.run(execution.attempts_of, c.deps, actor, case_id)
    history = await c.run(refunds.customer_history, c.deps, actor, case_id)
    names = await c.run(admin.staff_names, c.deps, actor)
    files = await c.run(evidence.list_for, c.deps, actor, view.case.evidence_ids)
    policy = await c.run(policies.get_policy, c.deps, actor)
    hold = await c.run(holds.hold_of, c.deps, actor, case_id)  # a high risk alert's hold, if one was placed
    review_block = _may_review(actor, view, policy, lang) if may(actor, "refund.review") else None
    return render(
        request,
        "case.html",
        status,
        view=view,
        case=view.case,
        sale=sale,
        units=units,
        line_names={line.line: line.name for line in lines},
        events=events,
        attempts=attempts,
        history=history,
        names=names,
        files=files,
        policy=policy,
        review_block=review_block,
        steps=steps_for(actor, view.case, lang),
        typed=extra.pop("typed", {}),
        notified=request.query_params.get("notified") == "1",
        poll=view.case.status not in TERMINAL,
        poll_seconds=POLL_SECONDS,
        revealed=extra.pop("revealed", None),
        hold=hold,
        **extra,
    )


async def _act_on_case(
    request: Request,
    case_id: str,
    step: Callable[[], Awaitable[None]],
    fields: dict[str, str],
    **typed: Any,
) -> Response:
    """Run one action on a case, then back to the case; a refused form shows the case page again with each
    error next to its field and what the operator typed still in place."""
    return await submit(
        request,
        step,
        lambda errors: show_case(request, case_id, 422, errors=errors, **typed),
        f"{PREFIX}/cases/{case_id[:64]}",
        fields,
    )


@router.get("/cases/{case_id}")
async def case_page(request: Request, case_id: str) -> Response:
    return await show_case(request, case_id)


@router.get("/cases/{case_id}/live")
async def live(request: Request, case_id: str) -> Response:
    """The fragment htmx polls: status, channel answer and timeline; polling stops once the case is final."""
    actor, c = signed_in(request)
    view = await c.run(refunds.get_case, c.deps, actor, case_id[:64])
    events = await c.run(refunds.case_events, c.deps, actor, view.case.id)
    names = await c.run(admin.staff_names, c.deps, actor)
    return render(
        request,
        "case_live.html",
        case=view.case,
        events=events,
        names=names,
        poll=view.case.status not in TERMINAL,
        poll_seconds=POLL_SECONDS,
    )


@router.post("/cases/{case_id}/review")
async def review(request: Request, case_id: str) -> Response:
    """Approve or reject with a reason, in one step; the domain enforces (and the page shows) the rules."""
    actor, c, form = await posted(request)
    decision = str(form.get("decision") or "")
    reason = str(form.get("reason") or "")

    async def step() -> None:
        fmt.bounded(reason, "reason", 500)
        if decision == "approve":
            await c.run(refunds.approve, c.deps, actor, case_id[:64], reason)
        elif decision == "reject":
            await c.run(refunds.reject, c.deps, actor, case_id[:64], reason)
        else:
            raise Invalid("console.invalid_choice", field="decision")

    fields = {"review.reason_required": "reason", "review.reason_too_long": "reason"}
    return await _act_on_case(request, case_id, step, fields, reason=reason)


@router.post("/cases/{case_id}/reveal")
async def reveal(request: Request, case_id: str) -> Response:
    """The customer's contact in clear for a role allowed to call them, with a stated purpose (audited)."""
    actor, c, form = await posted(request)
    purpose = str(form.get("purpose") or "")
    errors = Errors(lang_of(request))
    with errors.catch({"pii.purpose_required": "purpose"}, passing=NOT_MINE):
        fmt.bounded(purpose, "purpose", 200)
        clear = await c.run(refunds.reveal_customer, c.deps, actor, case_id[:64], purpose)
    if errors:
        return await show_case(request, case_id, 422, errors=errors)
    return await show_case(request, case_id, revealed=clear)


@router.post("/cases/{case_id}/contact")
async def note_contact(request: Request, case_id: str) -> Response:
    actor, c, form = await posted(request)

    async def step() -> None:
        await c.run(
            follow_up.note_contact,
            c.deps,
            actor,
            case_id[:64],
            channel=str(form.get("channel") or ""),
            note=fmt.bounded(str(form.get("note") or ""), "note", 500),
            escalate=form.get("escalate") == "1",
        )

    return await _act_on_case(request, case_id, step, {"followup.invalid_channel": "channel"})


@router.get("/evidence/{evidence_id}")
async def evidence_file(request: Request, evidence_id: str) -> Response:
    """An evidence file of the operator's own merchant, served with its sniffed type (never the client's)."""
    actor, c = signed_in(request)
    row, content = await c.run(evidence.get, c.deps, actor, evidence_id[:64])
    return Response(
        content,
        media_type=str(row["content_type"]),
        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"},
    )
