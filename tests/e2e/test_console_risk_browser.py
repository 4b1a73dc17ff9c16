"""In a real browser, at a phone's 390 px and a desk's 1280 px: the overview each role lands on after signing in;
the refund charts drawn by ECharts (a non-empty canvas in every chart box, its table beside it, a figure opening
its cases); the risk queue (an alert confirmed, another dismissed with a reason); a refund held by a high alert
released from its case page by a second person. Screenshots go to ``docs/screenshots`` when
POSREFUND_SCREENSHOT_DIR points there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Live, sign_in, watched_page
from tests.e2e.risk_seed import late_refunds

SCREENS = {"390": {"width": 390, "height": 844}, "1280": {"width": 1280, "height": 800}}
# A canvas ECharts drew on: some pixel is not blank.
INKED = """id => {
  const c = document.querySelector('#' + id + ' canvas');
  if (!c || c.width === 0 || c.height === 0) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
  return false;
}"""


def shot(page: Page, live: Live, name: str, screen: str) -> None:
    live.shot(page, f"{name}-{screen}")


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest, chromium: Browser) -> Iterator[tuple[Page, str]]:
    with watched_page(chromium, SCREENS[request.param]) as page:
        yield page, str(request.param)


def test_each_role_lands_on_its_overview(screen: tuple[Page, str], live: Live) -> None:
    page, size = screen
    late_refunds(live)
    for n, (role, heading) in enumerate(
        (("cashier", "我今天的退款"), ("supervisor", "审核与复核"), ("finance", "资金"), ("risk", "未处理的风险预警")),
        start=47,
    ):
        page.context.clear_cookies()
        sign_in(page, live, f"a.{role}")
        expect(page).to_have_url(live.url("/console/home"))
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[size]["width"]
        shot(page, live, f"{n}-home-{role}", size)
    expect(page.locator(".tile .sev-high")).not_to_have_text("0")


def test_the_charts_are_drawn_with_their_tables_and_open_their_cases(screen: tuple[Page, str], live: Live) -> None:
    page, size = screen
    _, cases = late_refunds(live)
    sign_in(page, live, "a.finance")
    page.get_by_role("link", name="退款图表").click()
    for box in ("chart-trend", "chart-category", "chart-heat"):
        page.wait_for_function(INKED, arg=box)
    expect(page.locator("#table-trend tbody tr")).to_have_count(30)
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[size]["width"]
    shot(page, live, "51-report-charts", size)
    page.locator("#table-trend tbody tr").last.locator("a").click()
    expect(page.get_by_role("heading", name="图表背后的退款")).to_be_visible()
    for case_id in cases:
        expect(page.locator(f"a[href='/console/cases/{case_id}']")).to_have_count(1)
    shot(page, live, "52-report-drill", size)


def test_the_risk_officer_confirms_one_alert_and_dismisses_another(screen: tuple[Page, str], live: Live) -> None:
    page, size = screen
    first, _ = late_refunds(live, count=1)
    second, _ = late_refunds(live, count=1)
    sign_in(page, live, "a.risk")
    page.get_by_role("link", name="风险预警", exact=True).first.click()
    expect(page.get_by_role("heading", name="风险预警")).to_be_visible()
    shot(page, live, "53-risk-queue", size)
    page.goto(live.url(f"/console/risk/alerts/{first}"))
    expect(page.get_by_role("heading", name="证据")).to_be_visible()
    page.get_by_role("button", name="确认风险").click()
    expect(page.get_by_text("已确认").first).to_be_visible()
    shot(page, live, "54-risk-alert-confirmed", size)
    page.goto(live.url(f"/console/risk/alerts/{second}"))
    page.get_by_role("button", name="排除（误报）").click()
    expect(page.get_by_text("排除预警须说明理由")).to_be_visible()  # no reason: refused, nothing changed
    page.fill("#f-reason", "盘点加班，店长在场")
    page.get_by_role("button", name="排除（误报）").click()
    expect(page.get_by_text("盘点加班，店长在场")).to_be_visible()
    expect(page.get_by_text("已排除").first).to_be_visible()


def test_a_held_refund_is_released_by_a_second_person(screen: tuple[Page, str], live: Live) -> None:
    page, size = screen
    _, (first, _) = late_refunds(live)
    sign_in(page, live, "a.risk")
    page.goto(live.url(f"/console/cases/{first}"))
    expect(page.get_by_role("heading", name="风险复核")).to_be_visible()
    shot(page, live, "55-case-held", size)
    page.fill("#f-hold-reason", "已电话联系顾客核实")
    page.get_by_role("button", name="放行").click()
    expect(page.get_by_text("复核后已放行")).to_be_visible()
