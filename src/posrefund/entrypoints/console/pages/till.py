"""The till check in the console (日结 / 现金盘点): the cashier enters the shift (terminal, opened, closed), the
float and the counted cash — by denomination or as a total — and sees at once what the drawer should hold and
the difference; a supervisor opens the shift and signs it off. Every rule is ``service.till``'s; this module
reads the form by shape (yuan typed, fen kept), places errors beside their fields and renders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import Invalid
from posrefund.domain.till import DENOMINATIONS
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, signed_in
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, render
from posrefund.service import admin, till

router = APIRouter(prefix=PREFIX + "/till", route_class=ConsoleRoute, include_in_schema=False)
FIELDS = ("terminal_id", "opened_at", "closed_at", "float", "counted")
_TILL_CODES = (
    "till.negative_amount",
    "till.bad_denomination",
    "till.count_required",
    "till.bad_window",
    "till.shift_overlaps",
    "till.terminal_not_found",
    "console.invalid_amount",
    "console.invalid_number",
    "console.invalid_date",
)


async def _page(request: Request, status: int = 200, **extra: Any) -> Response:
    actor, c = allowed(request, "till.read")
    rows = await c.run(till.list_tills, c.deps, actor, 50)
    terminals = await c.run(admin.list_terminals, c.deps, actor)
    now = c.deps.clock.now().astimezone(fmt.SHANGHAI)
    form = {
        "terminal_id": terminals[0]["id"] if terminals else "",
        "opened_at": (now - timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        "closed_at": now.strftime("%Y-%m-%dT%H:%M"),
        "float": "500.00",
        "counted": "",
    } | extra.pop("form", {})
    return render(
        request,
        "till.html",
        status,
        rows=rows,
        terminals=terminals,
        denominations=DENOMINATIONS,
        form=form,
        errors=extra.pop("errors", None) or Errors(lang_of(request)),
        **extra,
    )


@router.get("")
async def till_page(request: Request) -> Response:
    return await _page(request)


def _pieces(form: FormData) -> dict[str, int] | None:
    """Pieces per face value, where any was typed (a negative count is the service's to refuse)."""
    typed = {str(f): str(form.get(f"d_{f}") or "").strip() for f in DENOMINATIONS}
    if not any(typed.values()):
        return None
    out: dict[str, int] = {}
    for face, text in typed.items():
        if text:
            number = text.lstrip("-")
            if not number.isdigit() or len(number) > 9:
                raise Invalid("console.invalid_number", field=f"d_{face}")
            out[face] = -int(number) if text.startswith("-") else int(number)
    return out


def _yuan(text: str, field: str) -> int:
    value = text.strip()
    if value.startswith("-"):
        raise Invalid("till.negative_amount", field=field)
    return fmt.parse_yuan(value, field)


@router.post("")
async def count(request: Request) -> Response:
    actor, c, form = await posted(request, "till.count")
    text = {k: str(form.get(k) or "")[:40] for k in FIELDS}
    errors = Errors(lang_of(request))
    field_of = {"till.count_required": "counted", "till.bad_window": "closed_at", "till.shift_overlaps": "closed_at"}
    row = None
    with errors.catch(field_of, only=_TILL_CODES):
        counted = _yuan(text["counted"], "counted") if text["counted"].strip() else None
        entered = till.TillCount(
            terminal_id=text["terminal_id"],
            opened_at=fmt.parse_moment(text["opened_at"], "opened_at"),
            closed_at=fmt.parse_moment(text["closed_at"], "closed_at"),
            float_fen=_yuan(text["float"], "float"),
            counted_fen=counted,
            denominations=_pieces(form),
        )
        row = await c.run(till.count_till, c.deps, actor, entered)
    if row is None:
        return await _page(
            request, 422, form=text | {f"d_{f}": str(form.get(f"d_{f}") or "") for f in DENOMINATIONS}, errors=errors
        )
    return RedirectResponse(f"{PREFIX}/till/{row['id']}", status_code=303)


async def _shift(request: Request, till_id: str, status: int = 200, **extra: Any) -> Response:
    actor, c = signed_in(request)
    row = await c.run(till.get_till, c.deps, actor, till_id[:64])
    return render(
        request,
        "till_shift.html",
        status,
        t=row,
        events=row["events"],
        note=extra.pop("note", ""),
        errors=extra.pop("errors", None) or Errors(lang_of(request)),
    )


@router.get("/{till_id}")
async def shift_page(request: Request, till_id: str) -> Response:
    return await _shift(request, till_id)


@router.post("/{till_id}/sign-off")
async def sign_off(request: Request, till_id: str) -> Response:
    actor, c, form = await posted(request, "till.sign_off")
    note = str(form.get("note") or "")
    errors = Errors(lang_of(request))
    with errors.catch({"till.note_required": "note", "request.field_too_long": "note"}, only=_SIGN_OFF_CODES):
        await c.run(till.sign_off, c.deps, actor, till_id[:64], note[:1_100])
    if errors:
        return await _shift(request, till_id, 422, errors=errors, note=note)
    return RedirectResponse(f"{PREFIX}/till/{till_id[:64]}", status_code=303)


_SIGN_OFF_CODES = ("till.note_required", "till.already_signed_off", "request.field_too_long")
