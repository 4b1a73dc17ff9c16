"""An unknown card refund over HTTP: the list filter knows the status, and only a person with ``refund.resolve``
and a reason settles it — never back to ``processing``."""

from __future__ import annotations

from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.api.conftest import Auth
from tests.conftest import World
from tests.recon.test_unknown_refunds import unknown_refund
from tests.support.fakes import FakeChannel


def test_filter_and_resolve_an_unknown_refund(client: TestClient, auth: Auth, world: World, deps: Deps) -> None:
    fake = FakeChannel(name="card")
    case = unknown_refund(deps, world, Router(channels={"card": fake}, is_workday=ChineseCalendar().is_workday), fake)
    listed = client.get("/v1/refunds?status=unknown&count=true", headers=auth("a.finance")).json()
    assert (listed["total"], [r["id"] for r in listed["items"]], listed["items"][0]["status"]) == (
        1,
        [case.id],
        "unknown",
    )
    path = f"/v1/refunds/{case.id}/resolve"
    cashier = client.post(path, json={"status": "succeeded", "reason": "见对账单"}, headers=auth("a.cashier"))
    assert (cashier.status_code, cashier.json()["code"]) == (403, "auth.forbidden")
    back = client.post(path, json={"status": "processing", "reason": "再查一次"}, headers=auth("a.supervisor"))
    assert (back.status_code, back.json()["code"]) == (409, "state.invalid_transition")
    blank = client.post(path, json={"status": "failed", "reason": " "}, headers=auth("a.supervisor"))
    assert (blank.status_code, blank.json()["code"]) == (422, "review.reason_required")
    done = client.post(path, json={"status": "failed", "reason": "收单行确认未退"}, headers=auth("a.supervisor"))
    assert (done.status_code, done.json()["status"]) == (200, "failed")
    again = client.post(path, json={"status": "succeeded", "reason": "x"}, headers=auth("a.supervisor"))
    assert (again.status_code, again.json()["code"]) == (409, "refund.not_abnormal")
