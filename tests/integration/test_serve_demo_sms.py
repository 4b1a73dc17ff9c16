"""``posrefund serve --with-simulators`` tells the customer: a refund given with a phone number is texted at
each of its steps through the demo's local SMS gateway, each message exactly once, and the console's demo
inbox (whose address the start-up banner prints) shows them, phone masked."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from posrefund.service import refunds
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.support.demo_serve import Demo, console_client, demo_served, sent_when_paid
from tests.support.helpers import new_sale

INBOX = "/console/notify/demo-inbox"
PHONE = "13912345678"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with demo_served(tmp_path_factory.mktemp("serve-sms")) as d:
        yield d


def test_the_banner_names_the_inbox(demo: Demo) -> None:
    assert f"演示短信收件箱 / demo SMS inbox: {demo.base}{INBOX}" in demo.banner()
    assert re.search(r"simulator sms: http://127\.0\.0\.1:\d+", demo.banner())


def test_a_refund_with_a_phone_texts_the_customer_once_per_step(demo: Demo) -> None:
    a = demo.world.a
    sale = new_sale(demo.deps, a, amount_fen=10_000)
    request = RefundRequest(sale_id=sale.id, amount_fen=2_000, reason="service_issue", customer=CustomerInput(PHONE))
    case = refunds.request_refund(demo.deps, a.actors["cashier"], request)
    assert case.status.value == "approved"  # within the merchant's auto-approval limit
    sent = sent_when_paid(demo, case.id)
    assert sorted(r["event"] for r in sent) == ["accepted", "approved", "paid"]
    assert {r["channel"] for r in sent} == {"sms"}
    with console_client(demo.base, a.usernames["customer_service"]) as browser:
        page = browser.get(INBOX)
    assert page.status_code == 200
    shown = re.findall(r'<tr data-message="([^"]+)"', page.text)
    assert sorted(shown) == sorted(r["message_id"] for r in sent)  # each step's text, each once
    assert page.text.count("139****5678") == len(sent) and PHONE not in page.text
    assert case.refund_no in page.text and "已退款" in page.text  # the paid step among them


def test_another_merchant_sees_none_of_it(demo: Demo) -> None:
    with console_client(demo.base, demo.world.b.usernames["customer_service"]) as browser:
        page = browser.get(INBOX)
    assert page.status_code == 200 and "<tr data-message=" not in page.text
