"""SMS through a real HTTP gateway (a local server): sent once per event with a stable message id,
retried on 5xx and timeouts with back-off, not retried on 4xx, never sent to an opted-out customer;
every attempt recorded and audited on the case."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from posrefund.adapters.db import tables
from posrefund.adapters.notifiers.http_gateway import gateway_from
from posrefund.bootstrap import build_notify_router, engine_of
from posrefund.config import Settings
from posrefund.domain.notification import RETRY_BACKOFF
from posrefund.entrypoints import worker
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications import sending
from posrefund.service.notifications import settings as notification_settings
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import FixedClock, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale
from tests.support.notifications import gateway_server, sms_gateway

PHONE = "13812345678"


def a_case(deps: Deps, world: World, amount: int = 1_234, phone: str | None = PHONE) -> refunds.RefundCase:
    sale = new_sale(deps, world.a, amount_fen=10_000, payer_masked="o***ab")
    req = RefundRequest(sale.id, amount, "goods_quality", customer=CustomerInput(phone=phone, name="张三"))
    return refunds.request_refund(deps, world.a.actors["cashier"], req)


def rows(deps: Deps, table: tables.Table) -> list[dict]:
    with engine_of(deps).connect() as c:
        return [dict(r._mapping) for r in c.execute(select(table))]


def audit(deps: Deps, case_id: str, action: str) -> list[dict]:
    with engine_of(deps).connect() as c:
        q = select(tables.audit_events).where(
            tables.audit_events.c.case_id == case_id, tables.audit_events.c.action == action
        )
        return [dict(r._mapping) for r in c.execute(q)]


def test_each_event_is_sent_once_with_a_stable_message_id(deps: Deps, world: World) -> None:
    with gateway_server() as gw:
        router = NotifyRouter(gateways={"sms": sms_gateway(gw)}, public_url="https://r.example.cn")
        case = a_case(deps, world)  # accepted + auto-approved
        assert sending.sweep(deps, router) == 2 + 2  # two case events fanned out, two messages sent
        assert sending.sweep(deps, router) == 0  # nothing twice
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
    sent = [n for n in rows(deps, tables.notifications) if n["case_id"] == case.id]
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
        sending.fan_out(deps, router)
        [first, second] = sorted((n for n in rows(deps, tables.notifications)), key=lambda n: n["message_id"])
        assert sending.deliver(deps, router, first["id"]) is True  # 503
        assert sending.deliver(deps, router, first["id"]) is False  # not due before its back-off
        clock.advance(seconds=RETRY_BACKOFF[0])
        assert sending.deliver(deps, router, first["id"]) is True  # timeout
        clock.advance(seconds=RETRY_BACKOFF[1])
        assert sending.deliver(deps, router, first["id"]) is True  # 200
        assert sending.deliver(deps, router, second["id"]) is True
        assert [a.message_id for a in gw.arrivals[:3]] == [first["message_id"]] * 3
        assert len(gw.delivered) == 2
    attempts = [a for a in rows(deps, tables.notify_attempts) if a["notification_id"] == first["id"]]
    assert [(a["result"], a["error"]) for a in attempts] == [("retry", "HTTP 503"), ("retry", "timeout"), ("sent", "")]
    assert attempts[2]["provider_message_id"] == f"P-{first['message_id']}"
    assert [a["at"] for a in attempts] == sorted(a["at"] for a in attempts)
    final = next(n for n in rows(deps, tables.notifications) if n["id"] == first["id"])
    assert (final["status"], final["attempts"]) == ("sent", 3)
    results = [json.loads(e["data"])["result"] for e in audit(deps, case.id, "notify.attempt")]
    assert results.count("retry") == 2 and results.count("sent") == 2


def test_a_4xx_is_not_retried_and_failures_stop_after_the_last_try(deps: Deps, world: World, clock: FixedClock) -> None:
    with gateway_server(script=["400"] + ["500"] * 10) as gw:
        router = NotifyRouter(gateways={"sms": sms_gateway(gw)})
        a_case(deps, world)
        sending.sweep(deps, router)
        for _ in range(10):
            clock.advance(hours=1)
            sending.sweep(deps, router)
        by_status = sorted((n["status"], n["attempts"]) for n in rows(deps, tables.notifications))
        assert by_status == [("failed", 1), ("failed", 6)]
        assert len(gw.arrivals) == 7


def test_an_opted_out_customer_is_not_contacted(deps: Deps, world: World) -> None:
    with gateway_server() as gw:
        router = NotifyRouter(gateways={"sms": sms_gateway(gw)})
        first = a_case(deps, world)
        notification_settings.opt_out(deps, world.a.actors["customer_service"], first.id, "customer")
        second = a_case(deps, world)  # the same phone number, a new case: also opted out
        sending.sweep(deps, router)
        assert gw.arrivals == []
    skipped = rows(deps, tables.notifications)
    assert len(skipped) == 4 and {n["status"] for n in skipped} == {"skipped"}
    assert {n["last_error"] for n in skipped} == {"opted_out"}
    for case in (first, second):
        assert [json.loads(e["data"])["channel"] for e in audit(deps, case.id, "notify.skipped")] == ["sms", "sms"]


def test_without_a_gateway_the_message_is_skipped_and_recorded(deps: Deps, world: World) -> None:
    case = a_case(deps, world)
    sending.sweep(deps, NotifyRouter())
    assert {(n["status"], n["last_error"]) for n in rows(deps, tables.notifications)} == {("skipped", "no_gateway")}
    assert len(audit(deps, case.id, "notify.skipped")) == 2


def test_no_contact_no_message(deps: Deps, world: World) -> None:
    with gateway_server() as gw:
        a_case(deps, world, phone=None)
        assert sending.sweep(deps, NotifyRouter(gateways={"sms": sms_gateway(gw)})) == 2  # events processed
        assert rows(deps, tables.notifications) == [] and gw.arrivals == []


def test_the_worker_loop_sends_through_gateways_from_the_notify_file(
    deps: Deps, world: World, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gateway_server() as gw:
        (tmp_path / "notify.toml").write_text(
            f"""public_url = "https://track.example.cn"
