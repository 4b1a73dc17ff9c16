"""Risk alerts over HTTP: deciding (exact statuses and codes), another merchant's alert (404), the wrong role (403),
a dismissal without a reason (422), the audit events each decision leaves, the rules' settings and the back-test
that writes nothing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.api.risk_routes import WINDOW, a_case, after_hours_alert
from tests.conftest import World

P = "/v1/risk/alerts"


def _events(deps: Deps, merchant_id: str, prefix: str = "risk.") -> list[dict[str, Any]]:
    e = tables.audit_events.c
    with engine_of(deps).connect() as c:
        rows = c.execute(
            select(e.action, e.actor_id, e.case_id, e.before, e.after, e.reason, e.data)
            .where((e.chain == merchant_id) & e.action.startswith(prefix))
            .order_by(e.id)
        ).all()
    return [
        {
            "action": r.action,
            "actor": r.actor_id,
            "case": r.case_id,
            "before": r.before,
            "after": r.after,
            "reason": r.reason,
            **json.loads(r.data),
        }
        for r in rows
    ]


def _count(deps: Deps, table: Any) -> int:
    with engine_of(deps).connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar() or 0)


def test_an_alert_is_investigated_then_confirmed_and_each_step_is_audited(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    alert_id = after_hours_alert(deps, world)
    shown = client.get(f"{P}/{alert_id}", headers=auth("a.auditor"))
    assert shown.status_code == 200
    body = shown.json()
    assert (body["rule"], body["severity"], body["status"], len(body["case_ids"])) == (
        "after_hours",
        "medium",
        "new",
        2,
    )
    assert body["evidence"]["measures"]["count"] == 2
    assert body["title"] == ["营业时间外退款", "Refunds outside opening hours"]

    risk = world.a.actors["risk"]
    r1 = client.post(
        f"{P}/{alert_id}/decide", json={"status": "investigating", "assign_to": risk.id}, headers=auth("a.risk")
    )
    assert r1.status_code == 200, r1.text
    assert (r1.json()["status"], r1.json()["assigned_to"], r1.json()["version"]) == ("investigating", risk.id, 2)
    r2 = client.post(
        f"{P}/{alert_id}/decide", json={"status": "confirmed", "reason": "监控确认"}, headers=auth("a.admin")
    )
    assert r2.status_code == 200, r2.text
    assert (r2.json()["status"], r2.json()["decided_by"], r2.json()["decision_reason"]) == (
        "confirmed",
        world.a.actors["admin"].id,
        "监控确认",
    )
    again = client.post(f"{P}/{alert_id}/decide", json={"status": "dismissed", "reason": "x"}, headers=auth("a.risk"))
    assert again.status_code == 409
    assert again.json()["code"] == "risk.invalid_transition"
    assert again.json()["params"] == {"current": "confirmed", "target": "dismissed"}

    decided = [e for e in _events(deps, world.a.id) if e["action"] == "risk.alert_decided"]
    assert [(e["before"], e["after"], e["actor"], e["reason"]) for e in decided] == [
        ("new", "investigating", risk.id, ""),
        ("investigating", "confirmed", world.a.actors["admin"].id, "监控确认"),
    ]
    assert all(e["alert_id"] == alert_id for e in decided)
    rules = client.get("/v1/risk/rules", headers=auth("a.risk")).json()["rules"]
    feedback = next(r["feedback"] for r in rules if r["code"] == "after_hours")
    assert feedback == {"new": 0, "investigating": 0, "confirmed": 1, "dismissed": 0}


def test_a_dismissal_needs_a_reason(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    alert_id = after_hours_alert(deps, world)
    for body in ({"status": "dismissed"}, {"status": "dismissed", "reason": "   "}):
        r = client.post(f"{P}/{alert_id}/decide", json=body, headers=auth("a.risk"))
        assert r.status_code == 422
        assert r.json()["code"] == "risk.reason_required"
    assert client.get(f"{P}/{alert_id}", headers=auth("a.risk")).json()["status"] == "new"
    ok = client.post(
        f"{P}/{alert_id}/decide", json={"status": "dismissed", "reason": "盘点加班"}, headers=auth("a.risk")
    )
    assert ok.status_code == 200
    assert (ok.json()["status"], ok.json()["decision_reason"]) == ("dismissed", "盘点加班")
    unknown = client.post(f"{P}/{alert_id}/decide", json={"status": "new"}, headers=auth("a.risk"))
    assert unknown.status_code == 422


def test_another_merchants_alert_is_not_found(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    alert_id = after_hours_alert(deps, world)
    for method, path, body in (
        ("GET", f"{P}/{alert_id}", None),
        ("POST", f"{P}/{alert_id}/decide", {"status": "confirmed", "reason": "x"}),
        ("POST", f"{P}/{alert_id}/assign", {"user_id": ""}),
    ):
        r = client.request(method, path, json=body, headers=auth("b.risk"))
        assert r.status_code == 404, (path, r.text)
        assert r.json()["code"] == "risk.alert_not_found"
    assert client.get(P, headers=auth("b.risk")).json() == {"items": [], "total": 0}
    # Nor can merchant A's alert go to B's people or take B's cases.
    other_user = client.post(
        f"{P}/{alert_id}/assign", json={"user_id": world.b.actors["risk"].id}, headers=auth("a.risk")
    )
    assert (other_user.status_code, other_user.json()["code"]) == (404, "user.not_found")
    b_case = a_case_of_b(deps, world)
    other_case = client.post(f"{P}/{alert_id}/cases", json={"case_id": b_case}, headers=auth("a.risk"))
    assert (other_case.status_code, other_case.json()["code"]) == (404, "refund.not_found")
    assert client.get(f"{P}/{alert_id}", headers=auth("a.risk")).json()["status"] == "new"


def a_case_of_b(deps: Deps, world: World) -> str:
    from posrefund.service import refunds
    from posrefund.service.refunds import RefundRequest
    from tests.support.helpers import new_sale

    sale = new_sale(deps, world.b, amount_fen=2_000)
    return refunds.request_refund(
        deps, world.b.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=500, reason="other")
    ).id


def test_only_risk_and_admin_decide(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    alert_id = after_hours_alert(deps, world)
    for role in ("cashier", "supervisor", "customer_service", "finance", "auditor", "terminal"):
        r = client.post(
            f"{P}/{alert_id}/decide", json={"status": "confirmed", "reason": "x"}, headers=auth(f"a.{role}")
        )
        assert r.status_code == 403, role
        assert r.json()["code"] == "auth.forbidden"
    assert client.get(f"{P}/{alert_id}", headers=auth("a.supervisor")).status_code == 403
    assert client.get(f"{P}/{alert_id}", headers=auth("a.auditor")).status_code == 200
    assert [e["action"] for e in _events(deps, world.a.id) if e["action"] == "risk.alert_decided"] == []


def test_linking_a_case_and_assigning_are_audited(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    alert_id = after_hours_alert(deps, world)
    case_id = a_case(deps, world)
    r = client.post(f"{P}/{alert_id}/cases", json={"case_id": case_id}, headers=auth("a.risk"))
    assert r.status_code == 200
    assert case_id in r.json()["case_ids"] and len(r.json()["case_ids"]) == 3
    listed = client.get(P, params={"case_id": case_id}, headers=auth("a.risk")).json()
    assert [a["id"] for a in listed["items"]] == [alert_id]
    assigned = client.post(
        f"{P}/{alert_id}/assign", json={"user_id": world.a.actors["admin"].id}, headers=auth("a.risk")
    )
    assert assigned.json()["assigned_to"] == world.a.actors["admin"].id
    actions = [(e["action"], e["case"] or e.get("user")) for e in _events(deps, world.a.id)]
    assert ("risk.case_linked", case_id) in actions
    assert ("risk.alert_assigned", world.a.actors["admin"].id) in actions


def test_rules_are_set_per_merchant_and_checked(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    r = client.put(
        "/v1/risk/rules",
        json={"rules": {"after_hours": {"enabled": False}, "quick_refund": {"min_count": 7}}},
        headers=auth("a.risk"),
    )
    assert r.status_code == 200
    rules = {x["code"]: x for x in r.json()["rules"]}
    assert rules["after_hours"]["settings"]["enabled"] is False
    assert (rules["quick_refund"]["settings"]["min_count"], rules["quick_refund"]["defaults"]["min_count"]) == (7, 5)
    b_rules = {x["code"]: x for x in client.get("/v1/risk/rules", headers=auth("b.risk")).json()["rules"]}
    assert b_rules["after_hours"]["settings"]["enabled"] is True
    for bad, code in (
        ({"no_such_rule": {}}, "risk.unknown_rule"),
        ({"quick_refund": {"min_count": 0}}, "risk.invalid_setting"),
        ({"quick_refund": {"min_count": 2.5}}, "risk.invalid_setting"),
        ({"quick_refund": {"nope": 1}}, "risk.invalid_setting"),
    ):
        refused = client.put("/v1/risk/rules", json={"rules": bad}, headers=auth("a.risk"))
        assert (refused.status_code, refused.json()["code"]) == (422, code), bad
    assert client.put("/v1/risk/rules", json={"rules": {}}, headers=auth("a.auditor")).status_code == 403
    changed = [e for e in _events(deps, world.a.id) if e["action"] == "risk.rules_changed"]
    assert len(changed) == 1
    assert changed[0]["new"] == {"after_hours": {"enabled": False}, "quick_refund": {"min_count": 7}}
    # Switched off, the rule raises nothing on the next scan.
    after_hours = client.post("/v1/risk/scan", json=WINDOW, headers=auth("a.risk"))
    assert after_hours.status_code == 200


def test_a_backtest_lists_findings_and_writes_nothing(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    after_hours_alert(deps, world)
    alerts_before, events_before = _count(deps, tables.risk_alerts), _count(deps, tables.audit_events)
    window = {"start": "2026-11-19T00:00:00+08:00", "end": "2026-11-21T12:00:00+08:00"}
    r = client.post(
        "/v1/risk/backtest", json={**window, "rules": {"after_hours": {"min_count": 3}}}, headers=auth("a.auditor")
    )
    assert r.status_code == 200, r.text
    found = [f for f in r.json()["findings"] if f["rule"] == "after_hours"]
    assert [(f["severity"], f["measures"]["count"]) for f in found] == [("low", 2)]  # under the trial's medium
    assert (_count(deps, tables.risk_alerts), _count(deps, tables.audit_events)) == (alerts_before, events_before)
    too_long = client.post(
        "/v1/risk/backtest",
        json={"start": "2026-01-01T00:00:00+08:00", "end": "2026-11-21T00:00:00+08:00"},
        headers=auth("a.risk"),
    )
    assert (too_long.status_code, too_long.json()["code"]) == (422, "risk.invalid_window")
    naive = client.post(
        "/v1/risk/backtest", json={"start": "2026-11-01T00:00:00", "end": "2026-11-02T00:00:00"}, headers=auth("a.risk")
    )
    assert naive.status_code == 422
