"""Keeping the daily aggregates current: each merchant's marked days are rebuilt in a transaction of their own
(the worker's pass, a report read, the CLI). A rebuild that fails leaves its marks, so it is simply tried again."""

from __future__ import annotations

from datetime import date

from posrefund.domain.reports import Period
from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps


def catch_up_merchant(deps: Deps, merchant_id: str) -> int:
    """Rebuild this merchant's changed days now; the number of days rebuilt."""
    with deps.uow() as uow:
        rebuilt = uow.reports.catch_up(merchant_id)
        uow.commit()
    return rebuilt


def catch_up_all(deps: Deps) -> int:
    """Every merchant's changed days, one merchant per transaction (the worker's periodic pass)."""
    with deps.uow(readonly=True) as uow:
        merchants = uow.reports.changed_merchants()
    return sum(catch_up_merchant(deps, m) for m in merchants)


def rebuild_period(deps: Deps, actor: Actor, first: date, last: date) -> int:
    """Mark every day of a period of the actor's merchant and rebuild them: after rows came in outside the
    repositories (a bulk load, a restore), or to be sure. Derived figures only, so any report reader may."""
    actor.require("report.read")
    period = Period.checked(first, last)
    merchant_id = actor.merchant_id or ""
    with deps.uow() as uow:
        uow.reports.mark_days(merchant_id, period.first, period.last)
        uow.commit()
    return catch_up_merchant(deps, merchant_id)
