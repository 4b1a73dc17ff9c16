"""The allowance an accepted deposit proposal sets holds against concurrent refunds of the sale: each thread on
its own connection, on SQLite and PostgreSQL, and never more back than the terms allow."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from posrefund.domain.errors import DomainError
from posrefund.service import refunds, sales
from posrefund.service.deposits import holding, proposals, terms
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.support.helpers import sale_input


def test_twenty_concurrent_refunds_stay_within_the_allowance(deps: Deps, world: World) -> None:
    """A customer cancelled a 3,000-yuan 定金 on a 10,000-yuan contract: 1,000 yuan may go back. The refund the
    acceptance asked for is withdrawn; then 20 threads ask 400 yuan each: exactly two win."""
    a = world.a.actors
    made = terms.create_terms(deps, a["supervisor"], name="婚宴定金", kind="deposit", hold_days=60)
    sale_in = sale_input(world.a, deps.clock.now(), amount_fen=300_000)
    sale, deposit = holding.record_deposit_sale(
        deps, a["cashier"], sale_in, terms_id=made["id"], contract_value_fen=1_000_000
    )
    proposal = proposals.propose(deps, a["cashier"], deposit["id"], ending="customer_breach")
    case = proposals.accept(deps, a["supervisor"], deposit["id"], proposal["id"])["refund"]
    refunds.cancel(deps, a["supervisor"], case.id, "顾客改为到店退现")

    def one(_: int) -> str:
        try:
            refunds.request_refund(
                deps, a["cashier"], RefundRequest(sale_id=sale.id, amount_fen=40_000, reason="deposit_return")
            )
            return "ok"
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert results.count("ok") == 2
    assert set(results) - {"ok"} == {"deposit.exceeds_terms"}
    fresh = sales.get_sale(deps, a["cashier"], sale.id)
    assert (fresh.reserved_fen, fresh.refunded_fen, fresh.refund_count) == (
        80_000,
        0,
        2,
    )  # the withdrawn request counts no more
