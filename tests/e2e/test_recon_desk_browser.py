"""The reconciliation desk in a real headless Chromium: finance describes a 拉卡拉-style acquirer layout in the
console, previews a file with it (a bad line's errors said per column, in Chinese), saves it, imports the day's
file with the stored layout, runs the reconciliation and opens a wrong-charge case from a finding in one step,
then starts its correction by the acquirer's own references; a cashier counts the till at 390 px and a supervisor
signs it off. A screenshot of each main page (47–52)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Live, sign_in, watched_page
from tests.support.desk import BAD_LINE, LINES, export

PHONE = {"width": 390, "height": 844}
COLUMNS = {
    "date": "",
    "time": "",
    "datetime": "交易时间",
    "kind": "交易类型",
    "amount": "金额(元)",
    "fee": "手续费(元)",
    "merchant_no": "商户编号",
    "terminal_no": "终端编号",
    "card_no": "卡号",
    "voucher_no": "流水号",
    "rrn": "参考号",
    "batch_no": "批次号",
    "auth_code": "",
}


def test_finance_stores_a_layout_imports_with_it_and_opens_a_wrong_charge(
    page: Page, live: Live, tmp_path: Path
) -> None:
    sample = tmp_path / "lakala-sample.csv"
    sample.write_bytes(export(LINES[0], BAD_LINE))
    day_file = tmp_path / "lakala-20261120.csv"
    day_file.write_bytes(export())

    sign_in(page, live, "a.finance")
    page.goto(live.url("/console/recon/mappings"))
    expect(page.get_by_role("heading", name="对账单映射", exact=True)).to_be_visible()
    page.fill("#f-name", "lakala")
    page.select_option("#f-encoding", "gbk")
    page.fill("#f-header_rows", "2")
    for fld, column in COLUMNS.items():
        page.fill(f"#f-col_{fld}", column)
    page.fill("#f-kind_sale", "刷卡消费")
    page.fill("#f-kind_refund", "刷卡退货")
    page.set_input_files("#f-file", str(sample))
    page.get_by_role("button", name="预览", exact=True).click()
    expect(page.get_by_text("金额无法识别：abc")).to_be_visible()
    expect(page.get_by_text("未知交易类型：预授权")).to_be_visible()
    expect(page.locator("#preview tbody tr").first).to_contain_text("128.00")
    live.shot(page, "47-recon-mapping-preview")
    page.get_by_role("button", name="保存映射").click()
    expect(page.get_by_text("映射已保存。")).to_be_visible()
    expect(page.locator("table a", has_text="lakala")).to_be_visible()

    page.get_by_role("link", name="对账", exact=True).click()
    page.select_option("#f-import-source", "card")
    page.select_option("#f-mapping", "lakala")
    page.set_input_files("#f-file", str(day_file))
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_text("导入完成")).to_be_visible()
    live.shot(page, "48-recon-import-with-layout")
    page.get_by_role("button", name="对这些日期运行对账").click()
    expect(page.get_by_text("对账完成")).to_be_visible()
    page.get_by_role("link", name="查看对账结果").click()
    expect(page).to_have_url(re.compile(r"/console/recon/runs/[\w-]+$"))
    expect(page.locator('tr[data-class="missing_here"] td.num').first).to_have_text("3")
    live.shot(page, "49-recon-run-findings")
    row = page.locator("table tr", has_text="128.00")
    row.get_by_role("button", name="开错收单").click()
    expect(page).to_have_url(re.compile(r"/console/recon/wrong-charges/[\w-]+$"))
    page.get_by_role("button", name="发起更正退款").click()
    expect(page.get_by_text("更正退款已发起")).to_be_visible()
    expect(page.locator("a[href^='/console/cases/']").first).to_be_visible()
    live.shot(page, "50-recon-channel-only-correction")


def test_a_cashier_counts_the_till_on_a_phone_and_a_supervisor_signs_it_off(chromium: Browser, live: Live) -> None:
    with watched_page(chromium, PHONE) as phone:
        sign_in(phone, live, "a.cashier")
        phone.get_by_role("link", name="日结", exact=True).click()
        expect(phone.get_by_role("heading", name="日结（现金盘点）")).to_be_visible()
        phone.fill("#f-float", "500.00")
        phone.fill("#f-d_10000", "4")
        phone.fill("#f-d_2000", "2")
        phone.fill("#f-d_50", "1")
        phone.get_by_role("button", name="提交盘点").click()
        expect(phone).to_have_url(re.compile(r"/console/till/[\w-]+$"))
        expect(phone.get_by_text("差额超出容差，已开立错收调查。")).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        live.shot(phone, "51-till-count-390")
        shift_url = phone.url
    with watched_page(chromium, PHONE) as phone:
        sign_in(phone, live, "a.supervisor")
        phone.goto(shift_url)
        phone.get_by_role("button", name="签核").click()
        expect(phone.get_by_text("差异超出容差，签核时请填写调查结论")).to_be_visible()
        phone.fill("#f-note", "备用金少放 59.50 元，已补齐")
        phone.get_by_role("button", name="签核").click()
        expect(phone.get_by_text("已签核")).to_be_visible()
        live.shot(phone, "52-till-signed-off-390")
