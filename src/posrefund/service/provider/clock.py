"""The decision clock on every return: its last day, the working days left, escalation to the provider's
administrators on the last working day (a notice and an audit event) and the breaches, for the desk's lists
and dashboard."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from posrefund.domain import device_return as dr
from posrefund.domain.device_return import Clock, ReturnStatus
from posrefund.domain.roles import SYSTEM_ACTOR, Actor
from posrefund.ports import UnitOfWork
from posrefund.ports.provider import ReturnRow
from posrefund.service.deps import Deps
from posrefund.service.notifications import merchant_messages
from posrefund.service.provider.desk import desk_of, scope_of
from posrefund.service.provider.returns import audit, load, save, tell

Workday = Callable[[date], bool]
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN = [s.value for s in ReturnStatus if s not in dr.CLOSED]


def due_at(due_on: date | None) -> datetime | None:
    """The end of the last working day, in Shanghai."""
    return datetime.combine(due_on, time(23, 59, 59), SHANGHAI) if due_on else None


def view(uow: UnitOfWork, ret: ReturnRow, today: date, is_workday: Workday) -> dict[str, Any]:
    """A return as shown: its clock, its documents, deductions, device and the refund's own status."""
    device = uow.provider.device(ret["provider_id"], ret["device_id"])
    assert device is not None
    status = ReturnStatus(ret["status"])
    out: dict[str, Any] = {k: v for k, v in ret.items() if k not in ("documents", "deductions", "version")}
    out["documents"] = json.loads(ret["documents"])
    out["deductions"] = json.loads(ret["deductions"])
    out["sn"] = device["sn"]
    out["model"] = device["model"]
    out["paid_fen"] = device["price_fen"] + device["charge_fen"]
    out["route"] = device["route"]
    out["clock"] = dr.clock_of(status, ret["due_on"], today).value
    out["due_at"] = due_at(ret["due_on"])
    out["working_days_left"] = (
        dr.working_days_left(today, ret["due_on"], is_workday) if ret["due_on"] and status not in dr.CLOSED else None
    )
    out["refund_status"] = None
    if ret["refund_case_id"]:
        desk = desk_of(uow, ret["provider_id"])
        case = uow.refunds.get_case(desk["seller_merchant_id"], ret["refund_case_id"])
        out["refund_status"] = case.status.value if case else None
    out["replacement_sn"] = None
    if ret["replacement_id"]:
        new = uow.provider.device(ret["provider_id"], ret["replacement_id"])
        out["replacement_sn"] = new["sn"] if new else None
    return out


def get_return(deps: Deps, actor: Actor, return_id: str, is_workday: Workday) -> dict[str, Any]:
    actor.require("device_return.read")
    with deps.uow(readonly=True) as uow:
        _, ret = load(uow, actor, return_id)
        return view(uow, ret, deps.local_date(deps.clock.now()), is_workday)


def list_returns(
    deps: Deps, actor: Actor, is_workday: Workday, *, open_only: bool = False, limit: int = 200
) -> list[dict[str, Any]]:
    """The returns the actor's scope reaches, the most urgent first: open ones by their last day (the
    breached on top), then by when they were opened."""
    actor.require("device_return.read")
    today = deps.local_date(deps.clock.now())
    with deps.uow(readonly=True) as uow:
        scope = scope_of(uow, actor)
        rows = uow.provider.list_returns(scope.provider_id, scope.merchant_id, OPEN if open_only else None, limit)
        views = [view(uow, r, today, is_workday) for r in rows]
    return sorted(views, key=lambda v: (v["clock"] == Clock.STOPPED.value, v["due_on"] or date.max, v["opened_at"]))