[sms]
name = "file-sms"
url = "{gw.url}"
credential_env = "TEST_SMS_TOKEN"
response_id = "data.msgid"
[sms.payload]
mobile = "to"
content = "text"
out_id = "message_id"
""",
            encoding="utf-8",
        )
        monkeypatch.setenv("TEST_SMS_TOKEN", "from-env")
        notify_router = build_notify_router(settings.model_copy(update={"notify_file": tmp_path / "notify.toml"}))
        case = a_case(deps, world)
        steps = worker.run(
            deps,
            Router(channels={"wechat": FakeChannel()}, is_workday=lambda d: True),
            threading.Event(),
            once=True,
            notify_router=notify_router,
        )
        assert steps >= 3 and len(gw.delivered) == 3  # accepted, approved, and paid in the same round
        assert any("已退回" in x or "¥12.34 已于" in x for x in gw.texts())
        assert {a.headers["authorization"] for a in gw.arrivals} == {"Bearer from-env"}
        assert all("https://track.example.cn/t/" in x for x in gw.texts())
    assert {json.loads(e["data"])["gateway"] for e in audit(deps, case.id, "notify.attempt")} == {"file-sms"}


def test_wechat_template_message_with_a_nested_payload(deps: Deps, world: World) -> None:
    with gateway_server() as gw:
        wechat = gateway_from(
            "wechat",
            {
                "name": "wx-relay",
                "url": gw.url,
                "message_id_header": "Idempotency-Key",
                "payload": {
                    "touser": "to",
                    "template_id": "=TM00015",
                    "data.first.value": "subject",
                    "data.remark.value": "text",
                    "client_msg_id": "message_id",
                },
            },
            "",
        )
        case = a_case(deps, world, phone=None)
        notification_settings.set_contact(
            deps,
            world.a.actors["customer_service"],
            case.id,
            notification_settings.ContactInput(language="en", wechat_openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        )
        sending.sweep(deps, NotifyRouter(gateways={"wechat": wechat}))
        bodies = [a.body for a in gw.delivered.values()]
    assert len(bodies) == 2
    assert {b["touser"] for b in bodies} == {"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    assert {b["template_id"] for b in bodies} == {"TM00015"}
    assert {b["data"]["first"]["value"] for b in bodies} == {"Refund request received", "Refund approved"}
    assert all("¥12.34" in b["data"]["remark"]["value"] for b in bodies)
    assert all(b["client_msg_id"].endswith("-wechat") for b in bodies)
    masked = {n["recipient_masked"] for n in rows(deps, tables.notifications)}
    assert masked == {"oUp***S6o"}
