"""Refunds of some units of a sale's item lines: the amount is computed, units never refunded twice, and the
units follow the case to refunded or back to the line."""

from __future__ import annotations

import pytest

from posrefund.domain.errors import Conflict, Invalid
from posrefund.domain.refund import RefundStatus
from posrefund.domain.sale_items import ItemRefund, SaleLine, numbered, parse_items_text, price_items
from posrefund.service import execution, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.conftest import FixedClock, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale

# 2 × 12.00 water, 3 bread lines discounted to 10.00 in all, 1 × 78.00 tea: 112.00 yuan.
LINES = numbered((("矿泉水", 2, 1_200, None), ("面包", 3, 400, 1_000), ("茶叶", 1, 7_800, None)))


def item_sale(deps: Deps, world: World) -> str:
    return new_sale(deps, world.a, amount_fen=11_200, items=LINES).id


def ask(deps: Deps, world: World, sale_id: str, *items: tuple[int, int], amount: int = 0) -> refunds.RefundCase:
    req = RefundRequest(sale_id=sale_id, amount_fen=amount, reason="customer_cancelled", items=items)
    return refunds.request_refund(deps, world.a.actors["cashier"], req)


def lines(deps: Deps, world: World, sale_id: str) -> list[tuple[int, int]]:
    _sale, found = sales.sale_lines(deps, world.a.actors["cashier"], sale_id)
    return [(line.refunded_qty, line.reserved_qty) for line in found]


def test_the_last_unit_of_a_discounted_line_takes_the_rounding() -> None:
    bread = SaleLine(1, "面包", 3, 400, 1_000)
    first = price_items([bread], {1: 1})
    assert first == [ItemRefund(1, 1, 333, 0)]
    rest = price_items([SaleLine(1, "面包", 3, 400, 1_000, refunded_qty=1)], {1: 2})
    assert rest == [ItemRefund(1, 2, 667, 1)]  # 333 + 667 = the line's 10.00 yuan, never more


def test_a_file_column_of_items_reads_into_numbered_lines() -> None:
    assert parse_items_text("矿泉水:2:1200; 面包:3:400:1000") == LINES[:2]
    with pytest.raises(ValueError):
        parse_items_text("矿泉水:2")


def test_sale_lines_must_add_up_to_the_sale(deps: Deps, world: World) -> None:
    with pytest.raises(Invalid) as err:
        new_sale(deps, world.a, amount_fen=11_000, items=LINES)
    assert err.value.code == "sale.items_sum_mismatch"
    bad = numbered((("", 1, 100, None),))
    with pytest.raises(Invalid) as err:
        new_sale(deps, world.a, amount_fen=100, items=bad)
    assert (err.value.code, err.value.params["field"]) == ("sale.item_invalid", "name")


def test_amount_is_computed_and_units_are_held(deps: Deps, world: World) -> None:
    sale_id = item_sale(deps, world)
    case = ask(deps, world, sale_id, (1, 1), (2, 1))
    assert case.amount_fen == 1_200 + 333
    assert lines(deps, world, sale_id) == [(0, 1), (0, 1), (0, 0)]
    with pytest.raises(Invalid) as err:
        ask(deps, world, sale_id, (1, 2))
    assert err.value.code == "refund.item_over_quantity" and err.value.params["refundable_qty"] == 1
    with pytest.raises(Invalid) as err:
        ask(deps, world, sale_id, (3, 1), amount=1)
    assert err.value.code == "refund.item_amount_mismatch"
    for asked, code in (((4, 1),), "refund.item_unknown_line"), (((1, 1), (1, 1)), "refund.item_duplicate_line"):
        with pytest.raises(Invalid) as err:
            ask(deps, world, sale_id, *asked)
        assert err.value.code == code
    events = [e["action"] for e in refunds.case_events(deps, world.a.actors["auditor"], case.id)]
    assert "refund.items_held" in events


def test_units_come_back_when_the_case_is_cancelled(deps: Deps, world: World) -> None:
    sale_id = item_sale(deps, world)
    case = ask(deps, world, sale_id, (3, 1))
    refunds.cancel(deps, world.a.actors["cashier"], case.id, "换货")
    assert lines(deps, world, sale_id)[2] == (0, 0)
    again = ask(deps, world, sale_id, (3, 1))
    assert again.amount_fen == 7_800


def test_units_become_refunded_on_success(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    sale_id = item_sale(deps, world)
    case = ask(deps, world, sale_id, (1, 2))
    assert case.status is RefundStatus.APPROVED
    fake.script[case.refund_no] = ["processing"]
    execution.sweep(deps, router)
    clock.advance(seconds=61)
    execution.sweep(deps, router)
    assert refunds.get_case(deps, world.a.actors["auditor"], case.id).case.status is RefundStatus.SUCCEEDED
    assert lines(deps, world, sale_id)[0] == (2, 0)


def test_a_line_taken_in_between_refuses_the_hold(deps: Deps, world: World) -> None:
    sale_id = item_sale(deps, world)
    stale = [ItemRefund(1, 1, 1_200, taken_before=0)]
    ask(deps, world, sale_id, (1, 1))
    with deps.uow() as uow:
        assert uow.sale_items.hold(sale_id, stale) is False
    assert Conflict("refund.items_changed").code == "refund.items_changed"
