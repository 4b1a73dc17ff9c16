"""The refund form of a sale with item lines: units per line, a server-computed total, refusals in place, and
the sale and case pages showing per line what was refunded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from posrefund.adapters.db import tables
from posrefund.domain.sale_items import numbered
from tests.conftest import World
from tests.console.test_console_pages import count, refund_form
from tests.support.helpers import new_sale

LINES = numbered((("矿泉水", 2, 1_200, None), ("面包", 3, 400, 1_000)))


def _sale(deps: Any, world: World) -> str:
    return new_sale(deps, world.a, amount_fen=3_400, items=LINES).id


def test_units_chosen_give_the_amount(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    sale_id = _sale(deps, world)
    cashier = as_user("a.cashier")
    page = cashier.get(f"/console/desk/sale/{sale_id}")
    assert "商品明细" in page.text and 'name="qty_2"' in page.text and "矿泉水" in page.text
    total = cashier.post(f"/console/desk/sale/{sale_id}/price", {"qty_2": "2"})
    assert total.status_code == 200 and "¥6.66" in total.text
    over = cashier.post(f"/console/desk/sale/{sale_id}/price", {"qty_1": "2", "qty_2": "9"})
    assert over.status_code == 200 and "第 2 行" not in over.text and 'class="err"' in over.text
    r = cashier.post(f"/console/desk/sale/{sale_id}", refund_form(cashier, sale_id, amount="", qty_2="2"))
    assert r.url.path.startswith("/console/desk/answer/rfd_") and "¥6.66" in r.text
    case_id = r.url.path.rsplit("/", 1)[1]
    case = cashier.get(f"/console/cases/{case_id}")
    assert "本单退货商品" in case.text and "面包" in case.text
    sale_page = cashier.get(f"/console/sales/{sale_id}")
    assert sale_page.status_code == 200 and "可退数量" in sale_page.text and 'name="qty_' not in sale_page.text
    with engine.connect() as c:
        held = c.execute(tables.refund_items.select()).mappings().all()
    assert [(h["line"], h["quantity"], h["amount_fen"]) for h in held] == [(2, 2, 666)]


def test_over_quantity_is_refused_on_the_form(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    sale_id = _sale(deps, world)
    cashier = as_user("a.cashier")
    r = cashier.post(f"/console/desk/sale/{sale_id}", refund_form(cashier, sale_id, amount="", qty_1="3"))
    assert r.status_code == 422 and 'id="f-qty_1-err"' in r.text
    mismatch = cashier.post(f"/console/desk/sale/{sale_id}", refund_form(cashier, sale_id, amount="1.00", qty_1="1"))
    assert mismatch.status_code == 422 and "与所选商品金额" in mismatch.text
    assert count(engine, tables.refunds) == 0


def test_the_form_speaks_english_on_request(as_user: Any, world: World, deps: Any) -> None:
    sale_id = _sale(deps, world)
    cashier = as_user("a.cashier")
    cashier.client.cookies.set("prc_lang", "en")
    page = cashier.get(f"/console/desk/sale/{sale_id}")
    assert "Qty to refund now" in page.text and "商品明细" not in page.text
