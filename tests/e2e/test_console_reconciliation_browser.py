"""The reconciliation pages in a real headless Chromium: finance imports a WeChat bill and watches its
progress, runs the reconciliation, reads the totals and chart, opens a wrong-charge case from the duplicate
charge — with a screenshot of each main page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from posrefund.demo.settlement import Faults, from_ledger
from posrefund.domain.reconciliation import FeeRate
from posrefund.service import sales
from tests.e2e.conftest import Live, sign_in
from tests.support.helpers import captured_again, sale_input


def test_finance_reconciles_a_bill_and_opens_a_wrong_charge_case(page: Page, live: Live, tmp_path: Path) -> None:
    m, deps = live.world.a, live.deps
    now = deps.clock.now() - timedelta(hours=1)
    cashier = m.actors["cashier"]
    for i in range(6):
        sales.record_sale(deps, cashier, sale_input(m, now - timedelta(minutes=5 * i), amount_fen=1_000 + 37 * i))
    first = sales.record_sale(deps, cashier, sale_input(m, now, amount_fen=5_000, payer_masked="o***7c"))
    sales.record_sale(  # the same customer buying the same again: a repeat purchase, no finding
        deps, cashier, sale_input(m, now + timedelta(seconds=40), amount_fen=5_000, payer_masked="o***7c")
    )
    day = deps.local_date(first.paid_at)
    with deps.uow(readonly=True) as uow:
        sale_rows = list(uow.ledger.ledger_sales(m.id, ["wechat"], day, day))
    sale_rows.append(captured_again(next(r for r in sale_rows if r["id"] == first.id)))  # charged twice
    bill = tmp_path / f"wechat-{day}.csv"
    from_ledger(bill, "wechat", day, sale_rows, [], Faults(missing_here=2), {"wechat": FeeRate("wechat", 38)})

    sign_in(page, live, "a.finance")
    page.get_by_role("link", name="对账", exact=True).click()
    expect(page.get_by_role("heading", name="对账", exact=True)).to_be_visible()
    page.select_option("#f-import-source", "wechat")
    page.set_input_files("#f-file", str(bill))
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page).to_have_url(re.compile(r"/console/recon/jobs/[\w-]+$"))
    expect(
        page.get_by_text("导入完成")
    ).to_be_visible()  # the progress fragment, polled by htmx, turned into the report
    live.shot(page, "20-recon-import")
    import_url = page.url
    page.get_by_role("button", name="对这些日期运行对账").click()
    expect(page).not_to_have_url(import_url)
    expect(page).to_have_url(re.compile(r"/console/recon/jobs/[\w-]+$"))
    expect(page.get_by_text("对账完成")).to_be_visible()
    page.get_by_role("link", name="查看对账结果").click()
    expect(page).to_have_url(re.compile(r"/console/recon/runs/[\w-]+$"))
    expect(page.locator("svg.chart")).to_be_visible()
    expect(page.locator('tr[data-class="duplicate_charge"] td.num').first).to_have_text("1")
    expect(page.locator('tr[data-class="missing_here"] td.num').first).to_have_text("2")
    live.shot(page, "21-recon-run")
    page.select_option("#f-class", "duplicate_charge")
    page.get_by_role("button", name="筛选").click()
    page.locator("table a[href*='/console/recon/discrepancies/']").first.click()
    expect(page.get_by_role("heading", name="开立错收工单")).to_be_visible()
    live.shot(page, "22-recon-discrepancy")
    page.select_option("#f-cause", "operator_error")
    page.select_option("#f-responsible", "merchant_staff")
    page.fill("#f-analysis", "收银员重复扫码，顾客被扣两次")
    page.get_by_role("button", name="开立工单").click()
    expect(page).to_have_url(re.compile(r"/console/recon/wrong-charges/[\w-]+$"))
    expect(page.get_by_role("heading", name="发起更正退款")).to_be_visible()
    wrong_charge_url = page.url
    page.get_by_role("button", name="发起更正退款").click()
    expect(page.get_by_text("更正退款已发起")).to_be_visible()
    expect(page).to_have_url(wrong_charge_url)
    expect(page.locator("a[href^='/console/cases/']").first).to_be_visible()
    live.shot(page, "23-recon-wrong-charge")
