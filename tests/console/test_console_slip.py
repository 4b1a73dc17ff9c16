"""The printable refund slip: its facts in Chinese, the paper widths, the QR code of the tracking page, an
audit event per print, and the roles and merchants refused."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, select

from posrefund.adapters.db import tables
from posrefund.domain.sale_items import numbered
from posrefund.service import refunds
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import World
from tests.support.helpers import new_sale


def _case(deps: Any, world: World) -> str:
    sale = new_sale(
        deps, world.a, amount_fen=3_400, items=numbered((("矿泉水", 2, 1_200, None), ("面包", 1, 1_000, None)))
    )
    req = RefundRequest(
        sale_id=sale.id,
        amount_fen=0,
        reason="customer_cancelled",
        customer=CustomerInput(phone="13812345678"),
        items=((1, 1),),
    )
    return refunds.request_refund(deps, world.a.actors["cashier"], req).id


def test_the_slip_prints_in_three_widths_with_a_qr(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    case_id = _case(deps, world)
    cashier = as_user("a.cashier")
    case = cashier.get(f"/console/cases/{case_id}")
    assert f"/console/cases/{case_id}/slip" in case.text
    for paper in ("a4", "80", "58"):
        r = cashier.get(f"/console/cases/{case_id}/slip", params={"paper": paper})
        assert r.status_code == 200, r.text
        assert f'class="slip paper-{paper}"' in r.text
    page = r.text
    assert "退款凭条" in page and "¥12.00" in page and "预计到账（估计）" in page and "原路退回" in page
    assert "138****5678" in page and "13812345678" not in page and "矿泉水" in page
    assert re.search(r'<svg[^>]*class="qr"', page) and "<title>扫码查看退款进度</title>" in page
    with engine.connect() as c:
        printed = c.execute(
            select(tables.audit_events.c.data)
            .where(tables.audit_events.c.action == "refund.slip_printed")
            .order_by(tables.audit_events.c.id)  # the order written: a chained row may have moved in the heap
        ).all()
    assert len(printed) == 3 and '"paper": "58"' in printed[-1][0]
    bad = cashier.get(f"/console/cases/{case_id}/slip", params={"paper": "letter"})
    assert bad.status_code == 422


def test_roles_and_other_merchants_are_refused(as_user: Any, world: World, deps: Any) -> None:
    case_id = _case(deps, world)
    assert as_user("a.finance").get(f"/console/cases/{case_id}/slip").status_code == 403
    assert as_user("b.cashier").get(f"/console/cases/{case_id}/slip").status_code == 404
    english = as_user("a.supervisor")
    english.client.cookies.set("prc_lang", "en")
    r = english.get(f"/console/cases/{case_id}/slip")
    assert r.status_code == 200 and "Refund slip" in r.text and "Expected arrival (estimate)" in r.text
