"""The fee page of the console over HTTP (SQLite and PostgreSQL): finance types a contract period in percent and
yuan and sees it in the contract's words, a bad rate is refused beside its field with nothing changed, the check
over an imported acquirer file opens a case whose statement shows yuan, approval and the transfer by two other
people; a cashier may not see the page."""

from __future__ import annotations

import re
from typing import Any

from posrefund.service import fees
from posrefund.service.deps import Deps
from tests.api.test_fees_api import import_card_file
from tests.conftest import World

PERIOD = {
    "effective_from": "2026-11-01",
    "consented_on": "2026-10-25",
    "consent_ref": "HT-2026-118",
    "channel_0": "card", "card_type_0": "credit", "rate_0": "0.60",
    "channel_1": "card", "card_type_1": "debit", "rate_1": "0.5", "cap_1": "20",
    "channel_2": "wechat", "card_type_2": "any", "rate_2": "0.38",
    "channel_3": "wechat", "card_type_3": "any", "rate_3": "0.55", "band_3": "1000",
}  # fmt: skip


def test_contract_check_approve_and_pay_on_the_page(as_user: Any, deps: Deps, world: World, tmp_path: Any) -> None:
    finance, boss, cashier = as_user("a.finance"), as_user("a.admin"), as_user("a.cashier")
    page = finance.get("/console/fees")
    assert page.status_code == 200 and "尚未录入费率合同。" in page.text and 'href="/console/fees"' in page.text
    assert cashier.get("/console/fees").status_code == 403
    assert 'href="/console/fees"' not in cashier.get("/console/desk").text

    bad = finance.post("/console/fees/periods", {**PERIOD, "rate_0": "0.6.0"})
    assert bad.status_code == 422 and 'id="f-rate_0-err"' in bad.text and "费率格式不正确" in bad.text
    capped = finance.post("/console/fees/periods", {**PERIOD, "min_1": "30"})
    assert capped.status_code == 422 and "封顶金额不能低于最低手续费" in capped.text
    assert fees.periods(deps, world.a.actors["finance"], world.a.id) == []

    saved = finance.post("/console/fees/periods", PERIOD, follow_redirects=False)
    assert saved.status_code == 303
    shown = finance.get("/console/fees").text
    for words in (
        "银行卡 贷记卡 0.60%",
        "银行卡 借记卡 0.50%，封顶 20.00 元",
        "微信支付 不分卡种 0.55%（1,000.00 元及以上）",
    ):
        assert words in shown
    assert "商户已于 2026-10-25 同意（HT-2026-118）" in shown
    again = finance.post("/console/fees/periods", PERIOD)
    assert again.status_code == 422 and "历史不可改写" in again.text

    import_card_file(deps, world, tmp_path)
    checked = finance.post("/console/fees/check", {"date_from": "2026-11-01", "date_to": "2026-11-30"},
                           follow_redirects=False)  # fmt: skip
    assert checked.status_code == 303
    case_url = checked.headers["location"]
    case = finance.get(case_url).text
    assert "¥30.00" in case and "¥50.00" in case and "¥20.00" in case and "手续费多收退还" in case
    assert re.search(r"共 3 笔手续费高于合同约定，合计多收 30\.65 元", case)
    own = finance.post(case_url + "/approve")
    assert own.status_code == 422 and "不能审批自己发起的退费" in own.text
    assert boss.post(case_url + "/approve", follow_redirects=False).status_code == 303
    same = boss.post(case_url + "/pay", {"text": "CMB001"})
    assert same.status_code == 422 and "批准人不能同时登记转账" in same.text
    assert finance.post(case_url + "/pay", {"text": "CMB001"}, follow_redirects=False).status_code == 303
    done = finance.get(case_url).text
    assert "已付款" in done and "CMB001" in done
