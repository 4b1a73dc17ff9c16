"""The refund-cause summary (退款原因月报) of the demo month (the risk demo's November: four stores, twenty
cashiers, honest returns and planted schemes), on SQLite and PostgreSQL: its figures agree with the month
loaded, it reads as HTML and as a PDF whose Chinese headings come back as text from an embedded font, and it
reaches the real SMTP test server once per subscriber and period — two workers at once send each once, and a
second round sends nothing."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from pypdf import PdfReader

from posrefund.adapters.notifiers.email_smtp import SmtpSender
from posrefund.demo.risk_load import load_month
from posrefund.demo.risk_schemes import plan_month
from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints.worker.loop import summary_round
from posrefund.service.deps import Deps
from posrefund.service.documents import summary_delivery
from posrefund.service.documents.html import document_page
from posrefund.service.documents.summary import cause_summary
from posrefund.service.documents.summary_delivery import SubscriptionInput
from posrefund.service.documents.summary_document import summary_document
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.reports import upkeep
from tests.conftest import FixedClock
from tests.integration.test_notify_email import Inbox, smtp  # noqa: F401 - the SMTP server fixture

MONTH_END = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 1 December 00:00 in Shanghai
HEADINGS = ("退款原因月报", "总览", "主要退款原因", "金额最大的退款", "到账最慢的退款", "仍未办结", "改进建议")


@pytest.fixture
def month(deps: Deps, clock: FixedClock) -> Iterator[dict[str, Any]]:
    clock.at = MONTH_END + timedelta(days=1, hours=2)  # 2 December, 10:00 in Shanghai: November is complete
    key = load_month(deps, plan_month(MONTH_END, days=30, sales_per_shift=6), "SUMM")
    admin = _actor(key, "admin")
    upkeep.rebuild_period(deps, admin, datetime(2026, 10, 1).date(), datetime(2026, 11, 30).date())
    yield key


def _actor(key: dict[str, Any], role: str) -> Actor:
    user = next(u for u in key["users"] if u["role"] == role)
    return Actor(id=user["id"], role=Role(role), merchant_id=key["merchant_id"], name=role)


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _embedded_fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            for d in font.get("/DescendantFonts", []):
                descriptor = d.get_object()["/FontDescriptor"].get_object()
                if "/FontFile2" in descriptor:
                    names.add(str(descriptor["/FontName"]))
    return names


def test_month_summary_as_html_and_pdf(deps: Deps, month: dict[str, Any], backend: str) -> None:
    started = time.perf_counter()
    s = cause_summary(deps, _actor(month, "supervisor"), "2026-11")
    built = time.perf_counter() - started
    assert (s.cadence, s.period.first.isoformat(), s.period.last.isoformat()) == ("monthly", "2026-11-01", "2026-11-30")
    assert s.total.refunds == month["refunds"] and len(s.stores) == 4
    assert sum(c.refunds for c in s.total.causes) == month["refunds"]
    assert s.total.causes[0].refunds == max(c.refunds for c in s.total.causes)
    assert len(s.notable["largest"]) == 5 and s.notable["largest"][0].amount_fen >= s.notable["largest"][-1].amount_fen
    assert {c.status for c in s.notable["abnormal"]} <= {"failed", "closed", "abnormal"}
    assert any(a.rule == "keyed_amount" and a.place == "terminal" for a in s.advice), s.advice
    doc = summary_document(s, deps.clock.now())
    html = document_page(doc)
    assert all(h in html for h in HEADINGS) and "¥" in html and 'lang="zh-CN"' in html
    assert deps.pdf is not None
    started = time.perf_counter()
    pdf = deps.pdf.render(doc)
    rendered = time.perf_counter() - started
    print(
        f"\nsummary of {s.total.refunds} refunds ({backend}): built in {built:.2f} s, PDF {len(pdf) // 1024} KiB in {rendered:.2f} s, {len(PdfReader(io.BytesIO(pdf)).pages)} pages, {len(s.advice)} suggestions"
    )
    text = _text(pdf)
    assert all(h in text for h in HEADINGS), text[:400]
    assert "错收金额" in text and "建议" in text
    assert any("WenQuanYi" in name for name in _embedded_fonts(pdf))


def _subscribe(deps: Deps, month: dict[str, Any], role: str, email: str) -> None:
    summary_delivery.subscribe(deps, _actor(month, role), SubscriptionInput("monthly", email))


def test_delivered_once_per_subscriber_and_period(
    deps: Deps,
    month: dict[str, Any],
    clock: FixedClock,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp
    _subscribe(deps, month, "supervisor", "dianzhang@shop.example")
    _subscribe(deps, month, "admin", "laoban@shop.example")
    sender = SmtpSender(host="127.0.0.1", port=port, sender="reports@shop.example", name="test-smtp")
    counts: list[int] = []

    def worker() -> None:  # the worker's housekeeping round, in two workers at once
        counts.append(summary_round(deps, NotifyRouter(gateways={"email": sender})))

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sum(counts) == 2
    assert sorted(to[0] for _f, to, _m in inbox.messages) == ["dianzhang@shop.example", "laoban@shop.example"]
    msg: EmailMessage = inbox.messages[0][2]
    assert msg["Subject"] == "风险演示商户 SUMM 退款原因月报（2026-11）"
    html = msg.get_body(preferencelist=("html",))
    assert html is not None and "主要退款原因" in html.get_content()
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["refund-causes-2026-11.pdf"]
    assert "改进建议" in _text(attachments[0].get_content())
    clock.advance(hours=1)
    assert summary_round(deps, NotifyRouter(gateways={"email": sender})) == 0
    assert len(inbox.messages) == 2
