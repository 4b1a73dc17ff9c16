"""The worker's scheduled risk scan: each merchant once per interval whichever worker asks (the turn is claimed
in the database), again once the interval has passed; a high alert it raises holds the refunds it names, and the
worker then leaves them alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.domain.roles import Actor, Role
from posrefund.ports.risk import AlertQuery
from posrefund.service import admin, execution, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from posrefund.service.risk import alerts
from posrefund.service.risk.month import month_view
from posrefund.service.risk.schedule import SCAN_EVERY, scheduled_scans
from tests.conftest import PASSWORD, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import sale_input


def test_a_merchants_scan_runs_once_per_interval_across_workers(deps: Deps, world: World) -> None:
    clock: Any = deps.clock
    merchants = len([world.a, world.b])
    assert scheduled_scans(deps, "host-1:1") == merchants
    assert scheduled_scans(deps, "host-2:7") == 0  # the other worker finds every turn taken
    clock.advance(seconds=SCAN_EVERY.total_seconds() - 1)
    assert scheduled_scans(deps, "host-2:7") == 0
    clock.advance(seconds=1)
    assert scheduled_scans(deps, "host-2:7") == merchants
    assert scheduled_scans(deps, "host-1:1") == 0


def test_a_high_alert_of_the_scheduled_scan_holds_its_refunds(deps: Deps, world: World, fake: FakeChannel) -> None:
    m, clock = world.a, cast(Any, deps.clock)
    alerts.put_rules(deps, m.actors["risk"], {"after_hours": {"high_count": 2}})
    made = admin.create_user(
        deps, world.provider, username="late_one", password=PASSWORD, role="cashier", merchant_id=m.id
    )
    cashier = Actor(id=made["id"], role=Role.CASHIER, merchant_id=m.id)
    clock.at = clock.at.replace(hour=15)  # 23:00 in Shanghai
    for _ in range(2):
        sale = sales.record_sale(deps, cashier, sale_input(m, clock.at - timedelta(hours=2), amount_fen=5_000))
        refunds.request_refund(deps, cashier, RefundRequest(sale_id=sale.id, amount_fen=5_000, reason="other"))
        clock.advance(minutes=20)
    assert scheduled_scans(deps, "host-1:1") == 2
    items, _ = alerts.list_alerts(deps, m.actors["risk"], AlertQuery(rule="after_hours"))
    assert [(a["severity"], a["subject_id"]) for a in items] == [("high", cashier.id)]
    with deps.uow(readonly=True) as uow:
        assert len(uow.risk_holds.held(m.id, 10)) == 2
    router = Router(channels={"wechat": fake, "alipay": fake}, is_workday=ChineseCalendar().is_workday)
    execution.sweep(deps, router)
    assert fake.calls == []


def test_the_month_view_counts_the_kept_alerts_of_the_period(deps: Deps, world: World) -> None:
    from tests.api.risk_routes import held_refunds

    held_refunds(deps, world)
    day = deps.local_date(deps.clock.now())
    view = month_view(deps, world.a.actors["risk"], day.replace(day=1), day)
    assert view["alerts"]["after_hours"] == {"severity": {"high": 1}, "status": {"new": 1}}
    earlier = month_view(deps, world.a.actors["risk"], day.replace(day=1) - timedelta(days=40), day.replace(day=1))
    assert earlier["alerts"] == {}
