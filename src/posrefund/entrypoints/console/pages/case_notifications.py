"""Notifications on a case (every message with every attempt), the customer's contact settings and
opt-out, the contact log, the tracking link for staff who may share it, and the follow-up queue (后续跟进).

The case page includes ``case_notifications_slot.html``, which loads this section with htmx; the same section
is a page of its own (``/cases/{id}/notify``) without JavaScript and when a form comes back with errors.
Every rule is the service layer's (``notify_admin``, ``followup``, ``disputes``, ``tracking_share``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from posrefund.domain.pii import CARD_DATA_CODES
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import NOT_MINE, FieldOf
from posrefund.entrypoints.console.forms import posted, signed_in, texts
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, may, render, submit
from posrefund.service import admin, disputes, evidence, refunds
from posrefund.service.notifications import follow_up, tracking_share
from posrefund.service.notifications import settings as notification_settings
from posrefund.service.notifications.settings import ContactInput

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
CONTACT_FIELDS = {
    "notify.unknown_language": "language",
    "notify.invalid_email": "email",
    "notify.invalid_openid": "wechat_openid",
}


async def _section(request: Request, case_id: str) -> dict[str, Any]:
    actor, c = signed_in(request)
    view = await c.run(refunds.get_case, c.deps, actor, case_id)
    sent = await c.run(notification_settings.case_notifications, c.deps, actor, view.case.id)
    log = await c.run(follow_up.contacts, c.deps, actor, view.case.id)
    case_disputes = await c.run(disputes.list_disputes, c.deps, actor, None, view.case.id)
    names = await c.run(admin.staff_names, c.deps, actor)
    files = []
    if may(actor, "dispute.manage"):  # the case's evidence, to pick for a new dispute
        files = await c.run(evidence.list_for, c.deps, actor, view.case.evidence_ids)
    return {
        "case": view.case,
        "contact": sent["contact"],
        "notifications": sent["items"],
        "contact_log": log,
        "case_disputes": case_disputes,
        "names": names,
        "case_files": files,
    }


async def section_page(request: Request, case_id: str, status: int = 200, **extra: Any) -> Response:
    """The whole section as a page: what a form answers with (errors beside their fields, or the link)."""
    values = await _section(request, case_id[:64])
    return render(request, "case_notifications_page.html", status, standalone=True, **values, **extra)


@router.get("/cases/{case_id}/notify")
async def case_section(request: Request, case_id: str, part: str = "") -> Response:
    if part == "1":  # the fragment the case page loads
        values = await _section(request, case_id[:64])
        return render(request, "case_notifications.html", **values)
    return await section_page(request, case_id)


async def _on_section(
    request: Request, case_id: str, step: Callable[[], Awaitable[None]], field_of: FieldOf, **typed: Any
) -> Response:
    """One step on the case's notification settings: done, back to the section; refused, the section again
    with each message beside its field and what was typed."""
    done = f"{PREFIX}/cases/{case_id[:64]}#notify"
    return await submit(request, step, lambda e: section_page(request, case_id, 422, errors=e, **typed), done, field_of)


@router.post("/cases/{case_id}/notify/contact")
async def set_contact(request: Request, case_id: str) -> Response:
    """Language, e-mail and WeChat openid of the customer for this case; an empty address is left as it was."""
    actor, c, form = await posted(request)
    text = texts(form, "language", "email", "wechat_openid")

    async def step() -> None:
        inp = ContactInput(
            language=fmt.bounded(text["language"], "language", 5),
            email=fmt.bounded(text["email"], "email", 254) or None,
            wechat_openid=fmt.bounded(text["wechat_openid"], "wechat_openid", 64) or None,
        )
        await c.run(notification_settings.set_contact, c.deps, actor, case_id[:64], inp)

    return await _on_section(request, case_id, step, CONTACT_FIELDS, typed=text)


@router.post("/cases/{case_id}/notify/opt-out")
async def opt_out(request: Request, case_id: str) -> Response:
    """Stop messages for this case, or for every case of the customer's phone number."""
    actor, c, form = await posted(request)

    async def step() -> None:
        scope = fmt.bounded(str(form.get("scope") or ""), "scope", 20)
        await c.run(notification_settings.opt_out, c.deps, actor, case_id[:64], scope)

    return await _on_section(request, case_id, step, {"notify.invalid_scope": "scope"})


@router.post("/cases/{case_id}/notify/link")
async def tracking_link(request: Request, case_id: str) -> Response:
    """The customer's tracking link, shown once per request (each showing is audited), ready to copy."""
    actor, c = signed_in(request)
    link = await c.run(tracking_share.staff_link, c.deps, actor, c.notify_router, case_id[:64])
    return await section_page(request, case_id, link=link)


@router.get("/followups")
async def followup_queue(request: Request) -> Response:
    return await _queue(request, closed=bool(request.query_params.get("closed")))


async def _queue(request: Request, status: int = 200, **extra: Any) -> Response:
    actor, c = signed_in(request)
    rows = await c.run(follow_up.list_followups, c.deps, actor, "open", 200)  # oldest due first
    return render(request, "followups.html", status, rows=rows, **extra)


@router.post("/followups/{case_id}/close")
async def close_followup(request: Request, case_id: str) -> Response:
    """Customer service confirmed with the customer that the money arrived: the follow-up closes."""
    actor, c, form = await posted(request)
    note = str(form.get("note") or "")
    key = f"note-{case_id[:64]}"

    async def step() -> None:
        await c.run(follow_up.close_by_staff, c.deps, actor, case_id[:64], fmt.bounded(note, key, 1000))

    return await submit(
        request,
        step,
        lambda errors: _queue(request, 422, errors=errors, typed={key: note}),
        f"{PREFIX}/followups?closed={case_id[:64]}",
        {"request.field_too_long": key, **dict.fromkeys(CARD_DATA_CODES, key), "console.too_long": key},
        passing=(*NOT_MINE, "followup.not_found"),
    )
