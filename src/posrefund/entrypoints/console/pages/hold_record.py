"""Recording a hold at the counter: a card 预授权 the terminal already made, copied from its slip (batch, voucher,
auth code, reference number, amount, time, the card's last four), and an Alipay freeze (资金授权冻结) asked with
the payment code the payer shows. The same service calls as ``POST /v1/holds`` and ``POST /v1/holds/alipay``,
with their rules and their role check (``hold.record``); the page only turns what people type (yuan, a local
time, four digits) into what the service takes.

The full card number is never taken: only its last four are asked, and the console's card guard refuses a form
that carries one before it is read. The payer's code goes to Alipay once and is never stored nor shown back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import DomainError, Invalid
from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.api.errors import status_of
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, texts
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, render
from posrefund.ports.fund_holds import HoldRecord
from posrefund.service import admin, fund_holds
from posrefund.service.fund_holds import AlipayHoldInput, CardHoldInput, HoldWorker

router = APIRouter(prefix=PREFIX + "/holds/new", route_class=ConsoleRoute, include_in_schema=False)
PEOPLES_TIME = ZoneInfo("Asia/Shanghai")
FREEZE_DAYS = 30  # the end of a freeze offered by default: a month's stay
CARD_FIELDS = ("terminal_id", "amount", "held_at", "batch_no", "voucher_no", "auth_code", "rrn", "card_last4")
ALIPAY_FIELDS = ("terminal_id", "amount", "title", "expires_on")  # never the payer's code
# The service's field → the form's (the message names it in the operator's language: ``entrypoints.wording``).
FORM_FIELD = {
    "amount_fen": "amount",
    "card_masked": "card_last4",
    "expires_at": "expires_on",
    "payer_masked": "card_last4",
}
FIELD_OF_CODE = {
    "console.invalid_amount": "amount",
    "terminal.not_found": "terminal_id",
    "hold.duplicate": "voucher_no",
    "hold.channel_unavailable": "payer_code",
    "pii.payer_not_masked": "card_last4",
}
NOT_MINE = ("auth.forbidden",)


async def _page(request: Request, status: int = 200, **extra: Any) -> Response:
    actor, c = allowed(request, "hold.record")
    terminals = await c.run(admin.list_terminals, c.deps, actor)
    today = c.deps.clock.now().astimezone(PEOPLES_TIME)
    defaults = {
        "held_at": today.strftime("%Y-%m-%dT%H:%M"),
        "expires_on": (today.date() + timedelta(days=FREEZE_DAYS)).isoformat(),
        "terminal_id": terminals[0]["id"] if len(terminals) == 1 else "",
    }
    return render(
        request, "hold_new.html", status, terminals=terminals, which=extra.pop("which", ""),
        form={**defaults, **extra.pop("form", {})}, errors=extra.pop("errors", None),
    )  # fmt: skip


@router.get("")
async def new_hold(request: Request) -> Response:
    return await _page(request)


def _field_of(err: DomainError) -> str | None:
    """Which form field a refusal is about."""
    named = str(err.params.get("field", ""))
    return FIELD_OF_CODE.get(err.code) or FORM_FIELD.get(named, named) or None


def _amount(text: str) -> int:
    fen = fmt.parse_yuan(text, "amount")
    if fen <= 0:
        raise Invalid("console.invalid_amount", field="amount")
    return fen


def _local(text: str, field: str, end_of_day: bool = False) -> datetime:
    """A date (the day's last second) or a date and time typed at the counter, in Beijing time."""
    try:
        if end_of_day:
            day = datetime.fromisoformat(text.strip()).date()
            return datetime.combine(day, time(23, 59, 59), PEOPLES_TIME)
        return datetime.fromisoformat(text.strip()).replace(tzinfo=PEOPLES_TIME)
    except ValueError:
        raise Invalid("hold.invalid_field", field=field) from None


def _card_masked(last4: str) -> str:
    text = last4.strip()
    if text and not (len(text) == 4 and text.isascii() and text.isdigit()):
        raise Invalid("hold.invalid_field", field="card_last4")
    return f"****{text}" if text else ""


Made = Callable[[Actor, AppContext, FormData, dict[str, str]], Awaitable[HoldRecord]]


async def _submit(request: Request, which: str, fields: tuple[str, ...], make: Made) -> Response:
    """One of the page's forms: ``make`` asks the service. Done: the hold's own page (303). Refused: this page
    again, the reason beside its field, with what was typed (never a card number nor the payer's code)."""
    actor, c, form = await posted(request, "hold.record")
    text = texts(form, *fields)
    errors = Errors(lang_of(request))
    with errors.catch(_field_of, passing=NOT_MINE) as refused:
        hold = await make(actor, c, form, text)
    if refused.error is None and not errors:
        return RedirectResponse(f"{PREFIX}/holds/{hold.id}", status_code=303)
    status = status_of(refused.error) if refused.error is not None else 422
    return await _page(request, status, errors=errors, form=text, which=which)


async def _card(actor: Actor, c: AppContext, _form: FormData, text: dict[str, str]) -> HoldRecord:
    """A 预授权 from its slip, as ``POST /v1/holds`` records it."""
    slip = CardHoldInput(
        terminal_id=text["terminal_id"][:40], amount_fen=_amount(text["amount"]),
        held_at=_local(text["held_at"], "held_at"), rrn=text["rrn"].strip(), auth_code=text["auth_code"].strip(),
        voucher_no=text["voucher_no"].strip(), batch_no=text["batch_no"].strip(),
        card_masked=_card_masked(text["card_last4"]),
    )  # fmt: skip
    return await c.run(fund_holds.record_card_hold, c.deps, actor, slip)


async def _alipay(actor: Actor, c: AppContext, form: FormData, text: dict[str, str]) -> HoldRecord:
    """An Alipay freeze, as ``POST /v1/holds/alipay`` asks it: written down claimed before the call, Alipay
    called off the event loop, its answer recorded; the hold's page then says held, failed or waiting."""
    asked = AlipayHoldInput(
        terminal_id=text["terminal_id"][:40], amount_fen=_amount(text["amount"]),
        payer_code=str(form.get("payer_code") or "").strip(), title=text["title"].strip()[:100],
        expires_at=_local(text["expires_on"], "expires_on", end_of_day=True),
    )  # fmt: skip
    hw = HoldWorker(c.router.holds, c.router.lease_margin, worker="console")
    return await c.run_apart(fund_holds.record_alipay_hold, c.deps, actor, hw, asked)


@router.post("/card")
async def record_card(request: Request) -> Response:
    return await _submit(request, "card", CARD_FIELDS, _card)


@router.post("/alipay")
async def freeze_alipay(request: Request) -> Response:
    return await _submit(request, "alipay", ALIPAY_FIELDS, _alipay)
