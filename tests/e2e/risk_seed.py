"""Risk alerts for the browser tests, made as production makes them under the real clock: a new cashier's refunds
outside the opening hours the merchant's after-hours rule is set to, then a scan; two such refunds are a high
alert, which holds them for a second review."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from posrefund.domain.roles import Actor, Role
from posrefund.ports.risk import AlertQuery
from posrefund.service import admin, refunds, sales
from posrefund.service.refunds import RefundRequest
from posrefund.service.reports.upkeep import catch_up_all
from posrefund.service.risk import alerts
from tests.conftest import PASSWORD
from tests.e2e.conftest import Live
from tests.support.helpers import sale_input


def late_refunds(live: Live, count: int = 2, amount_fen: int = 5_000) -> tuple[str, list[str]]:
    """``count`` refunds of a fresh cashier counted as after hours, then a scan: (the alert, its cases)."""
    deps, m = live.deps, live.world.a
    risk = m.actors["risk"]
    now = deps.clock.now()
    minute = (now.hour * 60 + now.minute + 8 * 60) % 1440  # Shanghai's time of day
    hours = {"open_minute": 0, "close_minute": minute - 30} if minute >= 60 else {"open_minute": minute + 30}
    alerts.put_rules(deps, risk, {"after_hours": {**hours, "high_count": 2}})
    made = admin.create_user(
        deps,
        live.world.provider,
        username=f"late_{uuid4().hex[:8]}",
        password=PASSWORD,
        role="cashier",
        merchant_id=m.id,
    )
    cashier = Actor(id=made["id"], role=Role.CASHIER, merchant_id=m.id, name=made["username"])
    cases = []
    for _ in range(count):
        sale = sales.record_sale(deps, cashier, sale_input(m, now - timedelta(hours=1), amount_fen=amount_fen))
        asked = RefundRequest(sale_id=sale.id, amount_fen=amount_fen, reason="customer_cancelled")
        cases.append(refunds.request_refund(deps, cashier, asked).id)
    alerts.scan(deps, risk, now - timedelta(days=1), deps.clock.now() + timedelta(seconds=1))
    catch_up_all(deps)
    items, _ = alerts.list_alerts(deps, risk, AlertQuery(rule="after_hours"))
    return next(a["id"] for a in items if a["subject_id"] == cashier.id), cases
