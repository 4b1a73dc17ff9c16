"""Exactly once under faults: 200 refunds per channel, 30 % of the channel's answers faulty (timeouts after
executing, 5xx with and without effect, declines, PROCESSING several times, ABNORMAL, CLOSED, duplicate,
forged and early callbacks). Every refund ends final or with a person, the channel's ledger holds each
refund number at most once, and posrefund and the channel agree on every refund that moved money."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from posrefund.demo import channels
from posrefund.domain.refund import RefundStatus
from posrefund.entrypoints.api.app import create_app
from posrefund.ports import RefundQuery
from posrefund.service import execution, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.conftest import FixedClock, World
from tests.support.helpers import new_sale
from tests.support.ports import free_port

N = 200
S = RefundStatus
WECHAT_FAULTS = (
    "system_error",
    "system_error_no_effect",
    "http_500",
    "no_answer_after_accept",
    "drop_after_accept",
    "decline",
    "processing_then_success",
    "abnormal",
    "closed",
    "duplicate_callback",
    "bad_signature_callback",
    "callback_before_query",
)
ALIPAY_FAULTS = (
    "no_answer_after_accept",
    "drop_after_accept",
    "system_error",
    "system_error_no_effect",
    "service_unavailable",
    "http_500",
    "decline",
    "closed",
    "abnormal",
    "processing_then_success",
    "duplicate_callback",
    "bad_signature_callback",
    "callback_before_query",
)
CARD_FAULTS = {"no_answer_after_accept": 0.1, "system_error": 0.1, "decline": 0.05, "bad_response_mac": 0.05}


@pytest.fixture
def faulty(deps: Deps, backend: str) -> Iterator[channels.Simulated]:
    port = free_port()
    sims = channels.start(
        f"http://127.0.0.1:{port}",
        timeout=0.4,
        fault_rate=0.3,
        seed=7,
        wechat_faults=WECHAT_FAULTS,
        acquirer_faults=CARD_FAULTS,
        alipay_faults=ALIPAY_FAULTS,
    )
    app = create_app(deps, inline=backend == "sqlite", router=sims.router)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield sims
    server.should_exit = True
    thread.join(timeout=5)
    sims.close()


def run_until_settled(
    deps: Deps, sims: channels.Simulated, world: World, clock: FixedClock, ids: list[str]
) -> dict[str, refunds.RefundCase]:
    """Four workers sweep in parallel while the clock moves on, until every case has an outcome."""
    auditor = world.a.actors["auditor"]
    rng = random.Random(1)
    deadline = time.monotonic() + 150
    final = {S.SUCCEEDED, S.FAILED, S.CLOSED, S.ABNORMAL, S.UNKNOWN}
    while True:
        workers = [
            threading.Thread(target=execution.sweep, args=(deps, sims.router, 500, rng.shuffle)) for _ in range(4)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        views, _ = refunds.list_cases(deps, auditor, RefundQuery(limit=N))
        cases = {v.case.id: v.case for v in views if v.case.id in ids}
        if all(c.status in final for c in cases.values()) or time.monotonic() > deadline:
            return cases
        clock.advance(seconds=3600)
        time.sleep(0.3)  # the simulators settle PROCESSING refunds and send callbacks in real time


def check_books(cases: dict[str, refunds.RefundCase], ledger: list[dict[str, object]], moved_key: str) -> None:
    """``ledger`` rows name our refund number in ``refund_no`` (the card test translates the host's rows first).
    An unknown case is allowed whatever the ledger says: no enquiry may settle it, the settlement file will."""
    final = {S.SUCCEEDED, S.FAILED, S.CLOSED, S.ABNORMAL, S.UNKNOWN}
    stuck = {c.refund_no: c.status.value for c in cases.values() if c.status not in final}
    assert stuck == {}
    numbers = [str(e["refund_no"]) for e in ledger if e[moved_key]]
    assert len(numbers) == len(set(numbers)), "a refund number executed twice"
    moved = {str(e["refund_no"]) for e in ledger if e[moved_key]}
    ours = {c.refund_no: c for c in cases.values()}
    assert moved <= set(ours)
    for number in moved:
        assert ours[number].status in (S.SUCCEEDED, S.ABNORMAL, S.UNKNOWN), (number, ours[number].status)
    succeeded = {n for n, c in ours.items() if c.status is S.SUCCEEDED}
    assert succeeded <= moved, "posrefund believes in money the channel never moved"
    assert sum(c.status is S.SUCCEEDED for c in cases.values()) > N // 2


def test_wechat_exactly_once_under_faults(
    deps: Deps, world: World, faulty: channels.Simulated, clock: FixedClock
) -> None:
    ids = []
    for _ in range(N):
        sale = new_sale(deps, world.a, channel="wechat", amount_fen=10_000)
        ids.append(refunds.request_refund(deps, world.a.actors["cashier"], RefundRequest(sale.id, 6_000, "other")).id)
    cases = run_until_settled(deps, faulty, world, clock, ids)
    ledger = faulty.simulators["wechat"].ledger()
    # WeChat's ABNORMAL: the money left the merchant but is stuck — a person decides, so abnormal is right.
    check_books(cases, ledger, "paid_out")
    by_no = {str(e["refund_no"]): e for e in ledger}
    for c in cases.values():
        if c.status is S.ABNORMAL:
            assert by_no[c.refund_no]["status"] == "ABNORMAL"
    totals = [sales.get_sale(deps, world.a.actors["cashier"], c.sale_id) for c in cases.values()]
    assert all(s.refunded_fen + s.reserved_fen <= s.amount_fen for s in totals)
    assert sum(s.refunded_fen for s in totals) == 6_000 * sum(c.status is S.SUCCEEDED for c in cases.values())


def test_card_exactly_once_under_faults(
    deps: Deps, world: World, faulty: channels.Simulated, clock: FixedClock
) -> None:
    ids, sale_ids = [], []
    for i in range(N):
        sale = new_sale(
            deps,
            world.a,
            channel="card",
            amount_fen=10_000,
            payer_masked="622202******1234",
            settlement_status="settled",
            rrn=f"{900000 + i:012d}",
            voucher_no=f"{i + 1:06d}",
            batch_no="000003",
            auth_code="A1B2C3",
        )
        sale_ids.append(sale.id)
        ids.append(refunds.request_refund(deps, world.a.actors["cashier"], RefundRequest(sale.id, 6_000, "other")).id)
    cases = run_until_settled(deps, faulty, world, clock, ids)
    # The host keys its rows by terminal:batch:trace and never sees our number: each sale here has its own RRN.
    ours = {c.sale_id: c.refund_no for c in cases.values()}
    number_of_rrn = {f"{900000 + i:012d}": ours[sale_id] for i, sale_id in enumerate(sale_ids)}
    rows = [e | {"refund_no": number_of_rrn[str(e["original_rrn"])]} for e in faulty.simulators["card"].ledger()]
    check_books(cases, rows, "executed")


def test_alipay_exactly_once_under_faults(
    deps: Deps, world: World, faulty: channels.Simulated, clock: FixedClock
) -> None:
    ids = []
    for _ in range(N):
        sale = new_sale(deps, world.a, channel="alipay", amount_fen=10_000, payer_masked="138****1234")
        ids.append(refunds.request_refund(deps, world.a.actors["cashier"], RefundRequest(sale.id, 6_000, "other")).id)
    cases = run_until_settled(deps, faulty, world, clock, ids)
    check_books(cases, faulty.simulators["alipay"].ledger(), "executed")
