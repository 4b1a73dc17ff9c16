"""The console in a real headless Chromium: the refund desk, review, roles, merchants, policy, language,
labels and the keyboard — with screenshots of each main page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from posrefund.service import evidence, refunds, sales
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.e2e.conftest import Live, assert_no_csp_violation, csp_violations, sign_in
from tests.support.helpers import sale_input

PNG_1PX = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def new_sale(live: Live, merchant: str = "a", **kw: object):  # type: ignore[no-untyped-def]
    m = live.world.a if merchant == "a" else live.world.b
    return sales.record_sale(live.deps, m.actors["cashier"], sale_input(m, live.deps.clock.now(), **kw))


def pending_case(live: Live, amount_fen: int = 250_000, by: str = "cashier", evidence_ids: tuple[str, ...] = ()) -> str:
    sale = new_sale(live, amount_fen=amount_fen)
    req = RefundRequest(
        sale_id=sale.id,
        amount_fen=amount_fen,
        reason="goods_quality",
        note="包装破损",
        customer=CustomerInput(phone="13912345678", name="张三"),
        evidence_ids=evidence_ids,
    )
    case = refunds.request_refund(live.deps, live.world.a.actors[by], req)
    assert case.status.value == "pending_review"
    return case.id


def shot(page: Page, live: Live, name: str) -> None:
    live.shot(page, name, full_page=False)


@pytest.mark.parametrize("live", ["sqlite", "postgresql"], indirect=True)
def test_cashier_finds_a_sale_and_requests_a_refund(page: Page, live: Live) -> None:
    sale = new_sale(live, amount_fen=388_800, voucher_no="520131", order_no="ORD-E2E-1")
    page.goto(live.url("/console/login"))
    shot(page, live, "01-login")
    sign_in(page, live, "a.cashier")
    expect(page.get_by_role("heading", name="我今天的退款")).to_be_visible()  # the overview comes first
    page.get_by_role("link", name="退款台").click()
    expect(page.get_by_role("heading", name="退款台")).to_be_visible()
    page.fill("#f-voucher_no", "520131")
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_text("¥3,888.00").first).to_be_visible()
    shot(page, live, "02-desk-search")
    link = page.get_by_role("link", name="退款", exact=True).first
    expect(link).to_have_attribute("href", f"/console/desk/sale/{sale.id}")
    link.click()
    expect(page.get_by_role("heading", name="发起退款")).to_be_visible()
    page.fill("#f-amount", "1288.00")
    page.select_option("#f-reason", "goods_quality")
    page.fill("#f-note", "屏幕有划痕")
    page.fill("#f-phone", "13800138000")
    page.set_input_files("#f-evidence", files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG_1PX}])
    assert page.get_attribute("#f-evidence", "accept") == "image/*"
    assert page.get_attribute("#f-evidence", "capture") == "environment"
    shot(page, live, "03-refund-form")
    page.get_by_role("button", name="提交退款申请").click()
    expect(page).to_have_url(re.compile(r"/console/desk/answer/rfd_\w+$"))
    expect(page.get_by_role("heading", name="已提交，等待主管审核")).to_be_visible()
    expect(page.get_by_text("¥1,288.00")).to_be_visible()
    expect(page.get_by_text("¥2,600.00")).to_be_visible()  # still refundable
    shot(page, live, "04-answer")


def receipt_photo(page: Page) -> bytes:
    """A receipt 'photo', drawn by the browser itself: what a cashier's tablet would upload."""
    page.set_content(
        '<div id="r" style="width:260px;padding:12px;font:14px monospace;background:#fffdf5;border:1px solid #999">'
        "<b>演示便利店 购物小票</b><br>凭证号 000123<br>蓝牙耳机 1 × ¥2,666.00<br>合计 ¥2,666.00<br>微信支付</div>"
    )
    return page.locator("#r").screenshot()