def escalate_due(deps: Deps, is_workday: Workday, provider_id: str | None = None) -> dict[str, int]:
    """The sweep: a return on the last working day of its decision is escalated to the provider's
    administrators (once), one past it is marked breached (once); both are audited and told."""
    now = deps.clock.now()
    today = deps.local_date(now)
    counts = {"escalated": 0, "breached": 0}
    with deps.uow() as uow:
        for due in _due(uow, provider_id):
            ret = due
            clock = dr.clock_of(ReturnStatus(ret["status"]), ret["due_on"], today)
            if clock in (Clock.LAST_DAY, Clock.BREACHED) and ret["escalated_at"] is None:
                ret = _flag(uow, ret, "escalated", now, today, is_workday)
                counts["escalated"] += 1
            if clock is Clock.BREACHED and ret["breached_at"] is None:
                _flag(uow, ret, "breached", now, today, is_workday)
                counts["breached"] += 1
        uow.commit()
    return counts


def _due(uow: UnitOfWork, provider_id: str | None) -> list[ReturnRow]:
    providers = [provider_id] if provider_id is not None else uow.provider.providers_with_open_returns()
    return [r for p in providers for r in uow.provider.list_returns(p, None, [ReturnStatus.RECEIVED.value], 1000)]


def _flag(uow: UnitOfWork, ret: ReturnRow, what: str, now: datetime, today: date, is_workday: Workday) -> ReturnRow:
    assert ret["due_on"] is not None
    left = dr.working_days_left(today, ret["due_on"], is_workday)
    audit(uow, SYSTEM_ACTOR, ret, f"device_return.{what}", None, now, due_on=ret["due_on"].isoformat(), left=left)
    tell(uow, ret, what, now, audience="provider_admin", due_on=ret["due_on"].isoformat(), working_days_left=left)
    return save(uow, ret, now, **{f"{what}_at": now})


def breaches(deps: Deps, actor: Actor, is_workday: Workday) -> list[dict[str, Any]]:
    """Returns decided late or still undecided past their last working day."""
    actor.require("provider.dashboard")
    rows = list_returns(deps, actor, is_workday)
    return [r for r in rows if r["breached_at"] is not None or r["clock"] == Clock.BREACHED.value]


def notices(deps: Deps, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    """What the actor is told: a provider's staff the escalations and breaches, a merchant its returns' steps."""
    actor.require("device_return.read")
    with deps.uow(readonly=True) as uow:
        scope = scope_of(uow, actor)
        audience = "provider_admin" if scope.merchant_id is None else "merchant"
        rows = uow.provider.notices(scope.provider_id, scope.merchant_id, audience, limit)
        out = [{**r, "params": json.loads(r["params"])} for r in rows]
        for notice in out:  # how the messages of the step stand now ("not sent: no contact" among them)
            notice["delivery"] = merchant_messages.delivery_of(uow, notice["params"].pop("messages", []))
    return out


def dashboard(deps: Deps, actor: Actor, is_workday: Workday) -> dict[str, Any]:
    """Open returns by where their clock stands and by age in working days, and what was refunded to
    merchants this month (by the device refunds' own cases)."""
    actor.require("provider.dashboard")
    now = deps.clock.now()
    today = deps.local_date(now)
    rows = list_returns(deps, actor, is_workday)
    open_rows = [r for r in rows if r["clock"] != Clock.STOPPED.value]
    by_clock = {c.value: sum(1 for r in open_rows if r["clock"] == c.value) for c in Clock if c is not Clock.STOPPED}
    this_month = today.replace(day=1)
    month = [
        r
        for r in rows
        if r["decided_at"]
        and r["refund_status"] == "succeeded"
        and deps.local_date(r["decided_at"]).replace(day=1) == this_month
    ]
    by_left: dict[str, int] = {}
    for r in open_rows:
        key = "not_started" if r["working_days_left"] is None else str(r["working_days_left"])
        by_left[key] = by_left.get(key, 0) + 1
    return {
        "open_returns": len(open_rows),
        "open_by_clock": by_clock,
        "open_by_working_days_left": by_left,
        "refunded_this_month_fen": sum(r["refund_fen"] for r in month),
        "refunds_this_month": len(month),
        "breached": sum(1 for r in rows if r["breached_at"] is not None),
    }
