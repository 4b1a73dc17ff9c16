"""The notification, follow-up and dispute pages in a real headless Chromium: the case's section loads
by itself under the case, a dispute is opened with a photo and decided, a template is previewed — every
input labelled, nothing wider than the counter screen — with a screenshot of each main page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from playwright.sync_api import Page, expect

from posrefund.service import evidence, execution, refunds, sales
from posrefund.service.execution import Router
from posrefund.service.notifications import follow_up, sending
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import FixedClock
from tests.console.test_console_notifications import FlakySms
from tests.e2e.conftest import Live, sign_in
from tests.e2e.test_console_browser import PNG_1PX, shot
from tests.support.fakes import FakeChannel
from tests.support.helpers import sale_input

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
    .map(e => e.name || e.id)"""


def paid_case(live: Live) -> str:
    """A refund paid ten days ago (a clock set back), its messages sent (one retry), and its follow-up
    opened now that the expected arrival date has passed."""
    a = live.world.a
    then = replace(live.deps, clock=FixedClock(live.deps.clock.now() - timedelta(days=10)))
    photo = evidence.upload(then, a.actors["cashier"], content=PNG_1PX, filename="小票.png", kind="receipt")
    sale = sales.record_sale(then, a.actors["cashier"], sale_input(a, then.clock.now(), amount_fen=18_800))
    req = RefundRequest(
        sale_id=sale.id,
        amount_fen=8_800,
        reason="goods_quality",
        customer=CustomerInput(phone="13912345678", name="张三"),
        evidence_ids=(photo["id"],),
    )
    case = refunds.request_refund(then, a.actors["cashier"], req)
    execution.sweep(then, Router(channels={"wechat": FakeChannel()}, is_workday=lambda d: True))
    router = NotifyRouter(gateways={"sms": FlakySms(fail=1)})
    sending.sweep(then, router)  # the first send fails (503), the retry five minutes later goes through
    sending.sweep(replace(then, clock=FixedClock(then.clock.now() + timedelta(minutes=5))), router)
    follow_up.sweep(live.deps)
    return case.id


def labelled_and_fits(page: Page, path: str) -> None:
    assert page.evaluate(UNLABELLED) == [], path
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366, path


def test_notifications_follow_up_disputes_and_templates(page: Page, live: Live) -> None:
    case_id = paid_case(live)
    sign_in(page, live, "a.supervisor")
    page.goto(live.url(f"/console/cases/{case_id}"))
    section = page.locator("#notify")
    expect(section.locator("table.notifications")).to_be_visible()  # loaded by htmx under the case
    expect(section.get_by_text("稍后重试").first).to_be_visible()
    section.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, document.querySelector('#notify').getBoundingClientRect().top - 60)")
    labelled_and_fits(page, "case page with its notifications")
    shot(page, live, "13-case-notifications")
    section.get_by_role("button", name="显示链接（将记录审计）").click()
    link = page.locator("#f-tracking-link")
    expect(link).to_be_visible()
    assert link.input_value().startswith("http://127.0.0.1:8000/t/")
    labelled_and_fits(page, "notify section")

    page.goto(live.url("/console/followups"))
    expect(page.locator(f'tr[data-case="{case_id}"]')).to_be_visible()
    labelled_and_fits(page, "followups")
    shot(page, live, "14-follow-up-queue")

    page.goto(live.url(f"/console/cases/{case_id}/notify"))
    page.fill("#f-claim", "顾客称少退了 10 元")
    page.fill("#f-claimed", "10")
    page.locator("input[name=evidence_id]").first.check()
    page.set_input_files("#f-evidence", files=[{"name": "聊天截图.png", "mimeType": "image/png", "buffer": PNG_1PX}])
    page.get_by_role("button", name="发起争议").click()
    page.wait_for_url("**/console/disputes/dsp*")
    expect(page.locator("dd.claim")).to_have_text("顾客称少退了 10 元")
    expect(page.locator(".evidence img")).to_have_count(2)
    page.select_option("#f-to", "mediation")
    page.fill("#f-reference", "TJ-2026-001")
    dispute_url = page.url
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_text("调解机构 · TJ-2026-001")).to_be_visible()
    expect(page).to_have_url(dispute_url)
    labelled_and_fits(page, "dispute")
    shot(page, live, "15-dispute")
    page.check("#f-outcome-upheld")
    page.fill("#f-reason", "核实少退")
    page.get_by_role("button", name="记录结果").click()
    expect(page.locator("a.new-case")).to_be_visible()  # the new refund, linked
    expect(page).to_have_url(dispute_url)

    page.goto(live.url("/console/disputes"))
    expect(page.locator("table.disputes tbody tr")).to_have_count(1)
    shot(page, live, "16-disputes")

    page.context.clear_cookies()
    sign_in(page, live, "a.admin")
    page.goto(live.url("/console/admin/notify/templates/paid/zh"))
    page.fill("#f-body", "{{ amout }} 已退")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#f-body-err")).to_contain_text("unknown variable")
    expect(page).to_have_url(live.url("/console/admin/notify/templates/paid/zh"))  # refused: not saved
    page.fill("#f-body", "您的退款 {{ amount }} 已退回，单号 {{ refund_no }}")
    page.get_by_role("button", name="预览").click()
    expect(page.locator(".preview-body")).to_contain_text("您的退款 ¥")
    labelled_and_fits(page, "template")
    shot(page, live, "17-admin-template-preview")
    page.goto(live.url("/console/admin/notify/gateways"))
    labelled_and_fits(page, "gateways")
