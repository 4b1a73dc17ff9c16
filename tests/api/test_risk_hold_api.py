"""A high risk alert holds a refund before money moves: the worker's sweep and a direct claim both leave it
alone; its approver (403 ``risk.hold_same_person``) and a cashier (403 ``auth.forbidden``) cannot release it; a
second person releases it (then the worker sends it, once) or stops it with a reason (cancelled, never sent);
each step is on the case's audit trail."""

from __future__ import annotations

from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.service import execution
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.api.conftest import Auth
from tests.api.risk_routes import held_refunds
from tests.api.test_risk_api import _events
from tests.conftest import World
from tests.support.fakes import FakeChannel

H = "/v1/risk/holds"


def _router(fake: FakeChannel) -> Router:
    return Router(channels={"wechat": fake, "alipay": fake}, is_workday=ChineseCalendar().is_workday)


def test_a_high_alert_holds_the_refund_until_a_second_person_releases_it(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    alert_id, (first, second) = held_refunds(deps, world)
    fake = FakeChannel()
    router = _router(fake)
    shown = client.get(f"{H}/{first}", headers=auth("a.cashier"))
    assert shown.status_code == 200
    assert (shown.json()["status"], shown.json()["alert_id"]) == ("held", alert_id)
    assert {h["case_id"] for h in client.get(H, headers=auth("a.risk")).json()["items"]} >= {first, second}

    execution.sweep(deps, router)
    assert execution.advance(deps, router, world.a.id, first) is None  # a claim straight at it is refused too
    assert fake.calls == []
    assert client.get(f"/v1/refunds/{first}", headers=auth("a.risk")).json()["status"] == "approved"

    by_approver = client.post(f"{H}/{first}/release", json={"reason": "看过了"}, headers=auth("a.supervisor"))
    assert by_approver.status_code == 403
    assert by_approver.json()["code"] == "risk.hold_same_person"
    by_cashier = client.post(f"{H}/{first}/release", headers=auth("a.cashier"))
    assert (by_cashier.status_code, by_cashier.json()["code"]) == (403, "auth.forbidden")
    by_admin_elsewhere = client.post(f"{H}/{first}/release", headers=auth("b.risk"))
    assert (by_admin_elsewhere.status_code, by_admin_elsewhere.json()["code"]) == (404, "refund.not_found")

    released = client.post(f"{H}/{first}/release", json={"reason": "已电话核实顾客"}, headers=auth("a.risk"))
    assert released.status_code == 200, released.text
    assert (released.json()["status"], released.json()["decided_by"]) == ("released", world.a.actors["risk"].id)
    again = client.post(f"{H}/{first}/release", headers=auth("a.admin"))
    assert (again.status_code, again.json()["code"]) == (409, "risk.not_held")

    no_reason = client.post(f"{H}/{second}/reject", json={"reason": " "}, headers=auth("a.risk"))
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "review.reason_required")
    stopped = client.post(f"{H}/{second}/reject", json={"reason": "收款账户可疑"}, headers=auth("a.admin"))
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "rejected"

    execution.sweep(deps, router)
    assert [kind for kind, _ in fake.calls] == ["submit"]
    assert client.get(f"/v1/refunds/{first}", headers=auth("a.risk")).json()["status"] == "succeeded"
    assert client.get(f"/v1/refunds/{second}", headers=auth("a.risk")).json()["status"] == "cancelled"

    trail = [(e["case"], e["action"], e["reason"]) for e in _events(deps, world.a.id, "refund.h")]
    assert trail == [
        (first, "refund.held", ""),
        (second, "refund.held", ""),
        (first, "refund.hold_released", "已电话核实顾客"),
        (second, "refund.hold_rejected", "收款账户可疑"),
    ]


def test_a_hold_is_released_only_after_the_first_approval(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    """A refund still waiting for its first review is held too; the second look waits for the first, and the
    one who approved it is not the second."""
    _, (first, _) = held_refunds(deps, world, approve=False)
    early = client.post(f"{H}/{first}/release", headers=auth("a.risk"))
    assert (early.status_code, early.json()["code"]) == (409, "risk.hold_awaits_approval")
    assert client.post(f"/v1/refunds/{first}/approve", json={}, headers=auth("a.supervisor")).status_code == 200
    same = client.post(f"{H}/{first}/release", headers=auth("a.supervisor"))
    assert (same.status_code, same.json()["code"]) == (403, "risk.hold_same_person")
    ok = client.post(f"{H}/{first}/release", headers=auth("a.admin"))
    assert (ok.status_code, ok.json()["status"]) == (200, "released")
