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


def rebuild_period(deps: Deps, actor: Actor, merchant_id: str, first: date, last: date) -> int:
    """Mark every day of a period and rebuild them (after rows came in by hand, or to check the aggregates):
    the host operator's repair, never a merchant user's."""
    actor.require("merchant.create")
    period = Period.checked(first, last)
    with deps.uow() as uow:
        uow.reports.mark_days(merchant_id, period.first, period.last)
        uow.commit()
    return catch_up_merchant(deps, merchant_id)