@pytest.mark.parametrize("live", ["sqlite", "postgresql"], indirect=True)
def test_supervisor_approves_from_the_queue(page: Page, live: Live) -> None:
    photo = evidence.upload(
        live.deps, live.world.a.actors["cashier"], content=receipt_photo(page), filename="receipt.png", kind="receipt"
    )
    pending_case(live, amount_fen=12_000)  # the same customer's earlier refund: shown as their history
    case_id = pending_case(live, amount_fen=266_600, evidence_ids=(str(photo["id"]),))
    sign_in(page, live, "a.supervisor")
    page.goto(live.url("/console/review"))
    expect(page.get_by_role("heading", name=re.compile("待审核"))).to_be_visible()
    expect(page.get_by_text("¥2,666.00")).to_be_visible()
    shot(page, live, "05-review-queue")
    page.goto(live.url(f"/console/cases/{case_id}"))
    expect(page.get_by_text("不能审批自己发起的退款：")).to_be_visible()
    expect(page.get_by_text("139****5678")).to_be_visible()
    expect(page.locator("img[alt^='购物小票']")).to_be_visible()
    assert page.locator("img[alt^='购物小票']").evaluate("img => img.naturalWidth") > 100  # really loaded
    expect(page.get_by_text("¥120.00")).to_be_visible()  # the customer's other refund
    shot(page, live, "06-case")
    page.set_viewport_size({"width": 1366, "height": 1400})
    shot(page, live, "06b-case-full")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.fill("#f-reason", "小票与商品相符")
    page.get_by_role("button", name="批准").click()
    expect(page).to_have_url(live.url(f"/console/cases/{case_id}"))
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "approved")
    expect(page.get_by_text("小票与商品相符")).to_be_visible()


def test_cashier_cannot_approve(page: Page, live: Live) -> None:
    case_id = pending_case(live, by="customer_service")
    sign_in(page, live, "a.cashier")
    page.goto(live.url(f"/console/cases/{case_id}"))
    expect(page.get_by_text("审核需由店长或主管完成。")).to_be_visible()
    expect(page.get_by_role("button", name="批准")).to_have_count(0)
    expect(page.get_by_role("link", name="待审核", exact=True)).to_have_count(0)
    # Even a hand-made POST with a valid CSRF token is refused by the service's role check.
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    status = page.evaluate(
        """async ([url, token]) => (await fetch(url, {method: 'POST', body: new URLSearchParams(
               {csrf: token, decision: 'approve', reason: ''})})).status""",
        [live.url(f"/console/cases/{case_id}/review"), token],
    )
    assert status == 403
    assert refunds.get_case(live.deps, live.world.a.actors["supervisor"], case_id).case.status.value == "pending_review"


def test_another_merchants_case_answers_not_found(page: Page, live: Live) -> None:
    case_id = pending_case(live)
    sign_in(page, live, "b.supervisor")
    response = page.goto(live.url(f"/console/cases/{case_id}"))
    assert response is not None and response.status == 404
    expect(page.get_by_text("退款单不存在")).to_be_visible()


def test_a_refused_policy_shows_the_rule(page: Page, live: Live) -> None:
    sale = new_sale(live, paid_at=live.deps.clock.now() - timedelta(days=45), voucher_no="450045")
    sign_in(page, live, "a.cashier")
    page.goto(live.url(f"/console/desk/sale/{sale.id}"))
    page.select_option("#f-reason", "customer_cancelled")
    page.get_by_role("button", name="提交退款申请").click()
    expect(page.get_by_text("按本店退款政策，不能退款：")).to_be_visible()
    expect(page).to_have_url(live.url(f"/console/desk/sale/{sale.id}"))  # the form again, not an answer
    expect(page.get_by_text("已超过 30 天的退款期限")).to_be_visible()
    shot(page, live, "07-refused-by-policy")


def test_the_english_switch(page: Page, live: Live) -> None:
    sign_in(page, live, "a.cashier")
    page.goto(live.url("/console/desk"))
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(live.url("/console/desk"))  # back where the switch was clicked
    expect(page.get_by_role("heading", name="Refund desk")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, live, "08-desk-english")
    page.goto(live.url("/console/desk?voucher_no=000000"))  # the choice sticks (a cookie)
    expect(page.get_by_text("No sale matches")).to_be_visible()
    page.get_by_role("link", name="中文").click()
    expect(page).to_have_url(live.url("/console/desk"))  # the page, without its search
    expect(page.get_by_role("heading", name="退款台")).to_be_visible()


