"""The header's search box and "my refunds" through the console, on the real app and database: each kind of
number finds its refund or sale (one hit opens it), another merchant's never shows, a bad input is a 422 with
its Chinese message."""

from __future__ import annotations

from typing import Any

from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import World
from tests.support.helpers import new_sale


def _refund(deps: Deps, world: World, who: str = "cashier", phone: str | None = None, **sale: Any) -> Any:
    s = new_sale(deps, world.a, **{"amount_fen": 50_000, **sale})
    req = RefundRequest(sale_id=s.id, amount_fen=20_000, reason="other", customer=CustomerInput(phone=phone))
    return s, refunds.request_refund(deps, world.a.actors[who], req)


def _opens(browser: Any, q: str) -> str:
    r = browser.get("/console/search", params={"q": q}, follow_redirects=False)
    assert r.status_code == 303, (q, r.status_code)
    return str(r.headers["location"])


def test_each_number_finds_its_refund_or_sale(deps: Deps, world: World, as_user: Any) -> None:
    sale, case = _refund(deps, world, phone="13900004321")
    cashier = as_user("a.cashier")
    assert _opens(cashier, case.refund_no) == f"/console/cases/{case.id}"
    assert _opens(cashier, f"  {case.id} ") == f"/console/cases/{case.id}"
    assert _opens(cashier, sale.voucher_no) == f"/console/sales/{sale.id}"
    assert _opens(cashier, sale.order_no) == f"/console/sales/{sale.id}"
    assert _opens(cashier, "4321") == f"/console/cases/{case.id}"
    card = new_sale(deps, world.a, channel="card", payer_masked="622202******6789", amount_fen=8_800)
    assert _opens(cashier, "6789 88.00") == f"/console/sales/{card.id}"
    assert _opens(cashier, "6789 ¥88") == f"/console/sales/{card.id}"
    page = cashier.get(f"/console/sales/{sale.id}")
    assert page.status_code == 200 and case.refund_no in page.text and "¥500.00" in page.text


def test_several_hits_are_listed_and_lead_to_each(deps: Deps, world: World, as_user: Any) -> None:
    _s1, first = _refund(deps, world, phone="13900005555")
    _s2, second = _refund(deps, world, phone="13600005555")
    page = as_user("a.auditor").get("/console/search", params={"q": "5555"})
    assert page.status_code == 200
    for case in (first, second):
        assert f'href="/console/cases/{case.id}"' in page.text
    assert "¥200.00" in page.text and "待审核" in page.text


def test_another_merchants_numbers_find_nothing(deps: Deps, world: World, as_user: Any) -> None:
    sale, case = _refund(deps, world, phone="13900004321")
    other = as_user("b.supervisor")
    for q in (case.refund_no, case.id, sale.voucher_no, sale.order_no, "4321"):
        r = other.get("/console/search", params={"q": q})
        assert r.status_code == 200 and "没有找到符合的退款单或消费记录" in r.text, q
        assert f"/cases/{case.id}" not in r.text and f"/sales/{sale.id}" not in r.text
    assert other.get(f"/console/sales/{sale.id}").status_code == 404


def test_a_bad_search_is_422_in_chinese(as_user: Any) -> None:
    cashier = as_user("a.cashier")
    empty = cashier.get("/console/search", params={"q": "  "})
    assert empty.status_code == 422 and "请输入退款单号" in empty.text
    amount = cashier.get("/console/search", params={"q": "6789 8.8.8"})
    assert amount.status_code == 422 and "金额" in amount.text
    assert cashier.get("/console/search", params={"q": "x" * 80}).status_code == 422


def test_my_refunds_lists_only_the_operators_own_by_state(deps: Deps, world: World, as_user: Any) -> None:
    _s1, mine = _refund(deps, world)
    _s2, theirs = _refund(deps, world, who="customer_service")
    refunds.cancel(deps, world.a.actors["cashier"], mine.id, "顾客改主意了")
    _s3, waiting = _refund(deps, world)
    cashier = as_user("a.cashier")
    assert 'href="/console/mine"' in cashier.get("/console/desk").text  # in the menu
    every = cashier.get("/console/mine")
    assert every.status_code == 200
    assert mine.refund_no in every.text and waiting.refund_no in every.text and theirs.refund_no not in every.text
    cancelled = cashier.get("/console/mine", params={"status": "cancelled"})
    assert mine.refund_no in cancelled.text and waiting.refund_no not in cancelled.text
    bad = cashier.get("/console/mine", params={"status": "paid"})
    assert bad.status_code == 422 and "请选择列表中的状态" in bad.text
