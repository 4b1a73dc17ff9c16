"""The provider's desk at a glance, for its staff: the dashboard (open device returns by where their 3-working-day
decision clock stands, the fee refunds still owed to its merchants, what was refunded this month), the breaches
(returns past their decision day, with the working days late and the escalation), and its merchants with their
refunds read-only and masked. Every figure comes from ``service/provider/`` as the API's do."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from posrefund.domain import device_return as dr
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, texts
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, may, render, submit
from posrefund.service import admin
from posrefund.service.provider import clock, oversight
from posrefund.service.provider.clock import Workday

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
# The buckets of the dashboard, in the order a person reads them: not yet received (no clock), on time, one working
# day left, the last day itself, past it.
SLA = ("not_started", "on_time", "about_to_breach", "due_today", "breached")
ONBOARDING_FIELDS = (
    "code", "name", "contact_phone", "licence_no", "settlement_bank", "settlement_account_name",
    "settlement_account_no",
)  # fmt: skip
ONBOARDING_FIELD_OF = {
    "merchant.invalid_code": "code",
    "merchant.code_taken": "code",
    "merchant.invalid_licence_no": "licence_no",
    "merchant.invalid_account_no": "settlement_account_no",
}


def sla_counts(board: dict[str, Any]) -> list[tuple[str, int]]:
    """The open returns per bucket, from the service's counts by clock and by working days left."""
    by_clock: dict[str, int] = board["open_by_clock"]
    one_left = int(board["open_by_working_days_left"].get("1", 0))
    counts = {
        "not_started": by_clock.get("not_started", 0),
        "on_time": max(0, by_clock.get("running", 0) - one_left),
        "about_to_breach": one_left,
        "due_today": by_clock.get("last_day", 0),
        "breached": by_clock.get("breached", 0),
    }
    return [(key, counts[key]) for key in SLA]


@router.get("/provider")
async def dashboard(request: Request) -> Response:
    actor, c = allowed(request, "provider.dashboard")
    board = await c.run(clock.dashboard, c.deps, actor, c.router.is_workday)
    payouts = await c.run(oversight.pending_payouts, c.deps, actor) if may(actor, "fees.read") else None
    pending = None if payouts is None else [(*key.split(":", 1), sums) for key, sums in sorted(payouts.items())]
    return render(request, "provider_dashboard.html", board=board, sla=sla_counts(board), payouts=pending)


def days_late(row: dict[str, Any], today: date, is_workday: Workday) -> int:
    """Working days past the decision day: until today while undecided, until the decision once decided."""
    due_on: date | None = row["due_on"]
    if due_on is None:
        return 0
    until = today if row["decided_at"] is None else row["decided_at"].astimezone(clock.SHANGHAI).date()
    return max(0, -dr.working_days_left(until, due_on, is_workday))


@router.get("/provider/breaches")
async def breaches(request: Request) -> Response:
    actor, c = allowed(request, "provider.dashboard")
    rows = await c.run(clock.breaches, c.deps, actor, c.router.is_workday)
    today = c.deps.local_date(c.deps.clock.now())
    late = [(r, days_late(r, today, c.router.is_workday)) for r in rows]
    return render(request, "provider_breaches.html", rows=late)


@router.get("/provider/merchants")
async def merchants(request: Request) -> Response:
    return await _merchants(request)


async def _merchants(request: Request, errors: Errors | None = None, typed: dict[str, str] | None = None) -> Response:
    actor, c = allowed(request, "provider.merchants.read")
    rows = await c.run(oversight.merchants, c.deps, actor)
    return render(
        request, "provider_merchants.html", 422 if errors else 200, rows=rows, errors=errors, typed=typed or {}
    )


@router.post("/provider/merchants")
async def onboard(request: Request) -> Response:
    """The provider's administrator opens a merchant with its licence and settlement account (the account number
    is kept only as its last four: ``service/merchant_onboarding.py``); a refusal shows the form again, without
    the account number typed."""
    actor, c, form = await posted(request, "merchant.create")
    typed = texts(form, *ONBOARDING_FIELDS)

    async def step() -> None:
        await c.run(admin.create_merchant, c.deps, actor, **typed)

    async def again(errors: Errors) -> Response:
        return await _merchants(request, errors, {**typed, "settlement_account_no": ""})

    return await submit(request, step, again, f"{PREFIX}/provider/merchants", ONBOARDING_FIELD_OF)


@router.get("/provider/merchants/{merchant_id}")
async def merchant_refunds(request: Request, merchant_id: str) -> Response:
    """A merchant's refunds as the provider may see them: read-only, every personal detail masked; another
    provider's merchant is not found."""
    actor, c = allowed(request, "provider.refunds.read")
    rows = await c.run(oversight.merchant_refunds, c.deps, actor, merchant_id[:40], 100)
    merchant = next(m for m in await c.run(oversight.merchants, c.deps, actor) if m["id"] == merchant_id[:40])
    return render(request, "provider_merchant.html", merchant=merchant, rows=rows)
