"""A WeChat-paid security deposit (押金) given back less a deduction, whose refund WeChat Pay reports ABNORMAL (the
payer's account closed), then paid to the customer's bank card (异常退款至银行卡) by a supervisor with the customer's
consent, every process that calls WeChat Pay killed by SIGKILL right after the call: the refund worker after the
submit (its answer lost too) and during the queries; the API process of the supervisor's application (which the API
makes itself, not the worker) after WeChat took it (its answer lost on the way) and again after each query of a
repeated application. WeChat Pay took one refund and one abnormal-refund application; the case ends succeeded
with the deposit's payment refunded by exactly the allowed amount."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.config import Settings
from posrefund.service import evidence
from posrefund.service.deps import Deps
from posrefund.simulators.wechatpay.server import WeChatPaySimulator
from tests.api.conftest import Auth
from tests.api.test_abnormal_refund_api import ACCOUNT, application, applications
from tests.api.test_deposits_api import JPEG, accept, make_terms, propose, record
from tests.conftest import World
from tests.integration.test_crash_safety import conf_of as wechat_conf
from tests.integration.test_hold_crash import KILLS, app, auth, child, client, conf_of, killed, make_due, real_time

__all__ = ["app", "auth", "client", "real_time"]  # the fixtures this module shares
REROUTE = {"method": "transfer", "reason": "原卡已注销，改为银行转账", "payee": "13800138000"}


@pytest.fixture
def wechat() -> Iterator[WeChatPaySimulator]:
    with WeChatPaySimulator(notify_url="http://127.0.0.1:9", accept_unknown_orders=True) as sim:  # the worker asks
        yield sim


def returned_less_a_deduction(client: TestClient, auth: Auth, deps: Deps, world: World) -> dict[str, Any]:
    """A 100-yuan 押金 paid by WeChat Pay, 20 yuan kept for a broken cup: the accepted refund of 80 yuan."""
    terms_id = make_terms(client, auth, "security", name="客房押金", max_deduction_bp=5_000)
    deposit = record(client, auth, deps, world, terms_id, 10_000, 0)["deposit"]
    photo = evidence.upload(deps, world.a.actors["cashier"], content=JPEG, filename="cup.jpg", kind="photo")["id"]
    cup = {"amount_fen": 2_000, "reason": "杯子破损", "evidence_id": photo}
    proposal = propose(client, auth, deposit["id"], "item_returned", deductions=[cup]).json()
    assert (proposal["back_now_fen"], proposal["deducted_fen"]) == (8_000, 2_000)
    r = accept(client, auth, deposit["id"], proposal["id"])
    assert r.status_code == 201, r.text
    return dict(r.json()["refund"]) | {"deposit_id": deposit["id"]}


def test_deposit_refund_abnormal_then_to_a_bank_card_each_killed_runs_once(
    client: TestClient, auth: Auth, world: World, deps: Deps, settings: Settings, wechat: WeChatPaySimulator
) -> None:
    case = returned_less_a_deduction(client, auth, deps, world)
    number = case["refund_no"]
    wechat.set_fault(number, "drop_after_accept")  # taken, the answer lost
    wechat.set_fault(number, "abnormal")  # then ABNORMAL: the payer's account was closed
    conf = conf_of(settings) | {"wechat": wechat_conf(settings, wechat)["wechat"]}
    killed(deps, conf, "advance.after_submit", 1, "refunds")
    killed(deps, conf, "advance.after_query", KILLS - 1, "refunds")  # a sent refund is asked about first
    assert child(conf, "", "refunds") == 0
    wechat.complete(number)
    make_due(deps)
    assert child(conf, "", "refunds") == 0
    seen = client.get(f"/v1/refunds/{case['id']}", headers=auth("a.supervisor")).json()
    assert (seen["status"], seen["amount_fen"], len(wechat.ledger())) == ("abnormal", 8_000, 1)

    wechat.book.set_apply_fault(number, "drop_after_accept")  # applied, the answer lost: the API asks
    to_card = {
        "method": "POST",
        "path": f"/v1/refunds/{case['id']}/abnormal-refund",
        "json": application(),
        "headers": auth("a.supervisor"),
        "status": 200,
    }
    killed(deps, conf, "abnormal_refund.after_call", KILLS, "api", request=to_card)
    assert applications(wechat, number) == 1
    assert client.get(f"/v1/refunds/{case['id']}", headers=auth("a.supervisor")).json()["status"] == "abnormal"
    for step, body in (("reroute", REROUTE), ("resolve", {"status": "closed", "reason": "顾客放弃退款"})):
        r = client.post(f"/v1/refunds/{case['id']}/{step}", json=body, headers=auth("a.supervisor2"))
        assert (r.status_code, r.json()["code"]) == (409, "abnormal_refund.in_flight")  # paid twice otherwise
    assert child(conf, "", "api", to_card) == 0  # applied again: WeChat is asked first, nothing is sent
    shown = client.get(f"/v1/refunds/{case['id']}/abnormal-refund", headers=auth("a.supervisor")).json()
    assert (shown["status"], shown["account_masked"]) == ("accepted", "****0128")
    make_due(deps)
    assert child(conf, "", "refunds") == 0  # (the simulator had paid the card by the first query already)
    done = client.get(f"/v1/refunds/{case['id']}", headers=auth("a.supervisor")).json()
    sale = client.get(f"/v1/sales/{case['sale_id']}", headers=auth("a.auditor")).json()
    deposit = client.get(f"/v1/deposits/{case['deposit_id']}", headers=auth("a.auditor")).json()
    assert (done["status"], sale["refunded_fen"], sale["reserved_fen"]) == ("succeeded", 8_000, 0)
    assert (deposit["allowed_back_fen"], deposit["reserved_fen"]) == (8_000, 0)
    at_wechat = wechat.book.lookup(number) or {}
    assert (applications(wechat, number), at_wechat.get("status"), len(wechat.ledger())) == (1, "SUCCESS", 1)
    events = client.get(f"/v1/refunds/{case['id']}/events", headers=auth("a.supervisor")).json()["items"]
    actions = [e["action"] for e in events]
    assert actions.count("refund.abnormal_refund_applied") == 1
    assert actions[-2:] == ["refund.processing", "refund.succeeded"]
    with engine_of(deps).connect() as c:
        stored = c.execute(select(tables.abnormal_refund_applications)).mappings().all()
    assert ACCOUNT not in str(stored) and [r["status"] for r in stored] == ["accepted"]
