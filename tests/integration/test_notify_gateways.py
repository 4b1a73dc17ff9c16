"""SMS through a real HTTP gateway (a local server): sent once per event with a stable message id,
retried on 5xx and timeouts with back-off, not retried on 4xx, never sent to an opted-out customer;
every attempt recorded and audited on the case."""

from __future__ import annotations

import json

from sqlalchemy import select

from posrefund.adapters.db import tables as t
from posrefund.bootstrap import engine_of
from posrefund.domain.notify import RETRY_BACKOFF
from posrefund.service import notify, notify_admin, refunds
from posrefund.service.deps import Deps
from posrefund.service.notify import NotifyRouter
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import FixedClock, World
from tests.helpers import new_sale
from tests.notify_helpers import gateway_server, sms_gateway

PHONE = "13812345678"


def a_case(deps: Deps, world: World, amount: int = 1_234, phone: str | None = PHONE) -> refunds.RefundCase:
    sale = new_sale(deps, world.a, amount_fen=10_000, payer_masked="o***ab")
    req = RefundRequest(sale.id, amount, "goods_quality", customer=CustomerInput(phone=phone, name="张三"))
    return refunds.request_refund(deps, world.a.actors["cashier"], req)


def rows(deps: Deps, table: t.Table) -> list[dict]:
    with engine_of(deps).connect() as c:
        return [dict(r._mapping) for r in c.execute(select(table))]


def audit(deps: Deps, case_id: str, action: str) -> list[dict]:
    with engine_of(deps).connect() as c:
        q = select(t.audit_events).where(t.audit_events.c.case_id == case_id, t.audit_events.c.action == action)
        return [dict(r._mapping) for r in c.execute(q)]


def test_each_event_is_sent_once_with_a_stable_message_id(deps: Deps, world: World) -> None:
    with gateway_server() as gw:
        router = NotifyRouter(gateways={"sms": sms_gateway(gw)}, public_url="https://r.example.cn")
        case = a_case(deps, world)  # accepted + auto-approved
        assert notify.sweep(deps, router) == 2 + 2  # two case events fanned out, two messages sent
        assert notify.sweep(deps, router) == 0  # nothing twice
        assert len(gw.arrivals) == 2 and len(gw.delivered) == 2
        ids = sorted(a.message_id for a in gw.arrivals)
        assert all(i.startswith("prn-ev") and i.endswith("-sms") for i in ids)
        first = gw.arrivals[0]
        assert first.headers["authorization"] == "Bearer sekret"
        assert first.body["mobile"] == PHONE and first.body["sign_name"] == "测试商户"
        assert first.body["out_id"] == first.message_id
        texts = gw.texts()
        assert any("已受理" in x and "¥12.34" in x and case.refund_no in x for x in texts)
        assert any("已批准" in x and "微信支付原路退回" in x for x in texts)
        assert all("https://r.example.cn/t/" in x for x in texts)
        assert not any(PHONE in x or "张三" in x for x in texts)
    sent = [n for n in rows(deps, t.notifications) if n["case_id"] == case.id]
    assert {(n["event"], n["status"], n["attempts"]) for n in sent} == {
        ("accepted", "sent", 1),
        ("approved", "sent", 1),
    }
    assert {n["recipient_masked"] for n in sent} == {"138****5678"}
    assert {n["provider_message_id"] for n in sent} == {f"P-{i}" for i in ids}
    events = audit(deps, case.id, "notify.attempt")
    assert len(events) == 2
    data = [json.loads(e["data"]) for e in events]
    assert {d["result"] for d in data} == {"sent"} and {d["gateway"] for d in data} == {"test-sms"}
    assert {d["recipient"] for d in data} == {"138****5678"}
    assert not any(PHONE in e["data"] for e in events)


