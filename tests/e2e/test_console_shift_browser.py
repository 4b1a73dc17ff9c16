"""A shift worked in a real Chromium, on a 390 px phone and a 1280 px counter screen: a cashier asks for a cash
refund, a supervisor approves it, a second person finds it with the header's search and confirms the cash was
paid, and it ends succeeded; a failed refund is sent again, an abnormal one settled by hand, another one whose
original route is closed paid in cash instead (rerouted by a supervisor, confirmed by a third person), a request
withdrawn from "my refunds". On every page it touches nothing is wider than the screen and every control is at least
44 px high on the phone; screenshots of each go to ``docs/screenshots`` (``make screenshots``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.domain.refund import RefundCase
from posrefund.service import execution, refunds, sales
from posrefund.service.execution import Router
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.e2e.conftest import Live, assert_no_csp_violation, csp_violations, sign_in
from tests.support.fakes import FakeChannel
from tests.support.helpers import sale_input

SCREENS = {"390": {"width": 390, "height": 844}, "1280": {"width": 1280, "height": 800}}
_vouchers = itertools.count(731_000)

# Elements that reach past the right edge of the screen, unless a container that scrolls or clips holds them.
TOO_WIDE_JS = """() => {
  const w = document.documentElement.clientWidth, out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!r.width || (r.right <= w + 1 && r.left >= -1)) continue;
    let p = el.parentElement, held = false;
    while (p && p !== document.body) {
      if (getComputedStyle(p).overflowX !== 'visible') { held = true; break; }
      p = p.parentElement;
    }
    if (!held) out.push(`${el.tagName}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  return out;
}"""
# Visible controls in the page's main part lower than a fingertip.
SMALL_TARGETS_JS = """() => [...document.querySelectorAll(
    'main button, main .button, main select, main textarea, main input:not([type=hidden]):not([type=radio]):not([type=checkbox]), .top-search input, .top-search button')]
  .filter(el => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
  .map(el => `${el.tagName}#${el.id}.${el.className} ${Math.round(el.getBoundingClientRect().height)}`)"""


@contextmanager
def person(chromium: Browser, live: Live, who: str, screen: str) -> Iterator[Page]:
    """A browser of its own for one operator, signed in, at the screen's size; its CSP must hold."""
    phone = screen == "390"
    context = chromium.new_context(
        viewport=SCREENS[screen], is_mobile=phone, has_touch=phone, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    seen = csp_violations(page)
    try:
        sign_in(page, live, who)
        yield page
    finally:
        context.close()
    assert_no_csp_violation(seen)


def fits(page: Page, screen: str, name: str | None, live: Live) -> None:
    """Nothing wider than the screen (and on the phone, fingertip-sized controls); a screenshot of it when named."""
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["width"], page.url
    assert page.evaluate(TOO_WIDE_JS) == [], page.url
    if screen == "390":
        assert page.evaluate(SMALL_TARGETS_JS) == [], page.url
    if name:
        live.shot(page, f"{name}-{screen}", full_page=False)


def _sale(live: Live, **kw: Any) -> Any:
    m = live.world.a
    voucher = f"{next(_vouchers):06d}"
    return sales.record_sale(
        live.deps, m.actors["cashier"], sale_input(m, live.deps.clock.now(), voucher_no=voucher, **kw)
    )


def _router(fake: FakeChannel | None = None) -> Router:
    channels: dict[str, Any] = {"wechat": fake} if fake is not None else {}
    return Router(channels=channels, is_workday=ChineseCalendar().is_workday, lease_margin=timedelta(0))


def _case(live: Live, case_id: str) -> RefundCase:
    return refunds.get_case(live.deps, live.world.a.actors["auditor"], case_id).case


def _ended_with(live: Live, answer: str) -> RefundCase:
    """A wallet refund its channel answered ``answer`` (declined → failed, abnormal → abnormal)."""
    req = RefundRequest(sale_id=_sale(live).id, amount_fen=1_200, reason="other", customer=CustomerInput())
    case = refunds.request_refund(live.deps, live.world.a.actors["cashier"], req)
    execution.sweep(live.deps, _router(FakeChannel(script={case.refund_no: [answer]})))
    return _case(live, case.id)


@pytest.mark.parametrize("screen", ["390", "1280"])
def test_a_cash_refund_is_asked_approved_and_paid_by_a_second_person(
    chromium: Browser, live: Live, screen: str
) -> None:
    sale = _sale(live, channel="cash", payer_masked="", amount_fen=36_800)
    with person(chromium, live, "a.cashier", screen) as cashier:
        cashier.goto(live.url("/console/desk"))  # signing in leads to the overview; the desk is one step on
        cashier.fill("#f-voucher_no", sale.voucher_no)
        cashier.get_by_role("button", name="查找", exact=True).click()
        found = cashier.locator(f'a[href="/console/desk/sale/{sale.id}"]')
        expect(found).to_be_visible()  # the search's answer has loaded before its width is measured
        fits(cashier, screen, None, live)
        found.click()
        cashier.fill("#f-amount", "268.00")
        cashier.select_option("#f-reason", "customer_cancelled")
        cashier.fill("#f-phone", "13800138000")
        cashier.get_by_role("button", name="提交退款申请").click()
        expect(cashier.get_by_role("heading", name="已提交，等待主管审核")).to_be_visible()
        case_id = cashier.url.rsplit("/", 1)[1]
        fits(cashier, screen, "40-cash-answer", live)
    with person(chromium, live, "a.supervisor", screen) as supervisor:
        supervisor.goto(live.url(f"/console/cases/{case_id}"))
        expect(supervisor.locator("[data-route]")).to_have_text("现金退款（收银台付现）")
        supervisor.get_by_role("button", name="批准").click()
        expect(supervisor.locator("#live [data-status]")).to_have_attribute("data-status", "approved")
    execution.sweep(live.deps, _router())  # the worker hands the cash refund to the till
    refund_no = _case(live, case_id).refund_no
    with person(chromium, live, "a.cashier", screen) as cashier:
        cashier.goto(live.url(f"/console/cases/{case_id}"))
        payout = cashier.locator("#payout")
        expect(payout).to_contain_text("付款须由申请人以外的第二人确认")
        expect(payout.get_by_role("button", name="确认已付款")).to_have_count(0)
        assert "原路退回" not in cashier.content()
        fits(cashier, screen, "41-cash-awaiting-second-person", live)
    with person(chromium, live, "a.supervisor2", screen) as second:
        second.fill("#top-q", refund_no)
        second.locator("#top-q").press("Enter")
        expect(second).to_have_url(live.url(f"/console/cases/{case_id}"))
        second.fill("#f-payout_reference", "收银台 2")
        fits(second, screen, "42-cash-confirm", live)
        second.get_by_role("button", name="确认已付款").click()
        expect(second.locator("#live [data-status]")).to_have_attribute("data-status", "succeeded")
        expect(second.locator(".timeline")).to_contain_text("确认付款")
        expect(second.locator(".timeline")).to_contain_text("收银台 2")
    assert _case(live, case_id).status.value == "succeeded"


@pytest.mark.parametrize("screen", ["390", "1280"])
def test_a_failed_refund_is_retried_and_an_abnormal_one_resolved(chromium: Browser, live: Live, screen: str) -> None:
    failed, abnormal = _ended_with(live, "declined"), _ended_with(live, "abnormal")
    assert (failed.status.value, abnormal.status.value) == ("failed", "abnormal")
    with person(chromium, live, "a.finance", screen) as finance:
        finance.goto(live.url(f"/console/cases/{failed.id}"))
        finance.fill("#f-retry_reason", "渠道临时故障")
        fits(finance, screen, "43-retry", live)
        finance.get_by_role("button", name="重新发起", exact=True).click()
        expect(finance.locator("#live [data-status]")).to_have_attribute("data-status", "processing")
    with person(chromium, live, "a.supervisor", screen) as supervisor:
        supervisor.goto(live.url(f"/console/cases/{abnormal.id}"))
        supervisor.select_option("#f-outcome", "succeeded")
        supervisor.fill("#f-resolve_reason", "银行回单已到账")
        fits(supervisor, screen, "44-resolve", live)
        supervisor.get_by_role("button", name="提交处理结果").click()
        expect(supervisor.locator("#live [data-status]")).to_have_attribute("data-status", "succeeded")
        expect(supervisor.locator(".timeline")).to_contain_text("银行回单已到账")
    assert _case(live, failed.id).status.value == "processing"
    assert _case(live, abnormal.id).status.value == "succeeded"


@pytest.mark.parametrize("screen", ["390", "1280"])
def test_a_cashier_withdraws_a_request_from_my_refunds(chromium: Browser, live: Live, screen: str) -> None:
    sale = _sale(live, amount_fen=50_000)
    req = RefundRequest(sale_id=sale.id, amount_fen=30_000, reason="other", customer=CustomerInput())
    case = refunds.request_refund(live.deps, live.world.a.actors["cashier"], req)
    with person(chromium, live, "a.cashier", screen) as cashier:
        cashier.goto(live.url("/console/mine?status=pending_review"))
        fits(cashier, screen, "45-my-refunds", live)
        cashier.get_by_role("link", name=case.refund_no).click()
        cashier.fill("#f-cancel_reason", "顾客改为换货")
        cashier.get_by_role("button", name="撤回退款申请").click()
        expect(cashier.locator("#live [data-status]")).to_have_attribute("data-status", "cancelled")
        expect(cashier.locator(".timeline")).to_contain_text("顾客改为换货")
        fits(cashier, screen, "45b-cancelled", live)
        cashier.fill("#top-q", sale.voucher_no)
        cashier.locator("#top-q").press("Enter")
        expect(cashier).to_have_url(live.url(f"/console/sales/{sale.id}"))
        fits(cashier, screen, "46-sale", live)
        cashier.fill("#top-q", "1234 8.8.8")
        cashier.locator("#top-q").press("Enter")
        expect(cashier.get_by_role("alert").first).to_contain_text("金额")
        fits(cashier, screen, None, live)
    assert _case(live, case.id).status.value == "cancelled"


@pytest.mark.parametrize("screen", ["390", "1280"])
def test_a_refund_whose_route_is_closed_is_rerouted_to_cash_and_paid_by_a_third_person(
    chromium: Browser, live: Live, screen: str
) -> None:
    failed = _ended_with(live, "declined")  # the wallet account is closed: the channel refuses it for good
    with person(chromium, live, "a.cashier", screen) as cashier:
        cashier.goto(live.url(f"/console/cases/{failed.id}"))
        expect(cashier.get_by_role("button", name="批准改道")).to_have_count(0)  # not a cashier's step
    with person(chromium, live, "a.supervisor", screen) as supervisor:
        supervisor.goto(live.url(f"/console/cases/{failed.id}"))
        supervisor.get_by_label("现金").check()
        supervisor.fill("#f-reroute_reason", "顾客微信账户已注销，改为现金退款")
        fits(supervisor, screen, "62-reroute", live)
        supervisor.get_by_role("button", name="批准改道").click()
        expect(supervisor.locator("#live [data-status]")).to_have_attribute("data-status", "processing")
        expect(supervisor.locator("[data-route]")).to_contain_text("现金")
        payout = supervisor.locator("#payout")
        expect(payout.get_by_role("button", name="确认已付款")).to_have_count(0)  # who rerouted may not confirm
        fits(supervisor, screen, "63-rerouted-awaiting-payout", live)
    with person(chromium, live, "a.supervisor2", screen) as third:
        third.goto(live.url(f"/console/cases/{failed.id}"))
        third.fill("#f-payout_reference", "收银台 3")
        third.get_by_role("button", name="确认已付款").click()
        expect(third.locator("#live [data-status]")).to_have_attribute("data-status", "succeeded")
        expect(third.locator(".timeline")).to_contain_text("顾客微信账户已注销，改为现金退款")
        fits(third, screen, "64-rerouted-paid", live)
    case = _case(live, failed.id)
    assert (case.status.value, case.method, case.rerouted_by) == (
        "succeeded",
        "cash",
        live.world.a.actors["supervisor"].id,
    )
