"""Callback endpoints: signature checked before anything changes; duplicates move a case once."""

from __future__ import annotations

import json

from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.entrypoints.api.app import create_app
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.support.fakes import FakeChannel, FakeVerifier
from tests.support.helpers import new_sale


def test_tampered_and_duplicate_callbacks(deps: Deps, world: World, backend: str) -> None:
    fake, verifier = FakeChannel(script={}), FakeVerifier()
    router = Router(channels={"wechat": fake}, is_workday=ChineseCalendar().is_workday, verifiers={"wechat": verifier})
    app: FastAPI = create_app(deps, inline=backend == "sqlite", router=router)
    sale = new_sale(deps, world.a)
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=500, reason="other")
    )
    fake.script[case.refund_no] = ["processing"]
    execution.sweep(deps, router)
    body = json.dumps({"refund_no": case.refund_no, "outcome": "succeeded", "id": "N-1", "ts": 1}).encode()
    with TestClient(app) as client:
        tampered = body.replace(b"succeeded", b"succeedeD")
        for bad_body, sig in ((tampered, verifier.sign(body)), (body, "0" * 64), (body, "")):
            r = client.post("/v1/callbacks/wechatpay", content=bad_body, headers={"x-sig": sig})
            assert r.status_code == 401 and r.json()["code"] == "callback.rejected"
        stale = json.dumps({"refund_no": case.refund_no, "outcome": "succeeded", "id": "N-0", "ts": -1}).encode()
        assert (
            client.post("/v1/callbacks/wechatpay", content=stale, headers={"x-sig": verifier.sign(stale)}).status_code
            == 401
        )
        assert refunds.get_case(deps, world.a.actors["auditor"], case.id).case.status.value == "processing"
        for _ in range(5):
            r = client.post("/v1/callbacks/wechatpay", content=body, headers={"x-sig": verifier.sign(body)})
            assert r.status_code == 200 and r.json()["code"] == "SUCCESS"
        assert client.post("/v1/callbacks/alipay", content=body).status_code == 404  # no Alipay verifier here
    events = refunds.case_events(deps, world.a.actors["auditor"], case.id)
    assert [e["action"] for e in events].count("refund.succeeded") == 1
    assert refunds.get_case(deps, world.a.actors["auditor"], case.id).case.status.value == "succeeded"
