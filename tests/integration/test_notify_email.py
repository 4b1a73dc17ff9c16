"""Email through a real SMTP server (aiosmtpd, started here): the "paid" message arrives with the right
subject, amount, masked data and a working tracking link, in the customer's language."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from posrefund.adapters.notifiers.email_smtp import SmtpSender
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications import sending, settings, tracking_links
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.notifications.settings import ContactInput
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import FixedClock, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def paid_case(deps: Deps, world: World, language: str) -> refunds.RefundCase:
    sale = new_sale(deps, world.a, amount_fen=20_000, channel="card", payer_masked="622202******1234")
    req = RefundRequest(sale.id, 1_234, "goods_quality", customer=CustomerInput(phone="13812345678", name="李四"))
    case = refunds.request_refund(deps, world.a.actors["cashier"], req)
    settings.set_contact(
        deps, world.a.actors["customer_service"], case.id, ContactInput(language=language, email="li.si@example.com")
    )
    router = Router(channels={"card": FakeChannel(name="card")}, is_workday=lambda d: d.weekday() < 5)
    execution.sweep(deps, router)
    done = refunds.get_case(deps, world.a.actors["auditor"], case.id).case
    assert done.status.value == "succeeded" and done.expected_arrival is not None
    return done


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("zh", "退款已退回", ["已于", "预计", "银行卡原路退回"]),
        ("en", "Refund paid", ["paid back on", "expect it by", "bank card"]),
    ],
)
def test_paid_email_arrives_in_the_customers_language(
    language: str,
    subject: str,
    words: list[str],
    deps: Deps,
    world: World,
    clock: FixedClock,
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    case = paid_case(deps, world, language)
    sender = SmtpSender(host="127.0.0.1", port=port, sender="refunds@shop.example", name="test-smtp")
    router = NotifyRouter(gateways={"email": sender}, public_url="https://r.example.cn")
    sending.sweep(deps, router)
    subjects = [m.get("Subject") for _f, _to, m in inbox.messages]
    assert len(subjects) == 3  # accepted, approved, paid — each once
    sending.sweep(deps, router)
    assert len(inbox.messages) == 3
    mail_from, rcpt, msg = next(x for x in inbox.messages if x[2]["Subject"] == subject)
    assert mail_from == "refunds@shop.example" and rcpt == ["li.si@example.com"]
    body = msg.get_content()
    assert "¥12.34" in body and case.refund_no in body
    assert all(w in body for w in words)
    assert case.expected_arrival is not None and case.expected_arrival.isoformat() in body
    assert "622202******1234" in body  # the payer, masked
    assert "13812345678" not in body and "李四" not in body
    assert re.search(r"\d{16,19}", body) is None  # no full card number
    assert msg["Message-ID"].startswith("<prn-ev") and msg["Message-ID"].endswith("-email@posrefund.local>")
    link = re.search(r"https://r\.example\.cn/t/(\S+)", body)
    assert link is not None
    assert tracking_links.verify(deps.secret_key, link.group(1), clock.now() + timedelta(days=1)) == case.id


def test_smtp_down_is_retried(deps: Deps, world: World, clock: FixedClock, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    paid_case(deps, world, "zh")
    dead = NotifyRouter(gateways={"email": SmtpSender(host="127.0.0.1", port=1, sender="r@shop.example", timeout=1)})
    sending.sweep(deps, dead)
    assert inbox.messages == []
    clock.advance(minutes=1)
    alive = NotifyRouter(gateways={"email": SmtpSender(host="127.0.0.1", port=port, sender="r@shop.example")})
    sending.sweep(deps, alive)
    assert len(inbox.messages) == 3
