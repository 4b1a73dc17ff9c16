"""The audit browser: an auditor reads the merchant's trail by case, person, action and dates, a page at a time,
and checks the chain; other roles and other merchants' events stay out."""

from __future__ import annotations

import re
from typing import Any

from posrefund.service import refunds
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.support.helpers import new_sale


def _cases(deps: Any, world: World, n: int) -> list[refunds.RefundCase]:
    out = []
    for _ in range(n):
        sale = new_sale(deps, world.a)
        req = RefundRequest(sale_id=sale.id, amount_fen=500, reason="customer_cancelled")
        out.append(refunds.request_refund(deps, world.a.actors["cashier"], req))
    return out


def test_auditor_filters_pages_and_reads_in_chinese(as_user: Any, world: World, deps: Any) -> None:
    cases = _cases(deps, world, 30)
    auditor = as_user("a.auditor")
    first = auditor.get("/console/audit")
    assert first.status_code == 200 and "审计日志" in first.text and "发起退款申请" in first.text
    assert "refund.requested" not in re.sub(r'value="[^"]*"', "", first.text)  # labels, never the raw code
    older = re.search(r'href="(/console/audit\?[^"]*before=\d+)"', first.text)
    assert older is not None
    second = auditor.get(older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "发起退款申请" in second.text
    one = auditor.get("/console/audit", params={"case": cases[0].refund_no})
    assert one.text.count("<li>") >= 2 and f"/console/cases/{cases[0].id}" in one.text
    assert f"/console/cases/{cases[1].id}" not in one.text
    cashier_id = world.a.actors["cashier"].id
    by_user = auditor.get("/console/audit", params={"user": cashier_id, "action": "refund.requested"})
    assert by_user.text.count("发起退款申请") >= 30
    day = deps.clock.now().date().isoformat()
    reversed_range = auditor.get("/console/audit", params={"from": day, "to": "2020-01-01"})
    assert reversed_range.status_code == 200 and "结束日期须晚于开始日期" in reversed_range.text
    bad_date = auditor.get("/console/audit", params={"from": "yesterday"})
    assert bad_date.status_code == 200 and 'id="f-from-err"' in bad_date.text


def test_verify_the_chain_says_intact(as_user: Any, world: World, deps: Any) -> None:
    _cases(deps, world, 2)
    auditor = as_user("a.auditor")
    auditor.get("/console/audit")
    r = auditor.post("/console/audit/verify")
    assert r.status_code == 200 and "审计链完整" in r.text and "已校验" in r.text


def test_other_roles_and_merchants_are_kept_out(as_user: Any, world: World, deps: Any) -> None:
    cases = _cases(deps, world, 1)
    for who in ("a.cashier", "a.supervisor", "a.finance"):
        assert as_user(who).get("/console/audit").status_code == 403
    other = as_user("b.auditor").get("/console/audit", params={"case": cases[0].refund_no})
    assert other.status_code == 200 and "没有符合条件的审计事件" in other.text
    cashier = as_user("a.cashier")
    cashier.get("/console/desk")
    assert cashier.post("/console/audit/verify").status_code == 403
