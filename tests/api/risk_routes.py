"""The risk routes for the role × route matrix: each builder returns the request as keyword arguments of ``Call``;
ids in paths belong to merchant A. An alert is made the way production makes one: refunds asked for after
closing, then a scan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

from posrefund.domain.roles import Actor, Role
from posrefund.ports.risk import AlertQuery
from posrefund.service import admin, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from posrefund.service.risk import alerts
from tests.conftest import PASSWORD, World
from tests.support.helpers import new_sale, sale_input

P = "/v1/risk"


def after_hours_alert(d: Deps, w: World, m: str = "a") -> str:
    """Two refunds asked for at 23:00 in Shanghai by a new cashier of the merchant, then a scan: a medium alert
    about that cashier (a fresh one each time, so each call has an alert of its own)."""
    merchant = getattr(w, m)
    made = admin.create_user(
        d, w.provider, username=f"late_{uuid4().hex[:10]}", password=PASSWORD, role="cashier", merchant_id=merchant.id
    )
    cashier = Actor(id=made["id"], role=Role.CASHIER, merchant_id=merchant.id)
    clock: Any = d.clock
    saved = clock.at
    clock.at = saved.replace(hour=15)  # 23:00 in Shanghai
    try:
        for _ in range(2):
            sale = sales.record_sale(d, cashier, sale_input(merchant, clock.at - timedelta(hours=2), amount_fen=5_000))
            refunds.request_refund(d, cashier, RefundRequest(sale_id=sale.id, amount_fen=5_000, reason="other"))
            clock.advance(minutes=20)
        clock.advance(minutes=1)
        alerts.scan(d, merchant.actors["risk"], clock.at - timedelta(days=1), clock.at)
        items, _ = alerts.list_alerts(d, merchant.actors["risk"], AlertQuery(rule="after_hours", status="new"))
        return next(a["id"] for a in items if a["subject_id"] == cashier.id)
    finally:
        clock.at = saved + timedelta(minutes=1)


def held_refunds(d: Deps, w: World, *, approve: bool = True, approver: str = "supervisor") -> tuple[str, list[str]]:
    """Two refunds a new cashier asks for at 23:00 in Shanghai, above the auto-approval limit and approved by the
    supervisor, then a scan whose after-hours rule calls two such refunds high: the alert and its held cases."""
    m = w.a
    alerts.put_rules(d, m.actors["risk"], {"after_hours": {"high_count": 2}})
    made = admin.create_user(
        d, w.provider, username=f"late_{uuid4().hex[:10]}", password=PASSWORD, role="cashier", merchant_id=m.id
    )
    cashier = Actor(id=made["id"], role=Role.CASHIER, merchant_id=m.id)
    clock: Any = d.clock
    saved = clock.at
    clock.at = saved.replace(hour=15)
    cases = []
    try:
        for _ in range(2):
            sale = sales.record_sale(d, cashier, sale_input(m, clock.at - timedelta(hours=2), amount_fen=20_000))
            case = refunds.request_refund(d, cashier, RefundRequest(sale_id=sale.id, amount_fen=20_000, reason="other"))
            if approve:
                refunds.approve(d, m.actors[approver], case.id, "顾客当面退货")
            cases.append(case.id)
            clock.advance(minutes=20)
        clock.advance(minutes=1)
        alerts.scan(d, m.actors["risk"], clock.at - timedelta(days=1), clock.at)
        items, _ = alerts.list_alerts(d, m.actors["risk"], AlertQuery(rule="after_hours", severity="high"))
        return next(a["id"] for a in items if a["subject_id"] == cashier.id), cases
    finally:
        clock.at = saved + timedelta(minutes=1)


def a_case(d: Deps, w: World) -> str:
    sale = new_sale(d, w.a, amount_fen=2_000)
    return refunds.request_refund(
        d, w.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=1_000, reason="other")
    ).id


def _decide_hold(d: Deps, w: World, verdict: str) -> dict[str, Any]:
    """A second review of a refund held by a high alert (approved by the second supervisor, so the first may decide)."""
    case_id = held_refunds(d, w, approver="supervisor2")[1][0]
    return {"method": "POST", "path": f"{P}/holds/{case_id}/{verdict}", "json": {"reason": "收款账户可疑"}}


WINDOW = {"start": "2026-11-01T00:00:00+08:00", "end": "2026-11-21T00:00:00+08:00"}
RISK_ROUTES: dict[tuple[str, str], tuple[str, Callable[[Deps, World, str], dict[str, Any]]]] = {
    ("GET", f"{P}/alerts"): ("risk.read", lambda d, w, r: {"method": "GET", "path": f"{P}/alerts"}),
    ("GET", f"{P}/alerts/{{alert_id}}"): (
        "risk.read",
        lambda d, w, r: {"method": "GET", "path": f"{P}/alerts/{after_hours_alert(d, w)}"},
    ),
    ("POST", f"{P}/alerts/{{alert_id}}/decide"): (
        "risk.decide",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/alerts/{after_hours_alert(d, w)}/decide",
            "json": {"status": "investigating"},
        },
    ),
    ("POST", f"{P}/alerts/{{alert_id}}/assign"): (
        "risk.decide",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/alerts/{after_hours_alert(d, w)}/assign",
            "json": {"user_id": w.a.actors["risk"].id},
        },
    ),
    ("POST", f"{P}/alerts/{{alert_id}}/cases"): (
        "risk.decide",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/alerts/{after_hours_alert(d, w)}/cases",
            "json": {"case_id": a_case(d, w)},
        },
    ),
    ("GET", f"{P}/rules"): ("risk.read", lambda d, w, r: {"method": "GET", "path": f"{P}/rules"}),
    ("PUT", f"{P}/rules"): (
        "risk.configure",
        lambda d, w, r: {"method": "PUT", "path": f"{P}/rules", "json": {"rules": {"quick_refund": {"min_count": 6}}}},
    ),
    ("POST", f"{P}/backtest"): (
        "risk.read",
        lambda d, w, r: {"method": "POST", "path": f"{P}/backtest", "json": WINDOW},
    ),
    ("POST", f"{P}/scan"): ("risk.scan", lambda d, w, r: {"method": "POST", "path": f"{P}/scan", "json": WINDOW}),
    ("GET", f"{P}/holds"): ("refund.release_hold", lambda d, w, r: {"method": "GET", "path": f"{P}/holds"}),
    ("GET", f"{P}/holds/{{case_id}}"): (
        "refund.read",
        lambda d, w, r: {"method": "GET", "path": f"{P}/holds/{held_refunds(d, w)[1][0]}"},
    ),
    ("POST", f"{P}/holds/{{case_id}}/release"): ("refund.release_hold", lambda d, w, r: _decide_hold(d, w, "release")),
    ("POST", f"{P}/holds/{{case_id}}/reject"): ("refund.release_hold", lambda d, w, r: _decide_hold(d, w, "reject")),
}
