"""The console's demo SMS inbox over HTTP, with the real local SMS gateway and the real notification sweep:
what a refund's customer was texted, phone masked, time in Shanghai, each merchant only its own; there only
while the demo's gateway runs (404 and no menu link otherwise), for the roles that talk to customers."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI

from posrefund import bootstrap
from posrefund.config import Settings
from posrefund.demo import sms_inbox
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.session import LANG_COOKIE
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.notifications import sending
from posrefund.service.refunds import CustomerInput, RefundRequest
from posrefund.simulators.sms_gateway.server import SmsGatewaySimulator
from tests.conftest import Merchant, World
from tests.support.helpers import new_sale

INBOX = "/console/notify/demo-inbox"
MENU_LINK = f'href="{INBOX}"'


@pytest.fixture
def sink(app: FastAPI) -> Iterator[SmsGatewaySimulator]:
    """The demo's gateway, running, and the app reading it, as ``serve --with-simulators`` wires them."""
    with SmsGatewaySimulator() as s:
        app.state.demo_inbox = sms_inbox.reader(s)
        yield s


def _texted(deps: Deps, settings: Settings, sink: SmsGatewaySimulator, m: Merchant, phone: str) -> str:
    """A refund of ``m`` with the customer's phone; the worker's sweep tells them through the demo gateway."""
    sale = new_sale(deps, m, amount_fen=10_000)
    request = RefundRequest(sale_id=sale.id, amount_fen=2_000, reason="service_issue", customer=CustomerInput(phone))
    case = refunds.request_refund(deps, m.actors["cashier"], request)
    sending.sweep(deps, bootstrap.build_notify_router(settings, {"sms": sms_inbox.gateway(sink)}))
    return case.refund_no


def _received(sink: SmsGatewaySimulator, phone: str) -> list[dict[str, str]]:
    return [m.as_json() for m in sink.inbox.newest_first() if m.phone == phone]


def test_customer_service_reads_what_its_customers_were_texted(
    as_user: Any, world: World, deps: Deps, settings: Settings, sink: SmsGatewaySimulator
) -> None:
    refund_no = _texted(deps, settings, sink, world.a, "13912345678")
    _texted(deps, settings, sink, world.b, "13700001111")
    ours = _received(sink, "13912345678")
    assert len(ours) == 2  # the refund accepted, then waiting for a supervisor: a text for each step
    page = as_user("a.customer_service").get(INBOX)
    assert page.status_code == 200
    text = page.text
    assert text.count("<tr data-message=") == 2
    assert [f'data-message="{m["out_id"]}"' in text for m in ours] == [True, True]
    sms = ours[0]
    assert text.index(ours[0]["out_id"]) < text.index(ours[1]["out_id"])  # newest first
    assert html.escape(sms["text"]) in text and refund_no in sms["text"]  # the demo's Chinese template
    assert "139****5678" in text and "13912345678" not in text
    assert fmt.local(datetime.fromisoformat(sms["received_at"]), with_seconds=True) in text
    assert refund_no in text and MENU_LINK in text
    assert "137****1111" not in text  # merchant B's customer is not merchant A's to read


def test_each_merchant_reads_only_its_own(
    as_user: Any, world: World, deps: Deps, settings: Settings, sink: SmsGatewaySimulator
) -> None:
    _texted(deps, settings, sink, world.a, "13912345678")
    page = as_user("b.customer_service").get(INBOX).text
    assert "<tr data-message=" not in page and "139****5678" not in page
    assert "还没有短信" in page


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_the_roles_that_talk_to_customers_have_it(as_user: Any, role: str, sink: SmsGatewaySimulator) -> None:
    page = as_user(f"a.{role}").get(INBOX)
    assert page.status_code == 200 and MENU_LINK in page.text


@pytest.mark.parametrize("role", ["cashier", "finance", "risk", "auditor"])
def test_other_roles_are_refused_and_not_shown_the_link(as_user: Any, role: str, sink: SmsGatewaySimulator) -> None:
    browser = as_user(f"a.{role}")
    assert browser.get(INBOX).status_code == 403
    assert MENU_LINK not in browser.get("/console/home").text


def test_without_the_demo_gateway_there_is_no_inbox(as_user: Any) -> None:
    browser = as_user("a.customer_service")
    assert browser.get(INBOX).status_code == 404
    assert MENU_LINK not in browser.get("/console/home").text


def test_in_english(as_user: Any, world: World, deps: Deps, settings: Settings, sink: SmsGatewaySimulator) -> None:
    _texted(deps, settings, sink, world.a, "13912345678")
    browser = as_user("a.customer_service")
    browser.client.cookies.set(LANG_COOKIE, "en")
    text = browser.get(INBOX).text
    assert "Demo SMS inbox" in text and "Received" in text and "Message ID" in text
    assert "演示短信收件箱" not in text


def test_a_gateway_that_cannot_be_read_is_said_not_failed(app: FastAPI, as_user: Any) -> None:
    with SmsGatewaySimulator() as gone:
        app.state.demo_inbox = sms_inbox.reader(gone)
    page = as_user("a.customer_service").get(INBOX)
    assert page.status_code == 200
    assert "暂时无法读取演示短信网关" in page.text


def test_a_notify_file_wins_over_the_demo_gateway(settings: Settings, tmp_path: Any) -> None:
    """A configured service never sends its customers' messages to a demo's sink."""
    with SmsGatewaySimulator() as s:
        demo = {"sms": sms_inbox.gateway(s)}
        assert bootstrap.build_notify_router(settings, demo).gateways == demo
        conf = tmp_path / "notify.toml"
        conf.write_text('[sms]\nurl = "https://sms.example.com/send"\npayload = {phone = "to", text = "text"}\n')
        configured = bootstrap.build_notify_router(settings.model_copy(update={"notify_file": conf}), demo)
    assert configured.gateways["sms"] is not demo["sms"]
    assert configured.gateways["sms"].url == "https://sms.example.com/send"  # type: ignore[attr-defined]


def test_only_the_newest_are_shown(
    as_user: Any, world: World, deps: Deps, settings: Settings, sink: SmsGatewaySimulator
) -> None:
    for n in range(11):  # two texts each: accepted, then waiting for review
        _texted(deps, settings, sink, world.a, f"139000000{n:02d}")
    assert len(sink.inbox.newest_first()) == 22
    page = as_user("a.customer_service").get(INBOX).text
    assert page.count("<tr data-message=") == 20
    assert "只显示最新的短信。未显示的更早短信：2" in page
