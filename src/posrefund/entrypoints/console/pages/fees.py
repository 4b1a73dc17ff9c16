"""Finance's fee page (手续费): the merchant's fee contract period by period in the contract's words, a new period
typed in percent and yuan, the fee-refund check over dates, the cases with their line-by-line statements, their
approval and the transfer; the one-off charges. Every rule is the service's (service/fees)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import Invalid
from posrefund.domain.fees import CardType, FeePeriod, FeeRule, end_of
from posrefund.domain.roles import Actor
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, may, render
from posrefund.service import fees
from posrefund.service.provider import oversight

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
RULE_ROWS = 4  # blank rule rows on the form: card credit, card debit, QR small, QR large
_PERCENT = re.compile(r"^(\d{1,2})(?:\.(\d{1,4}))?$", re.ASCII)
CHANNELS = ("card", "wechat", "alipay", "unionpay_qr")
CARD_TYPES = tuple(c.value for c in CardType)


def parse_percent(text: str, field: str) -> int:
    """``0.6`` / ``0.60`` / ``0.555`` (%) → parts per million, exactly; a bad shape is refused on its field."""
    m = _PERCENT.match(text.strip().translate(str.maketrans("０１２３４５６７８９．", "0123456789.")).rstrip("%"))
    if not m:
        raise Invalid("fees.invalid_rate_text", field=field)
    return int(m.group(1)) * 10_000 + int((m.group(2) or "0").ljust(4, "0"))


def _rule(form: FormData, i: int) -> FeeRule | None:
    """Row ``i`` of the rules on the form; a row without a rate is left out."""

    def get(name: str) -> str:
        return str(form.get(f"{name}_{i}") or "")[:32].strip()

    if not get("rate"):
        return None
    cap, minimum, band = get("cap"), get("min"), get("band")
    return FeeRule(
        get("channel") or "card",
        get("card_type") or "any",
        parse_percent(get("rate"), f"rate_{i}"),
        band_from_fen=fmt.parse_yuan(band, f"band_{i}") if band else 0,
        cap_fen=fmt.parse_yuan(cap, f"cap_{i}") if cap else None,
        min_fen=fmt.parse_yuan(minimum, f"min_{i}") if minimum else 0,
        returned_on_refund=get("returned") != "no",
    )


def _period(form: FormData) -> FeePeriod:
    text = {n: str(form.get(n) or "")[:64].strip() for n in ("effective_from", "consented_on", "consent_ref")}
    rules = tuple(r for i in range(RULE_ROWS) if (r := _rule(form, i)) is not None)
    consented = fmt.parse_date(text["consented_on"], "consented_on") if text["consented_on"] else None
    start = fmt.parse_date(text["effective_from"], "effective_from")
    return FeePeriod(start, rules, None, consented, text["consent_ref"])


def merchant_of(request: Request, actor: Actor) -> tuple[str, str]:
    """Whose fee desk: a merchant's staff their own; a provider's staff the merchant chosen (``?merchant=``, kept on
    every link and form of the desk; the service answers 404 for a merchant not of their provider). Returns the
    merchant id and the query that keeps it."""
    if actor.merchant_id:
        return actor.merchant_id, ""
    chosen = request.query_params.get("merchant", "")[:40]
    return chosen, f"?{urlencode({'merchant': chosen})}" if chosen else ""


async def _page(request: Request, status: int = 200, errors: Errors | None = None, **values: Any) -> Response:
    actor, c = allowed(request, "fees.read")
    mid, mq = merchant_of(request, actor)
    if not mid:  # a provider's staff choose whose desk first
        merchants = await c.run(oversight.merchants, c.deps, actor) if may(actor, "provider.merchants.read") else []
        return render(request, "fees_pick.html", merchants=merchants)
    periods = list(await c.run(fees.periods, c.deps, actor, mid))
    shown = [(p, end_of(periods, p)) for p in reversed(periods)]
    payouts = await c.run(fees.payouts, c.deps, actor, mid, "")
    charges = await c.run(fees.charges, c.deps, actor, mid)
    return render(
        request, "fees.html", status, errors=errors, periods=shown, payouts=payouts, charges=charges,
        channels=CHANNELS, card_types=CARD_TYPES, rows=range(RULE_ROWS), form=values.pop("form", {}),
        clean=values.pop("clean", False), mq=mq,
    )  # fmt: skip


@router.get("/fees")
async def fees_page(request: Request) -> Response:
    return await _page(request)


@router.post("/fees/periods")
async def add_period(request: Request) -> Response:
    actor, c = allowed(request, "fees.contract")
    mid, mq = merchant_of(request, actor)
    form = await request.form()
    errors = Errors(lang_of(request))
    with errors.catch():
        await c.run(fees.add_period, c.deps, actor, mid, _period(form))
    if errors:
        return await _page(request, 422, errors, form={k: str(v) for k, v in form.items()})
    return RedirectResponse(f"{PREFIX}/fees{mq}", status_code=303)


@router.post("/fees/check")
async def check(request: Request) -> Response:
    actor, c = allowed(request, "fees.check")
    mid, mq = merchant_of(request, actor)
    form = await request.form()
    errors = Errors(lang_of(request))
    case = None
    with errors.catch():
        start = fmt.parse_date(str(form.get("date_from") or ""), "date_from")
        end = fmt.parse_date(str(form.get("date_to") or ""), "date_to")
        case, _ = await c.run(fees.check_overcharges, c.deps, actor, mid, start, end)
    if errors:
        return await _page(request, 422, errors, form={k: str(v) for k, v in form.items()})
    if case is None:
        return await _page(request, clean=True)
    return RedirectResponse(f"{PREFIX}/fees/payouts/{case.id}{mq}", status_code=303)


@router.get("/fees/payouts/{payout_id}")
async def payout_page(request: Request, payout_id: str) -> Response:
    return await _payout(request, payout_id)


async def _payout(request: Request, payout_id: str, status: int = 200, errors: Errors | None = None) -> Response:
    actor, c = allowed(request, "fees.read")
    mid, mq = merchant_of(request, actor)
    case, lines = await c.run(fees.payout, c.deps, actor, mid, payout_id)
    return render(request, "fees_case.html", status, errors=errors, case=case, lines=lines, mq=mq)


@router.post("/fees/payouts/{payout_id}/{step}")
async def payout_step(request: Request, payout_id: str, step: str) -> Response:
    """approve / reject / pay: the person who opened a case never approves it, who approves never pays it."""
    actions = {"approve": "fees.approve", "reject": "fees.approve", "pay": "fees.pay"}
    actor, c = allowed(request, actions.get(step, "fees.approve"))
    form = await request.form()
    errors = Errors(lang_of(request))
    (mid, mq), text = merchant_of(request, actor), str(form.get("text") or "")[:400]
    with errors.catch():
        if step == "approve":
            await c.run(fees.approve, c.deps, actor, mid, payout_id)
        elif step == "reject":
            await c.run(fees.reject, c.deps, actor, mid, payout_id, text)
        elif step == "pay":
            await c.run(fees.pay, c.deps, actor, mid, payout_id, text[:64])
    if errors:
        return await _payout(request, payout_id, 422, errors)
    return RedirectResponse(f"{PREFIX}/fees/payouts/{payout_id}{mq}", status_code=303)
