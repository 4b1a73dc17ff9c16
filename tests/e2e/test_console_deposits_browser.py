"""Deposits at the counter in a real browser, on a 390 px phone and a 1280 px screen: a restaurant's 定金 when
the restaurant broke the deal (found by its voucher, the double return computed and explained, accepted by the
supervisor: the refund by the original route and the linked penalty transfer, the refund's slip printed) and a
hotel's 押金 returned less an itemised deduction with its photo. Nothing scrolls sideways; no page breaks the
Content-Security-Policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from posrefund.service.deposits import holding, proposals, terms
from tests.e2e.conftest import Live
from tests.e2e.test_console_shift_browser import fits as fits_screen
from tests.e2e.test_console_shift_browser import person
from tests.support.helpers import sale_input

WIDTHS = (390, 1280)
HOURS_3 = timedelta(hours=3)
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64


def fits(page: Page, width: int, live: Live, name: str = "") -> None:
    """Nothing wider than the screen, and on the phone fingertip-sized controls (the shift walk's checks); the
    whole page's screenshot when named."""
    fits_screen(page, str(width), None, live)
    if name:
        live.shot(page, f"{name}-{width}")


def deposit(
    live: Live, kind: str, name: str, paid_fen: int, contract_fen: int = 0, *, ago: timedelta = HOURS_3, **kw: Any
) -> dict[str, Any]:
    """A terms template and a deposit paid ``ago`` under it (due back 30 days after), with its voucher no."""
    a, deps = live.world.a, live.deps
    t = terms.create_terms(deps, a.actors["supervisor"], name=name, kind=kind, hold_days=30, **kw)
    sale = sale_input(a, deps.clock.now(), amount_fen=paid_fen, paid_at=deps.clock.now() - ago)
    _, row = holding.record_deposit_sale(
        deps, a.actors["cashier"], sale, terms_id=t["id"], contract_value_fen=contract_fen
    )
    with deps.uow(readonly=True) as uow:
        found = uow.sales.get_sale(a.id, row["sale_id"])
    assert found is not None
    return {**row, "voucher_no": found.voucher_no}


def double_returned(live: Live) -> str:
    """For the page walk: a 定金 the merchant broke (its refund and penalty transfer waiting) and a 押金 held
    ten days beyond its terms; the 定金's id."""
    a, deps = live.world.a, live.deps
    deposit(live, "security", "设备押金（逾期）", 20_000, ago=timedelta(days=40), text="归还设备后退还")
    d = deposit(live, "deposit", "婚宴定金（走查）", 300_000, 1_000_000, text="违约按定金罚则处理")
    p = proposals.propose(deps, a.actors["cashier"], d["id"], ending="merchant_breach")
    proposals.accept(deps, a.actors["supervisor"], d["id"], p["id"])
    return str(d["id"])


@pytest.mark.parametrize("width", WIDTHS)
def test_a_restaurant_returns_its_deposit_double(chromium: Browser, live: Live, width: int) -> None:
    d = deposit(live, "deposit", f"包间定金 {width}", 300_000, 1_000_000, text="宴会取消：商户违约双倍返还定金")
    with person(chromium, live, "a.cashier", str(width)) as page:
        page.goto(live.url("/console/deposits"))
        expect(page.get_by_role("heading", name="定金、订金和押金", exact=True).first).to_be_visible()
        fits(page, width, live, "57-deposits")
        page.get_by_label("凭证号或订单号").fill(d["voucher_no"])
        page.get_by_role("button", name="查找", exact=True).click()
        expect(page.get_by_text("宴会取消：商户违约双倍返还定金")).to_be_visible()
        page.get_by_label("处理结果").select_option("merchant_breach")
        page.get_by_role("button", name="计算退还方案").click()
        expect(page.get_by_text("合同金额 ¥10,000.00 × 20% = 定金上限 ¥2,000.00（民法典第586条）")).to_be_visible()
        expect(page.get_by_text("超出部分 ¥1,000.00 不是定金，作预付款全额退还")).to_be_visible()
        fits(page, width, live)
    with person(chromium, live, "a.supervisor", str(width)) as page:
        page.goto(live.url(f"/console/deposits/{d['id']}"))
        expect(page.get_by_text("一笔原路退款 ¥3,000.00")).to_be_visible()
        expect(page.get_by_text("一笔罚金银行转账 ¥2,000.00")).to_be_visible()
        page.get_by_role("button", name="接受方案并发起退款").click()
        expect(page.get_by_role("heading", name="退还记录")).to_be_visible()
        expect(page.get_by_role("heading", name="罚金转账 ¥2,000.00 · 待转账")).to_be_visible()
        expect(page.get_by_text("按方案创建退还")).to_be_visible()
        fits(page, width, live, "57-deposit-double-return")
        page.get_by_role("link", name="打印退款凭条").click()
        expect(page.get_by_role("heading", name="退款凭条")).to_be_visible()
        expect(page.get_by_text("¥3,000.00").first).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_hotel_returns_a_key_deposit_less_a_deduction(chromium: Browser, live: Live, width: int) -> None:
    d = deposit(live, "security", f"客房押金 {width}", 50_000, max_deduction_bp=5_000, text="退房时检查房间")
    with person(chromium, live, "a.cashier", str(width)) as page:
        page.goto(live.url(f"/console/deposits/{d['id']}"))
        expect(page.get_by_text("押金：物品归还后退还")).to_be_visible()
        page.locator("#f-amount_0").fill("30")
        page.locator("#f-reason_0").fill("浴巾污损")
        page.get_by_role("button", name="计算退还方案").click()
        expect(page.get_by_text("第 1 项扣款须附凭证编号")).to_be_visible()
        page.locator("#f-evidence_0").set_input_files(
            files=[{"name": "towel.jpg", "mimeType": "image/jpeg", "buffer": JPEG}]
        )
        page.get_by_role("button", name="计算退还方案").click()
        expect(page.get_by_text("已付 ¥500.00 − 扣除合计 ¥30.00 = 原路退还 ¥470.00")).to_be_visible()
        fits(page, width, live)
    with person(chromium, live, "a.supervisor", str(width)) as page:
        page.goto(live.url(f"/console/deposits/{d['id']}"))
        expect(page.get_by_text("一笔原路退款 ¥470.00")).to_be_visible()
        page.get_by_role("button", name="接受方案并发起退款").click()
        expect(page.get_by_role("heading", name="退还记录")).to_be_visible()
        expect(page.get_by_role("link", name="打印退款凭条")).to_be_visible()
        fits(page, width, live, "57-deposit-deduction")
