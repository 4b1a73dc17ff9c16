"""The demo's SMS inbox in a real browser, on ``posrefund serve --with-simulators`` (the page is only there
while the demo's SMS gateway runs, so the console's page walk lists it here): a cashier takes a refund with
the customer's mobile number at a phone's width, customer service finds the customer texted at each step in
the inbox its menu leads to, phone masked; the page fits 360–768 px and passes axe, in Chinese and English."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, expect

from posrefund.entrypoints.console.session import LANG_COOKIE
from tests.e2e.conftest import CHROMIUM, Live, sign_in, watched_page
from tests.e2e.test_console_layout_a11y_browser import AXE_WIDTH, HEIGHT, _names, _problems, _problems_of_layout
from tests.support.demo_serve import Demo, demo_served, sent_when_paid
from tests.support.helpers import new_sale

INBOX = "/console/notify/demo-inbox"
PHONE, MASKED = "13800138000", "138****8000"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, Live]]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: run the suite with `make test` (scripts/browser installs it)")
        pytest.skip("chromium not installed (scripts/browser installs it)")
    root = tmp_path_factory.mktemp("demo-inbox")
    shots = Path(os.environ.get("POSREFUND_SCREENSHOT_DIR") or root / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with demo_served(root) as d:
        yield d, Live(d.base, d.deps, d.world, shots)


def test_customer_service_reads_the_customers_texts_in_the_demo_inbox(
    chromium: Browser, demo: tuple[Demo, Live]
) -> None:
    served, live = demo
    sale = new_sale(live.deps, live.world.a, amount_fen=10_000)
    with watched_page(chromium, {"width": AXE_WIDTH, "height": HEIGHT}, timeout_ms=15_000) as page:
        sign_in(page, live, "a.cashier")
        page.goto(live.url(f"/console/sales/{sale.id}"))
        page.get_by_role("link", name="发起退款").click()
        page.fill("#f-amount", "20.00")
        page.get_by_label("退款原因").select_option(label="顾客取消 / 不想要了")
        page.get_by_label("顾客手机号", exact=True).fill(PHONE)
        page.get_by_role("button", name="提交退款申请").click()
        expect(page).to_have_url(re.compile(r"/console/desk/answer/[\w-]+$"))
        case_id = page.url.rsplit("/", 1)[1]
    sent = sent_when_paid(served, case_id)
    with watched_page(chromium, {"width": AXE_WIDTH, "height": HEIGHT}, timeout_ms=15_000) as page:
        sign_in(page, live, "a.customer_service")
        page.get_by_role("link", name="演示短信收件箱", exact=True).click()
        expect(page).to_have_url(live.url(INBOX))
        texts = page.locator("tr[data-message]").filter(has_text=MASKED)
        expect(texts).to_have_count(len(sent))  # accepted, approved, refunded: each once
        expect(texts.first).to_contain_text("已退款")
        assert PHONE not in page.content()
        live.shot(page, "60-demo-sms-inbox-390")
        axe = Axe()
        problems = _problems(page, axe, INBOX, _names(live))
        page.context.add_cookies([{"name": LANG_COOKIE, "value": "en", "url": live.url("/console/")}])
        page.goto(live.url(INBOX))
        expect(page.get_by_role("heading", name=re.compile("Demo SMS inbox"))).to_be_visible()
        problems += _problems_of_layout(page, axe, f"{INBOX} (English)")
    assert not problems, "\n".join(problems)
