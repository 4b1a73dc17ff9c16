"""Finance's fee page on a 390 px phone: a contract period typed in percent and yuan, shown in the contract's
words; nothing scrolls sideways and the page breaks no Content-Security-Policy rule."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Live, assert_no_csp_violation, csp_violations, sign_in

PHONE = {"width": 390, "height": 844}


def test_finance_sets_a_fee_contract_on_a_phone(chromium: Browser, live: Live) -> None:
    context = chromium.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    seen = csp_violations(page)
    try:
        sign_in(page, live, "a.finance")
        page.goto(live.url("/console/fees"))
        expect(page.get_by_role("heading", name="手续费费率合同")).to_be_visible()
        page.get_by_label("生效日").fill("2026-12-01")
        page.locator("#f-card_type_0").select_option("debit")
        page.locator("#f-rate_0").fill("0.50")
        page.locator("#f-cap_0").fill("20")
        page.locator("#f-channel_1").select_option("wechat")
        page.locator("#f-rate_1").fill("0.55")
        page.locator("#f-band_1").fill("1000")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_role("button", name="保存新期间").click()
        expect(page.get_by_text("银行卡 借记卡 0.50%，封顶 20.00 元")).to_be_visible()
        expect(page.get_by_text("微信支付 不分卡种 0.55%（1,000.00 元及以上）")).to_be_visible()
        expect(page.get_by_text("商户尚未同意：同意前按原费率核查")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        live.shot(page, "60-phone-fee-contract")
    finally:
        context.close()
    assert_no_csp_violation(seen)
