"""The attempts list over HTTP: a person's retry of a failed wallet refund shows as attempt 2, sent under a new
number linked to the failed one; another merchant's operator cannot see it."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.entrypoints.api.app import create_app
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.api.conftest import Auth
from tests.conftest import World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale
from tests.support.limits import RELAXED


def test_retry_over_http_sends_attempt_two_and_the_list_shows_both(deps: Deps, world: World, backend: str) -> None:
    fake = FakeChannel()
    router = Router(channels={"wechat": fake}, is_workday=ChineseCalendar().is_workday)
    app: FastAPI = create_app(deps, inline=backend == "sqlite", router=router, rate_limits=RELAXED)
    auth = Auth(app, world)
    sale = new_sale(deps, world.a)
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=500, reason="other")
    )
    fake.script[case.refund_no] = ["declined"]
    execution.sweep(deps, router)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post(f"/v1/refunds/{case.id}/retry", json={"reason": "余额已补足"}, headers=auth("a.supervisor"))
        assert (r.status_code, r.json()["status"]) == (200, "processing")
        new_no = r.json()["refund_no"]
        assert new_no != case.refund_no
        execution.sweep(deps, router)
        r = client.get(f"/v1/refunds/{case.id}/attempts", headers=auth("a.auditor"))
        assert r.status_code == 200
        items = r.json()["items"]
        assert [
            (i["attempt_no"], i["fence"], i["refund_no"], i["previous_refund_no"], i["outcome"]) for i in items
        ] == [
            (1, 1, case.refund_no, "", "declined"),
            (2, 2, new_no, case.refund_no, "succeeded"),
        ]
        other = client.get(f"/v1/refunds/{case.id}/attempts", headers=auth("b.auditor"))
        assert (other.status_code, other.json()["code"]) == (404, "refund.not_found")
        assert client.get(f"/v1/refunds/{case.id}/attempts").status_code == 401
    assert fake.calls == [("submit", case.refund_no), ("submit", new_no)]