def test_retries_on_5xx_and_timeouts_then_sends_once(deps: Deps, world: World, clock: FixedClock) -> None:
    with gateway_server(script=["503", "hang", "200"]) as gw:
        router = NotifyRouter(gateways={"sms": sms_gateway(gw, timeout=0.3)})
        sale = new_sale(deps, world.a, amount_fen=900_000)
        case = refunds.request_refund(
            deps,
            world.a.actors["cashier"],
            RefundRequest(sale.id, 800_000, "other", customer=CustomerInput(phone=PHONE)),
        )  # accepted + pending review: two messages; the first goes through the faults
        notify.fan_out(deps, router)
        [first, second] = sorted((n for n in rows(deps, t.notifications)), key=lambda n: n["message_id"])
        assert notify.deliver(deps, router, first["id"]) is True  # 503
        assert notify.deliver(deps, router, first["id"]) is False  # not due before its back-off
        clock.advance(seconds=RETRY_BACKOFF[0])
        assert notify.deliver(deps, router, first["id"]) is True  # timeout
        clock.advance(seconds=RETRY_BACKOFF[1])
        assert notify.deliver(deps, router, first["id"]) is True  # 200
        assert notify.deliver(deps, router, second["id"]) is True
        assert [a.message_id for a in gw.arrivals[:3]] == [first["message_id"]] * 3
        assert len(gw.delivered) == 2
    attempts = [a for a in rows(deps, t.notify_attempts) if a["notification_id"] == first["id"]]
    assert [(a["result"], a["error"]) for a in attempts] == [("retry", "HTTP 503"), ("retry", "timeout"), ("sent", "")]
    assert attempts[2]["provider_message_id"] == f"P-{first['message_id']}"
    assert [a["at"] for a in attempts] == sorted(a["at"] for a in attempts)
    final = next(n for n in rows(deps, t.notifications) if n["id"] == first["id"])
    assert (final["status"], final["attempts"]) == ("sent", 3)
    results = [json.loads(e["data"])["result"] for e in audit(deps, case.id, "notify.attempt")]
    assert results.count("retry") == 2 and results.count("sent") == 2


def test_a_4xx_is_not_retried_and_failures_stop_after_the_last_try(deps: Deps, world: World, clock: FixedClock) -> None:
    with gateway_server(script=["400"] + ["500"] * 10) as gw:
        router = NotifyRouter(gateways={"sms": sms_gateway(gw)})
        a_case(deps, world)
        notify.sweep(deps, router)
        for _ in range(10):
            clock.advance(hours=1)
            notify.sweep(deps, router)
        by_status = sorted((n["status"], n["attempts"]) for n in rows(deps, t.notifications))
        assert by_status == [("failed", 1), ("failed", 6)]
        assert len(gw.arrivals) == 7


def test_an_opted_out_customer_is_not_contacted(deps: Deps, world: World) -> None:
    with gateway_server() as gw:
        router = NotifyRouter(gateways={"sms": sms_gateway(gw)})
        first = a_case(deps, world)
        notify_admin.opt_out(deps, world.a.actors["customer_service"], first.id, "customer")
        second = a_case(deps, world)  # the same phone number, a new case: also opted out
        notify.sweep(deps, router)
        assert gw.arrivals == []
    skipped = rows(deps, t.notifications)
    assert len(skipped) == 4 and {n["status"] for n in skipped} == {"skipped"}
    assert {n["last_error"] for n in skipped} == {"opted_out"}
    for case in (first, second):
        assert [json.loads(e["data"])["channel"] for e in audit(deps, case.id, "notify.skipped")] == ["sms", "sms"]


def test_without_a_gateway_the_message_is_skipped_and_recorded(deps: Deps, world: World) -> None:
    case = a_case(deps, world)
    notify.sweep(deps, NotifyRouter())
    assert {(n["status"], n["last_error"]) for n in rows(deps, t.notifications)} == {("skipped", "no_gateway")}
    assert len(audit(deps, case.id, "notify.skipped")) == 2


def test_no_contact_no_message(deps: Deps, world: World) -> None:
    with gateway_server() as gw:
        a_case(deps, world, phone=None)
        assert notify.sweep(deps, NotifyRouter(gateways={"sms": sms_gateway(gw)})) == 2  # events processed
        assert rows(deps, t.notifications) == [] and gw.arrivals == []
