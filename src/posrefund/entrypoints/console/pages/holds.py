"""Money held on a customer's card or wallet, not taken (预授权和资金冻结): the open holds as a section of the
deposits page, the counter's lookup by voucher, and one hold's page with its references, its operations and the
forms to complete it for the final bill, release it or cancel a completion the same day. Every rule is
``service.fund_holds``'s and the domain's: the page shows the completion ceiling the domain computes, and a
refused form is shown again in plain words with nothing queued. The worker executes what was asked; the page
shows the operation waiting, then its outcome."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import Invalid, NotFound
from posrefund.domain.fund_hold import HoldState, HoldStep, completion_ceiling, held_fen
from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.api.errors import status_of
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, texts
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, may, render
from posrefund.ports.deposits import DeskFilter
from posrefund.ports.fund_holds import OPEN_OPERATIONS, HoldRecord
from posrefund.service import admin, fund_holds, sales
from posrefund.service.fund_holds.asking import PERMISSION

router = APIRouter(prefix=PREFIX + "/holds", route_class=ConsoleRoute, include_in_schema=False)
# Holds whose validity ends within this are flagged on the list (as ``GET /v1/holds/expiring`` by default).
EXPIRING_WINDOW = timedelta(days=3)
MAX_ID = 64
STEPS = {"complete": HoldStep.COMPLETE, "release": HoldStep.RELEASE, "cancel-completion": HoldStep.CANCEL_COMPLETION}
# Not a refusal of the form: another merchant's hold (404) or a role without the permission (403).
NOT_MINE = ("hold.not_found", "auth.forbidden")
FIELD_OF = {"hold.above_ceiling": "amount", "hold.invalid_amount": "amount", "console.invalid_amount": "amount"}
LOOKUP_LIMIT = 500


async def open_holds(actor: Actor, c: AppContext, chosen: DeskFilter) -> dict[str, Any]:
    """The deposits page's section: holds still held (newest first) and which of them end within the warning
    window (the service's expiring list). The deposits' own filters (kind, state) do not apply to holds."""
    held = await c.run(fund_holds.list_holds, c.deps, actor, frozenset({HoldState.HELD}))
    soon = await c.run(fund_holds.expiring_holds, c.deps, actor, EXPIRING_WINDOW)
    return {"holds": held, "expiring": {h.id for h in soon}, "window_days": EXPIRING_WINDOW.days}


async def find_holds(actor: Actor, c: AppContext, q: str) -> list[HoldRecord]:
    """The counter's lookup: the holds whose voucher (as printed, leading zeros or not), our hold number or
    RRN is what was typed. Empty for a role that may not read holds."""
    key = q.strip()
    if not key or not may(actor, "hold.read"):
        return []
    every = await c.run(fund_holds.list_holds, c.deps, actor, frozenset(), LOOKUP_LIMIT)
    voucher = key.zfill(6) if key.isdigit() and len(key) <= 6 else key
    return [h for h in every if voucher == h.held.voucher_no.zfill(6) or key in (h.held.hold_no, h.held.rrn)]


def masked(reference: str, shown: int = 4) -> str:
    """A reference the counter matches by its end (the RRN): the rest hidden."""
    return "*" * max(len(reference) - shown, 0) + reference[-shown:] if reference else "—"


async def _page(request: Request, hold_id: str, status: int = 200, **extra: Any) -> Response:
    actor, c = allowed(request, "hold.read")
    hold, operations = await c.run(fund_holds.get_hold, c.deps, actor, hold_id[:MAX_ID])
    sale = await c.run(sales.get_sale, c.deps, actor, hold.sale_id) if hold.sale_id else None
    names = await c.run(admin.staff_names, c.deps, actor) if may(actor, "merchant.read") else {}
    now = c.deps.clock.now()
    state = HoldState.EXPIRED if hold.status.state is HoldState.HELD and now >= hold.held.expires_at else None
    return render(
        request, "hold.html", status, h=hold, held=hold.held, state=(state or hold.status.state).value,
        operations=list(reversed(operations)), sale=sale, ceiling_fen=completion_ceiling(hold.held),
        still_held_fen=held_fen(hold.held, hold.status), rrn=masked(hold.held.rrn), names=names,
        waiting=any(op.status in OPEN_OPERATIONS for op in operations),
        expiring=hold.status.state is HoldState.HELD and now < hold.held.expires_at <= now + EXPIRING_WINDOW,
        form=extra.pop("form", {}), errors=extra.pop("errors", None),
    )  # fmt: skip


@router.get("/{hold_id}")
async def hold_page(request: Request, hold_id: str) -> Response:
    return await _page(request, hold_id)


def _amount(text: str) -> int:
    """The final bill in yuan, more than nothing (the ceiling is the domain's to check)."""
    fen = fmt.parse_yuan(text.strip(), "amount")
    if fen <= 0:
        raise Invalid("console.invalid_amount", field="amount")
    return fen


@router.post("/{hold_id}/{step}")
async def ask_step(request: Request, hold_id: str, step: str) -> Response:
    """Ask the worker to complete, release or cancel the completion: done, back to the hold's page (303), where
    the operation shows as waiting; refused, the page again with the reason and nothing queued."""
    which = STEPS.get(step)
    if which is None:
        raise NotFound("request.not_found")
    actor, c, form = await posted(request, PERMISSION[which])
    text = texts(form, "amount", "reason")
    errors = Errors(lang_of(request))
    with errors.catch(FIELD_OF, passing=NOT_MINE) as refused:
        amount = _amount(text["amount"]) if which is HoldStep.COMPLETE else 0
        await c.run(fund_holds.ask, c.deps, actor, hold_id[:MAX_ID], which, amount, text["reason"][:500])
    if refused.error is None and not errors:
        return RedirectResponse(f"{PREFIX}/holds/{hold_id[:MAX_ID]}", status_code=303)
    status = status_of(refused.error) if refused.error is not None else 422
    return await _page(request, hold_id, status, errors=errors, form=text)
