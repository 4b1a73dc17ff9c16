"""The console's printable documents: from a card refund's page to its bank application (prepare, download
the PDF, record submission and outcome, in Chinese, each step on the case's timeline), refusals shown beside
their fields, another merchant's case not found; and the refund-cause summary page with its PDF."""

from __future__ import annotations

import io
from collections.abc import Callable

from pypdf import PdfReader

from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.console.conftest import Browser
from tests.support.helpers import new_sale

SignIn = Callable[[str], Browser]


def _card_case(deps: Deps, world: World) -> str:
    sale = new_sale(deps, world.a, channel="card", amount_fen=52_000, payer_masked="622848******0042")
    case = refunds.request_refund(deps, world.a.actors["cashier"], RefundRequest(sale.id, 52_000, "wrong_amount"))
    return case.id


def test_bank_application_from_the_case_page(deps: Deps, world: World, as_user: SignIn) -> None:
    case_id = _card_case(deps, world)
    finance = as_user("a.finance")
    page = finance.get(f"/console/cases/{case_id}")
    assert page.status_code == 200 and f"/console/cases/{case_id}/bank-application" in page.text
    base = f"/console/cases/{case_id}/bank-application"
    assert "准备新的退费申请" in finance.get(base).text
    r = finance.post(
        base, {"reason": "too_old", "statement": "交易已超过 180 天", "attachments": "签购单复印件\n身份证复印件"}
    )
    assert r.status_code == 200 and "已准备（待递交）" in r.text and "超过终端可退货期限" in r.text
    app_id = r.text.split("/bank-application/")[1].split("/")[0]
    pdf = finance.get(f"{base}/{app_id}/form.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "622848******0042" in text and "¥520.00" in text and "身份证复印件" in text

    bad = finance.post(
        f"{base}/{app_id}/submit", {"submitted_on": "2026-12-31", "channel": "counter", "bank": "工商银行"}
    )
    assert bad.status_code == 422 and "递交日期须在近一年内且不能晚于今天" in bad.text
    r = finance.post(
        f"{base}/{app_id}/submit",
        {"submitted_on": "2026-11-20", "channel": "counter", "bank": "工商银行", "bank_reference": "ICBC-1"},
    )
    assert r.status_code == 200 and "已递交银行（待答复）" in r.text and "ICBC-1" in r.text
    r = finance.post(
        f"{base}/{app_id}/outcome", {"outcome": "rejected", "outcome_on": "2026-11-20", "bank_reply": "超过受理期限"}
    )
    assert r.status_code == 200 and "银行已拒绝" in r.text and "超过受理期限" in r.text
    timeline = finance.get(f"/console/cases/{case_id}").text
    assert "准备退费申请" in timeline and "银行拒绝退费申请" in timeline

    cashier = as_user("a.cashier")
    assert cashier.post(base, {"reason": "too_old"}).status_code == 403
    other = as_user("b.finance")
    assert other.get(base).status_code == 404


def test_summary_page_and_pdf(deps: Deps, world: World, as_user: SignIn) -> None:
    _card_case(deps, world)
    boss = as_user("a.supervisor")
    page = boss.get("/console/reports/summary?period=2026-11")
    assert page.status_code == 200
    assert "退款原因月报" in page.text and "错收金额" in page.text and 'class="doc-table scroll"' in page.text
    pdf = boss.get("/console/reports/summary.pdf?period=2026-11")
    assert pdf.status_code == 200 and "主要退款原因" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    bad = boss.get("/console/reports/summary?period=2026-13")
    assert bad.status_code == 422 and "周期格式不正确" in bad.text
    assert as_user("a.cashier").get("/console/reports/summary").status_code == 403
