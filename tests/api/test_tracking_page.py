"""The customer's tracking page: a valid link shows the status and nothing personal; a changed, forged or
expired link is refused with a clear page; the customer can confirm receipt (closing the follow-up) and
stop messages there."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications import follow_up, sending, tracking_links
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import FixedClock, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale
from tests.support.notifications import gateway_server, sms_gateway

PHONE = "13812345678"


def a_case(deps: Deps, world: World, pay: bool = True) -> refunds.RefundCase:
    sale = new_sale(deps, world.a, amount_fen=20_000, channel="card", payer_masked="622202******1234")
    req = RefundRequest(
        sale.id, 5_678, "goods_quality", customer=CustomerInput(phone=PHONE, name="王小明", id_no="11010519491231002X")
    )
    case = refunds.request_refund(deps, world.a.actors["cashier"], req)
    if pay:
        execution.sweep(deps, Router(channels={"card": FakeChannel(name="card")}, is_workday=lambda d: True))
    return refunds.get_case(deps, world.a.actors["auditor"], case.id).case


def link(deps: Deps, case_id: str, days: int = 30) -> str:
    return "/t/" + tracking_links.sign(deps.secret_key, case_id, deps.clock.now() + timedelta(days=days))


def test_a_valid_link_shows_the_status_and_nothing_personal(client: TestClient, deps: Deps, world: World) -> None:
    case = a_case(deps, world)
    r = client.get(link(deps, case.id))
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    page = r.text
    assert 'data-status="succeeded"' in page and "已退款" in page
    assert "¥56.78" in page and "银行卡原路退回" in page and "622202******1234" in page
    assert case.expected_arrival is not None and case.expected_arrival.isoformat() in page
    assert "商户 MA" in page and case.refund_no in page
    for personal in (PHONE, "138****5678", "王小明", "王**", "11010519491231002X", "110***********002X"):
        assert personal not in page
    en = client.get(link(deps, case.id) + "?lang=en").text
    assert "paid back" in en and "Your refund" in en and "bank card" in en


def test_a_changed_forged_or_expired_link_is_refused(
    client: TestClient, deps: Deps, world: World, clock: FixedClock
) -> None:
    case = a_case(deps, world, pay=False)
    good = link(deps, case.id, days=1)
    token = good.removeprefix("/t/")
    head, mac = token.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    other_case = tracking_links.sign(deps.secret_key, "rfd_someone_else", clock.now() + timedelta(days=1))
    forged = other_case.split(".")[0] + "." + mac  # another case id under this token's MAC
    wrong_key = tracking_links.sign("x" * 40, case.id, clock.now() + timedelta(days=1))
    for bad in (f"{head}.{flipped}", forged, wrong_key, "garbage", "a.b.c", token + "x"):
        r = client.get(f"/t/{bad}")
        assert r.status_code == 403, bad
        assert 'id="refused"' in r.text and "链接无效" in r.text and "¥" not in r.text
    assert client.get(good).status_code == 200
    clock.advance(days=1, seconds=1)
    r = client.get(good + "?lang=en")
    assert r.status_code == 410 and "expired" in r.text and case.refund_no not in r.text
    assert client.post(good.replace("/t/", "/t/") + "/confirm").status_code == 410


def test_the_customer_confirms_receipt_and_closes_the_follow_up(
    client: TestClient, deps: Deps, world: World, clock: FixedClock
) -> None:
    case = a_case(deps, world)
    assert case.expected_arrival is not None
    clock.at = clock.at + timedelta(days=(case.expected_arrival - clock.at.date()).days + 1)
    assert follow_up.sweep(deps) == 1  # past the expected arrival: a follow-up for customer service
    assert [f["case_id"] for f in follow_up.list_followups(deps, world.a.actors["customer_service"])] == [case.id]
    url = link(deps, case.id)
    page = client.get(url).text
    assert 'id="confirm"' in page
    r = client.post(url + "/confirm")
    assert r.status_code == 200 and "您已确认收到退款" in r.text and 'id="confirm"' not in r.text
    assert follow_up.list_followups(deps, world.a.actors["customer_service"]) == []
    closed = follow_up.list_followups(deps, world.a.actors["customer_service"], status="closed")
    assert [(f["case_id"], f["closed_how"]) for f in closed] == [(case.id, "customer")]
    assert client.post(url + "/confirm").status_code == 200  # a second click changes nothing
    with engine_of(deps).connect() as c:
        events = c.execute(
            select(tables.audit_events.c.action, tables.audit_events.c.actor_role).where(
                tables.audit_events.c.case_id == case.id
            )
        ).all()
    assert ("followup.opened", "system") in events
    assert [e for e in events if e[0] == "followup.closed"] == [("followup.closed", "customer")]


def test_confirming_before_the_money_is_paid_is_refused(client: TestClient, deps: Deps, world: World) -> None:
    case = a_case(deps, world, pay=False)
    r = client.post(link(deps, case.id) + "/confirm")
    assert r.status_code == 409 and "尚未完成" in r.text


def test_stop_messages_from_the_page(client: TestClient, deps: Deps, world: World) -> None:
    with gateway_server() as gw:
        router = NotifyRouter(gateways={"sms": sms_gateway(gw)})
        case = a_case(deps, world, pay=False)
        sending.sweep(deps, router)
        before = len(gw.delivered)
        r = client.post(link(deps, case.id) + "/stop?lang=en")
        assert r.status_code == 200 and "no more messages" in r.text
        execution.sweep(deps, Router(channels={"card": FakeChannel(name="card")}, is_workday=lambda d: True))
        sending.sweep(deps, router)
        assert len(gw.delivered) == before  # "paid" was not sent
    with engine_of(deps).connect() as c:
        rows = c.execute(select(tables.notifications).where(tables.notifications.c.event == "paid")).all()
        opted = c.execute(
            select(tables.audit_events.c.data).where(tables.audit_events.c.action == "notify.opted_out")
        ).all()
    assert [(r.status, r.last_error) for r in rows] == [("skipped", "opted_out")]
    assert json.loads(opted[0][0]) == {"scope": "customer", "source": "tracking_page"}
