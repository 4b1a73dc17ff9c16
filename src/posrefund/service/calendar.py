"""Admin overrides of the business calendar; the calendar itself is an adapter (holidays + overrides)."""

from __future__ import annotations

from datetime import date

from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps
from posrefund.service.records import record


def list_overrides(deps: Deps, actor: Actor) -> dict[date, bool]:
    actor.require("merchant.read" if actor.merchant_id else "calendar.manage")
    with deps.uow(readonly=True) as uow:
        return uow.calendar.overrides()


def put_override(deps: Deps, actor: Actor, day: date, workday: bool, note: str) -> dict[date, bool]:
    actor.require("calendar.manage")
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.calendar.put_override(day, workday, note, actor.id, now)
        record(uow, actor, None, "calendar.override", now, day=day.isoformat(), workday=workday, note=note)
        rows = uow.calendar.overrides()
        uow.commit()
    return rows
