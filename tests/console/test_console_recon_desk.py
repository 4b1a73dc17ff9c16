"""The reconciliation desk's console pages over the real app: the layout editor (preview with per-column errors,
save, a bad field said beside its input) and the till check (count, investigation, sign-off), in Chinese."""

from __future__ import annotations

from typing import Any

from tests.support.desk import BAD_LINE, LINES, export

COLUMNS = {
    "col_date": "",
    "col_time": "",
    "col_datetime": "交易时间",
    "col_kind": "交易类型",
    "col_amount": "金额(元)",
    "col_fee": "手续费(元)",
    "col_card_no": "卡号",
    "col_voucher_no": "流水号",
    "col_rrn": "参考号",
    "col_batch_no": "批次号",
}
FORM = {
    "name": "lakala",
    "encoding": "gbk",
    "delimiter": ",",
    "header_rows": "2",
    "amount_unit": "yuan",
    "sign": "kind",
    "date_format": "%Y%m%d",
    "time_format": "%H%M%S",
    "datetime_format": "%Y-%m-%d %H:%M:%S",
    "kind_sale": "刷卡消费",
    "kind_refund": "刷卡退货",
    "kind_void": "",
    **COLUMNS,
}


def test_the_layout_editor_previews_saves_and_places_errors(as_user: Any) -> None:
    finance = as_user("a.finance")
    page = finance.get("/console/recon/mappings")
    assert page.status_code == 200 and "对账单映射" in page.text and "bank-acquirer" in page.text
    files = {"file": ("s.csv", export(LINES[0], BAD_LINE), "text/csv")}
    shown = finance.post("/console/recon/mappings", {**FORM, "action": "preview"}, files=files)
    assert shown.status_code == 200, shown.text
    assert "金额无法识别：abc" in shown.text and "未知交易类型：预授权" in shown.text and "128.00" in shown.text
    wrong = finance.post("/console/recon/mappings", {**FORM, "amount_unit": "jiao", "action": "save"})
    assert wrong.status_code == 422 and "映射中“amount_unit”的取值无效" in wrong.text
    saved = finance.post("/console/recon/mappings", {**FORM, "action": "save"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    again = finance.get(saved.headers["location"])
    assert "映射已保存。" in again.text and 'value="lakala"' in again.text
    home = finance.get("/console/recon")
    assert '<option value="lakala"' in home.text


def test_the_till_page_counts_and_a_supervisor_signs_off(as_user: Any, world: Any, deps: Any) -> None:
    cashier = as_user("a.cashier")
    page = cashier.get("/console/till")
    assert page.status_code == 200 and "日结（现金盘点）" in page.text
    now = deps.clock.now().astimezone()
    form = {
        "terminal_id": world.a.terminal_id,
        "opened_at": "2026-11-19T09:00",
        "closed_at": "2026-11-19T17:00",
        "float": "500.00",
        "counted": "",
        "d_10000": "5",
    }
    negative = cashier.post("/console/till", {**form, "d_10000": "", "counted": "-3"})
    assert negative.status_code == 422 and "counted 不能为负数" in negative.text
    done = cashier.post("/console/till", form, follow_redirects=False)
    assert done.status_code == 303, done.text
    shift = cashier.get(done.headers["location"])
    assert "¥500.00" in shift.text and "¥¥" not in shift.text and "已盘点，待签核" in shift.text and now
    supervisor = as_user("a.supervisor")
    supervisor.get(done.headers["location"])
    signed = supervisor.post(done.headers["location"] + "/sign-off", {"note": ""}, follow_redirects=False)
    assert signed.status_code == 303
    assert "已签核" in supervisor.get(done.headers["location"]).text
