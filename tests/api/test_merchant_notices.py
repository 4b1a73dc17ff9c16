"""The merchant told of each step of its device return (退机) through the real gateways: SMS through the local
HTTP gateway double, email through a real SMTP server (aiosmtpd) — exact recipients, the SN, the tracking
number and the amount in yuan, each message once under a gateway's 500 and two workers at once; a rejection
with its reason, in English for a merchant that asked for it; a merchant with no address says "not sent"."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.notifiers.email_smtp import SmtpSender
from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints.api.app import create_app
from posrefund.ports.records import AuditQuery
from posrefund.service import admin, execution
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications import sending
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.provider import clock as provider_clock
from tests.conftest import PASSWORD, FixedClock
from tests.integration.test_notify_email import Inbox, smtp  # noqa: F401  (the real SMTP server)
from tests.support.limits import RELAXED
from tests.support.notifications import GatewayServer, gateway_server, sms_gateway
from tests.support.provider import JPEG, MERCHANT_DOCS, ProviderWorld, build_provider_world, device_body, upload_docs

MOBILE, EMAIL = "13700001111", "boss@pm1.example"
SHIP = {"address": "上海市浦东新区 退机仓", "courier": "顺丰", "tracking_no": "SF7000000001"}


@pytest.fixture
def app(deps: Deps, backend: str) -> FastAPI:
    router = Router(channels={}, is_workday=ChineseCalendar().is_workday)
    return create_app(deps, inline=backend == "sqlite", rate_limits=RELAXED, router=router)


@pytest.fixture
def pw(deps: Deps, app: FastAPI) -> ProviderWorld:
    return build_provider_world(deps, app)


@pytest.fixture
def sms() -> Iterator[GatewayServer]:
    with gateway_server() as gw:
        yield gw


def notify_router(sms: GatewayServer, port: int) -> NotifyRouter:
    email = SmtpSender(host="127.0.0.1", port=port, sender="desk@provider.example", name="test-smtp")
    return NotifyRouter(gateways={"sms": sms_gateway(sms), "email": email})


def set_contact(client: TestClient, pw: ProviderWorld, who: str, **body: str) -> Any:
    r = client.put(f"/v1/merchants/{pw.merchants[who]}/notify-contact", json=body, headers=pw(who))
    assert r.status_code == 200, r.text
    return r.json()


def to_receipt(client: TestClient, pw: ProviderWorld, sn: str, who: str, opener: str | None = None) -> str:
    opener = opener or who
    ids = upload_docs(client, pw(opener), sn, MERCHANT_DOCS)
    r = client.post(
        "/v1/provider/returns", json={"sn": sn, "reason": "no_reason", "document_ids": ids}, headers=pw(opener)
    )
    assert r.status_code == 201, r.text
    rid = str(r.json()["id"])
    ops = pw("p1.provider_operations")
    assert client.post(f"/v1/provider/returns/{rid}/shipping", json=SHIP, headers=ops).status_code == 200
    photo = upload_docs(client, ops, sn, {"inspection_photo": JPEG})
    body = {"inspection": "intact", "photo_ids": photo}
    assert client.post(f"/v1/provider/returns/{rid}/receipt", json=body, headers=ops).status_code == 200
    return rid


def two_workers(deps: Deps, router: NotifyRouter) -> None:
    """Two notification workers sweeping at the same moment, as two ``posrefund worker`` processes would."""
    start = threading.Barrier(2)

    def work() -> None:
        start.wait()
        sending.sweep(deps, router)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def mails_to(inbox: Inbox, address: str) -> dict[str, str]:
    """Subject → body of every email that reached ``address``."""
    out: dict[str, str] = {}
    for _sender, rcpt, msg in inbox.messages:
        if rcpt == [address]:
            assert msg["Subject"] not in out, f"twice: {msg['Subject']}"
            out[str(msg["Subject"])] = str(msg.get_content())
    return out


def test_a_return_refunded_by_transfer_tells_the_merchant_each_step_once(
    client: TestClient,
    pw: ProviderWorld,
    deps: Deps,
    clock: FixedClock,
    sms: GatewayServer,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp
    shown = set_contact(client, pw, "m1", phone=MOBILE, email=EMAIL)
    assert (shown["phone"], shown["email"], shown["language"]) == ("137****1111", "b***@pm1.example", "zh")
    # a device paid by transfer: the refund is paid once a second person records the transfer
    register = client.post(
        "/v1/provider/terminals",
        json=device_body(pw.merchants["m1"], "SN-MN0001", clock.now(), route="transfer"),
        headers=pw("p1.provider_operations"),
    )
    assert register.status_code == 201, register.text
    rid = to_receipt(client, pw, "SN-MN0001", "m1")
    finance, ops = pw("p1.provider_finance"), pw("p1.provider_operations")
    decided = client.post(f"/v1/provider/returns/{rid}/decision", json={"decision": "full_refund"}, headers=finance)
    assert decided.status_code == 200, decided.text
    execution.sweep(deps, Router(channels={}, is_workday=lambda d: d.weekday() < 5))  # handed to the desk
    paid = client.post(f"/v1/provider/returns/{rid}/confirm-transfer", json={"reference": "网银 01"}, headers=ops)
    assert paid.status_code == 200, paid.text

    router = notify_router(sms, port)
    sms.script = ["500"]  # the SMS gateway fails once: that message is tried again after its back-off
    two_workers(deps, router)
    clock.advance(seconds=11)
    two_workers(deps, router)
    clock.advance(minutes=5)
    sending.sweep(deps, router)  # nothing is left to send

    mine = {a.message_id: a.body["content"] for a in sms.delivered.values() if a.body["mobile"] == MOBILE}
    others = [(a.body["mobile"], a.body["content"]) for a in sms.delivered.values() if a.body["mobile"] != MOBILE]
    assert others == []  # the refund's shopper SMS is not sent to the merchant besides its own notice
    steps = ["opened", "shipping_approved", "received", "decided", "deactivated", "refund_paid"]
    assert sorted(mine) == sorted(f"prn-{rid}-{step}-sms" for step in steps)
    tries = [a.message_id for a in sms.arrivals if a.message_id in mine]
    assert len(tries) == len(mine) + 1  # each once, and the one the gateway refused once more
    texts = [mine[f"prn-{rid}-{step}-sms"] for step in steps]
    assert "SN-MN0001" in texts[0] and "商户 PM1" in texts[0]
    assert "上海市浦东新区 退机仓" in texts[1] and "顺丰" in texts[1] and "SF7000000001" in texts[1]
    assert "完好" in texts[2] and "2026-11-25" in texts[2]
    assert texts[3] == "商户 PM1：终端 SN-MN0001 退机处理结果为全额退款 ¥399.00，款项将原路退回。"
    assert "已于 2026-11-20 " in texts[4] and "停用" in texts[4]
    assert "¥399.00" in texts[5] and "SN-MN0001" in texts[5]

    mails = mails_to(inbox, EMAIL)
    assert sorted(mails) == sorted(
        [
            "退机申请已受理",
            "退机已同意，请寄回终端",
            "终端已收到并验机",
            "退机结果：全额退款",
            "终端已停用",
            "退机退款已退回",
        ]
    )
    assert "SF7000000001" in mails["退机已同意，请寄回终端"] and "¥399.00" in mails["退机退款已退回"]
    for body in [*texts, *mails.values()]:
        assert MOBILE not in body and re.search(r"\d{16,19}", body) is None

    notices = client.get("/v1/provider/notices", headers=pw("m1")).json()["items"]
    assert [n["kind"] for n in notices] == list(reversed(steps))
    for n in notices:
        assert {(d["channel"], d["status"], d["recipient"]) for d in n["delivery"]} == {
            ("sms", "sent", "137****1111"),
            ("email", "sent", "b***@pm1.example"),
        }
    with deps.uow(readonly=True) as uow:
        trail = uow.audit.browse(pw.merchants["m1"], AuditQuery(action="notify.attempt", limit=100))
    results = sorted((json.loads(e["data"])["channel"], json.loads(e["data"])["result"]) for e in trail)
    assert results == sorted([("sms", "sent")] * 6 + [("sms", "retry")] + [("email", "sent")] * 6)


def test_a_rejection_tells_its_reason_in_the_merchants_language(
    client: TestClient,
    pw: ProviderWorld,
    deps: Deps,
    clock: FixedClock,
    sms: GatewayServer,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp
    set_contact(client, pw, "m2", email="owner@pm2.example", language="en")
    body = device_body(pw.merchants["m2"], "SN-MN0002", clock.now())
    assert client.post("/v1/provider/terminals", json=body, headers=pw("p1.provider_operations")).status_code == 201
    rid = to_receipt(client, pw, "SN-MN0002", "m2")
    reason = "外壳有人为损坏，不在退机范围"
    r = client.post(
        f"/v1/provider/returns/{rid}/decision",
        json={"decision": "rejection", "reason": reason},
        headers=pw("p1.provider_finance"),
    )
    assert r.status_code == 200, r.text
    router = notify_router(sms, port)
    sending.sweep(deps, router)
    sending.sweep(deps, router)
    mails = mails_to(inbox, "owner@pm2.example")
    assert mails["Device return: not accepted"] == (
        f"商户 PM2: the return of terminal SN-MN0002 was not accepted. Reason: {reason}. The terminal stays in use.\n"
    )
    assert "Terminal disabled" not in mails  # a rejected device goes back into use
    # the merchant gave no mobile of its own: its registered phone (a mobile) takes the SMS, in English
    [decided] = [a for a in sms.delivered.values() if a.message_id == f"prn-{rid}-decided-sms"]
    assert decided.body["mobile"] == "13912345678" and reason in decided.body["content"]


def test_a_merchant_without_any_address_is_told_not_sent(
    client: TestClient,
    pw: ProviderWorld,
    deps: Deps,
    clock: FixedClock,
    sms: GatewayServer,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp
    p1 = pw.staff["p1.provider_admin"]
    m = admin.create_merchant(deps, p1, code="PM9", name="无号商户", contact_phone="021-12345678")  # a landline
    u = admin.create_user(deps, p1, username="pm9_admin", password=PASSWORD, role="admin", merchant_id=m["id"])
    boss = Actor(id=u["id"], role=Role.ADMIN, merchant_id=m["id"], name="pm9_admin")
    body = device_body(m["id"], "SN-MN0009", clock.now())
    assert client.post("/v1/provider/terminals", json=body, headers=pw("p1.provider_operations")).status_code == 201
    rid = to_receipt(client, pw, "SN-MN0009", "m1", opener="p1.provider_service")
    sending.sweep(deps, notify_router(sms, port))
    assert [a for a in sms.arrivals if rid in a.message_id] == [] and inbox.messages == []
    notices = provider_clock.notices(deps, boss)
    assert [n["kind"] for n in notices] == ["received", "shipping_approved", "opened"]
    for n in notices:
        assert [(d["channel"], d["status"], d["reason"]) for d in n["delivery"]] == [
            ("sms", "skipped", "no_contact"),
            ("email", "skipped", "no_contact"),
        ]
    with deps.uow(readonly=True) as uow:
        skipped = uow.audit.browse(m["id"], AuditQuery(action="notify.skipped", limit=100))
    assert len(skipped) == 6 and {e["reason"] for e in skipped} == {"no_contact"}


def test_the_merchants_contact_is_refused_when_wrong_and_never_shown_in_clear(
    client: TestClient, pw: ProviderWorld, deps: Deps
) -> None:
    url = f"/v1/merchants/{pw.merchants['m1']}/notify-contact"
    bad = client.put(url, json={"phone": "12345"}, headers=pw("m1"))
    assert (bad.status_code, bad.json()["code"]) == (422, "pii.invalid_phone")
    bad = client.put(url, json={"email": "not-an-address"}, headers=pw("m1"))
    assert (bad.status_code, bad.json()["code"]) == (422, "notify.invalid_email")
    other = client.put(url, json={"phone": MOBILE}, headers=pw("p2.provider_admin"))
    assert (other.status_code, other.json()["code"]) == (404, "merchant.not_found")
    theirs = client.put(f"/v1/merchants/{pw.merchants['m2']}/notify-contact", json={}, headers=pw("m1"))
    assert (theirs.status_code, theirs.json()["code"]) == (404, "merchant.not_found")
    desk = client.put(url, json={"phone": MOBILE, "language": "en"}, headers=pw("p1.provider_admin"))
    assert desk.status_code == 200 and desk.json()["phone"] == "137****1111"
    shown = client.get(url, headers=pw("m1"))
    assert shown.status_code == 200 and MOBILE not in shown.text and shown.json()["language"] == "en"
    with deps.uow(readonly=True) as uow:
        row = uow.notify_settings.merchant_contact(pw.merchants["m1"])
    assert row is not None and row["phone_enc"] and MOBILE not in row["phone_enc"]
    assert deps.cipher.decrypt(row["phone_enc"]) == MOBILE
