"""End to end on the real protocols: approved refunds reach ``succeeded`` through the simulators, the
API receiving the signed callbacks over real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from posrefund.demo import channels
from posrefund.domain.refund import RefundStatus
from posrefund.entrypoints.api.app import create_app
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.support.helpers import new_sale
from tests.support.ports import free_port


@pytest.fixture
def live(deps: Deps, backend: str) -> Iterator[tuple[channels.Simulated, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sims = channels.start(base, timeout=2.0)
    app = create_app(deps, inline=backend == "sqlite", router=sims.router)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield sims, base
    server.should_exit = True
    thread.join(timeout=5)
    sims.close()


def test_wechat_and_card_refunds_reach_succeeded(
    deps: Deps, world: World, live: tuple[channels.Simulated, str], clock: object
) -> None:
    sims, _ = live
    cashier = world.a.actors["cashier"]
    today_card = new_sale(
        deps,
        world.a,
        channel="card",
        payer_masked="622202******1234",
        paid_at=deps.clock.now(),
        batch_no="000007",
        voucher_no="000123",
        rrn="000000000123",
        auth_code="123456",
    )
    old_card = new_sale(
        deps,
        world.a,
        channel="card",
        payer_masked="622202******4321",
        settlement_status="settled",
        batch_no="000006",
        voucher_no="000122",
        rrn="000000000122",
        auth_code="654321",
    )
    wallet = new_sale(deps, world.a, channel="wechat")
    alipay = new_sale(deps, world.a, channel="alipay", payer_masked="138****0000")
    qr = new_sale(
        deps,
        world.a,
        channel="unionpay_qr",
        payer_masked="6228********1111",
        settlement_status="settled",
        batch_no="000005",
        voucher_no="000121",
        rrn="000000000121",
        auth_code="111111",
    )
    cases = {
        "void": refunds.request_refund(deps, cashier, RefundRequest(today_card.id, today_card.amount_fen, "other")),
        "refund": refunds.request_refund(deps, cashier, RefundRequest(old_card.id, 2_000, "other")),
        "wechat": refunds.request_refund(deps, cashier, RefundRequest(wallet.id, 3_000, "other")),
        "alipay": refunds.request_refund(deps, cashier, RefundRequest(alipay.id, 3_000, "other")),
        "unionpay_qr": refunds.request_refund(deps, cashier, RefundRequest(qr.id, 3_000, "other")),
    }
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        execution.sweep(deps, sims.router)
        states = {k: refunds.get_case(deps, world.a.actors["auditor"], c.id).case for k, c in cases.items()}
        if all(c.status is RefundStatus.SUCCEEDED for c in states.values()):
            break
        clock.advance(seconds=61)  # type: ignore[attr-defined]
        time.sleep(0.2)
    assert {k: c.status for k, c in states.items()} == dict.fromkeys(cases, RefundStatus.SUCCEEDED)
    # The same-day sale was captured in another terminal's batch than the one posrefund speaks as: the host refuses
    # the void (12) and the same refund number goes back as a 退货 at once. Voids themselves: tests/contract/test_cup_*.
    assert (states["void"].method, states["refund"].method, states["wechat"].method) == ("refund", "refund", "refund")
    card_ledger = sims.simulators["card"].ledger()
    assert sorted(e["original_rrn"] for e in card_ledger if e["executed"]) == sorted(
        [today_card.rrn, old_card.rrn, qr.rrn]
    )
    wechat_ledger = sims.simulators["wechat"].ledger()
    assert [e["refund_no"] for e in wechat_ledger] == [cases["wechat"].refund_no]
    assert [e["refund_no"] for e in sims.simulators["alipay"].ledger()] == [cases["alipay"].refund_no]