def test_the_case_page_follows_the_status_without_reloading(page: Page, live: Live) -> None:
    case_id = pending_case(live)
    sign_in(page, live, "a.supervisor")
    page.goto(live.url(f"/console/cases/{case_id}"))
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "pending_review")
    page.evaluate("window.__not_reloaded = true")
    # Someone else decides meanwhile (here: a second supervisor through the service layer).
    refunds.reject(live.deps, live.world.a.actors["supervisor2"], case_id, "超过退货期限")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "rejected", timeout=10_000)
    expect(page.get_by_text("超过退货期限")).to_be_visible()
    assert page.evaluate("window.__not_reloaded") is True


def test_every_input_has_a_label(page: Page, live: Live) -> None:
    case_id = pending_case(live)
    sale = new_sale(live)
    sign_in(page, live, "a.admin")
    pages = [
        "/console/desk",
        f"/console/desk/sale/{sale.id}",
        "/console/review",
        f"/console/cases/{case_id}",
        "/console/service",
        "/console/reports",
        "/console/admin/stores",
        "/console/admin/terminals",
        "/console/admin/users",
        "/console/admin/policy",
    ]
    for path in pages:
        page.goto(live.url(path))
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                 .filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
                 .map(e => e.name || e.id)"""
        )
        assert unlabelled == [], (path, unlabelled)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, path  # fits the counter screen
    page.goto(live.url("/console/service?phone=13912345678"))
    shot(page, live, "09-customer-service")
    page.goto(live.url("/console/reports"))
    shot(page, live, "10-reports")
    page.goto(live.url("/console/admin/policy"))
    page.fill("#f-auto_approve_limit_fen", "99999")
    page.get_by_role("button", name="保存政策").click()
    expect(page).to_have_url(live.url("/console/admin/policy"))  # refused: the form again, not "saved"
    expect(page.locator("#f-auto_approve_limit_fen-err")).to_have_text("自动审批限额不能高于主管审批限额")
    shot(page, live, "11-admin-policy-error")


def test_the_refund_desk_with_the_keyboard_alone(page: Page, live: Live) -> None:
    new_sale(live, amount_fen=5_000, voucher_no="909090")
    page.goto(live.url("/console/login"))
    assert page.evaluate("document.activeElement.id") == "f-username"
    page.keyboard.type(live.world.a.usernames["cashier"])
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-9")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/home")  # the overview first; the desk is one link away
    page.goto(live.url("/console/desk"))
    assert page.evaluate("document.activeElement.id") == "f-voucher_no"
    page.keyboard.type("909090")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/desk?**")
    assert page.evaluate("document.activeElement.textContent") == "退款"  # the first sale's refund link
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/desk/sale/**")
    assert page.evaluate("document.activeElement.id") == "f-amount"
    page.keyboard.press("Control+A")
    page.keyboard.type("20")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-reason"
    page.keyboard.press("ArrowDown")  # 商品质量问题 is the first reason; ArrowDown again moves on
    page.keyboard.press("ArrowDown")
    assert page.input_value("#f-reason") == "service_issue"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-note"
    page.keyboard.type("顾客不满意")
    page.keyboard.press("Tab")
    page.keyboard.type("13700137000")
    page.keyboard.press("Enter")  # Enter in a text field submits the form
    page.wait_for_url("**/console/desk/answer/**")
    expect(page.get_by_role("heading", name="已自动批准，正在原路退回")).to_be_visible()
    assert page.evaluate("document.activeElement.textContent") == "下一位顾客"
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/desk")
    assert page.evaluate("document.activeElement.id") == "f-voucher_no"


def test_the_desk_on_a_tablet(chromium: object, live: Live) -> None:
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport={"width": 800, "height": 1280}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    seen = csp_violations(page)
    try:
        sale = new_sale(live, amount_fen=12_345, voucher_no="808080")
        sign_in(page, live, "a.cashier")
        page.goto(live.url(f"/console/desk/sale/{sale.id}"))
        expect(page.get_by_role("button", name="提交退款申请")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 800, width  # no sideways scrolling on the tablet
        shot(page, live, "12-tablet-refund-form")
    finally:
        context.close()
    assert_no_csp_violation(seen)
