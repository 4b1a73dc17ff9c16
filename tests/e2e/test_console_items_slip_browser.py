"""The shift's walk continued in a real Chromium, at 390 and 1280 px: every counter role refunds some units of a
sale's items (the total computed by the server as the quantities are typed) and prints the refund slip in A4,
80 mm and 58 mm; the auditor browses the trail and verifies the chain; the admin previews a policy change and
issues a terminal key. Every page fits the screen (44 px targets on the phone); screenshots ``47-`` … ``55-``
(the cashier's) go to ``docs/screenshots`` with ``make screenshots``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from posrefund.domain.sale_items import numbered
from tests.e2e.conftest import Live
from tests.e2e.test_console_shift_browser import _sale, fits, person

COUNTER_ROLES = ("cashier", "supervisor", "customer_service", "admin")
LINES = numbered((("矿泉水 550ml", 2, 1_200, None), ("全麦面包", 3, 400, 1_000)))


def _shot(role: str, name: str) -> str | None:
    return name if role == "cashier" else None


@pytest.mark.parametrize("screen", ["390", "1280"])
@pytest.mark.parametrize("role", COUNTER_ROLES)
def test_an_item_refund_and_its_printed_slip(chromium: Browser, live: Live, role: str, screen: str) -> None:
    sale = _sale(live, amount_fen=3_400, items=LINES)
    with person(chromium, live, f"a.{role}", screen) as page:
        page.goto(live.url("/console/desk"))
        page.fill("#f-voucher_no", sale.voucher_no)
        page.get_by_role("button", name="查找", exact=True).click()
        page.locator(f'a[href="/console/desk/sale/{sale.id}"]').click()
        page.fill("#f-qty_2", "2")
        expect(page.locator("#items-total")).to_contain_text("¥6.66")
        page.select_option("#f-reason", "customer_cancelled")
        fits(page, screen, _shot(role, "47-item-refund-form"), live)
        page.get_by_role("button", name="提交退款申请").click()
        expect(page.locator(".answer")).to_contain_text("¥6.66")
        page.get_by_role("link", name="查看退款单").click()
        expect(page.locator("#units-h")).to_have_text("本单退货商品")
        fits(page, screen, _shot(role, "48-item-case"), live)
        page.get_by_role("link", name="打印退款单").click()
        slip = page.locator("article.slip")
        expect(slip).to_contain_text("退款凭条")
        expect(slip).to_contain_text("¥6.66")
        expect(slip.locator("svg.qr")).to_be_visible()
        fits(page, screen, _shot(role, "49-slip-a4"), live)
        for paper, text, name in (("80", "80 毫米小票", "50-slip-80"), ("58", "58 毫米小票", "51-slip-58")):
            page.get_by_role("link", name=text).click()
            expect(page.locator(f"article.slip.paper-{paper}")).to_be_visible()
            fits(page, screen, _shot(role, name), live)
        page.emulate_media(media="print")  # what the printer gets: the slip alone
        expect(page.locator("header.top")).to_be_hidden()
        expect(page.locator(".slip-tools")).to_be_hidden()
        if role == "cashier":
            live.shot(page, f"52-slip-58-printed-{screen}", full_page=False)
        page.emulate_media(media="screen")
        page.goto(live.url(f"/console/sales/{sale.id}"))
        expect(page.locator("table.lines")).to_contain_text("全麦面包")
        fits(page, screen, _shot(role, "53-sale-lines"), live)


@pytest.mark.parametrize("screen", ["390", "1280"])
def test_the_auditor_browses_and_verifies_the_admin_previews_and_issues(
    chromium: Browser, live: Live, screen: str
) -> None:
    _sale(live, amount_fen=3_400, items=LINES)
    with person(chromium, live, "a.auditor", screen) as auditor:
        auditor.get_by_role("link", name="审计日志").first.click()
        expect(auditor.get_by_role("heading", name="审计日志")).to_be_visible()
        auditor.select_option("#f-action", "sale.recorded")
        auditor.get_by_role("button", name="筛选").click()
        expect(auditor.locator(".audit-events")).to_contain_text("记录消费")
        auditor.get_by_role("button", name="校验审计链").click()
        expect(auditor.get_by_role("status").first).to_contain_text("审计链完整")
        fits(auditor, screen, "54-audit", live)
    with person(chromium, live, "a.admin", screen) as admin:
        admin.goto(live.url("/console/admin/policy"))
        admin.fill("#f-auto_approve_limit_fen", "0.00")
        admin.get_by_role("button", name="预览对近 30 天退款的影响").click()
        expect(admin.locator("#preview-h")).to_have_text("修改后的影响（近 30 天）")
        fits(admin, screen, "55-policy-preview", live)
        admin.goto(live.url("/console/admin/terminals"))
        admin.locator("summary", has_text="管理").first.click()
        admin.get_by_role("button", name="签发新密钥").first.click()
        expect(admin.locator("#issued-key")).to_have_value(re.compile(r"^key_"))
        fits(admin, screen, "56-key-issued", live)
