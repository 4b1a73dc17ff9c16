"""Completed holds in the channels' settlement files (SQLite and PostgreSQL): the holds are completed
through the service, the worker and the acquirer simulator; the file's lines are the host's own books.

- a 预授权完成 line matches the sale our completion became (no finding);
- a cancelled completion's two lines (预授权完成 and 预授权完成撤销) match the voided sale and the cancel;
- a completion the host executed whose answer we never had (unresolved) is ``completion_missing_here``, not a
  plain ``missing_here``;
- a completion of ours the file does not list is ``completion_missing_at_channel``, not ``missing_at_channel``;
- the same for Alipay conversions of a freeze (the trade paid with ``auth_no``), on the Alipay simulator, by the
  bill's 商户订单号 (our conversion's number).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import Engine

from posrefund.adapters.channels.acquirer.holds import CardHoldChannel
from posrefund.adapters.settlement.model import SettlementLine
from posrefund.domain.fund_hold import HoldStep
from posrefund.ports.fund_holds import HoldRecord, OperationStatus
from posrefund.service import fund_holds, reconciliation
from posrefund.service.deps import Deps
from posrefund.service.fund_holds import AlipayHoldInput, HoldWorker
from posrefund.simulators.acquirer.ledger import COMPLETION_VOID, COMPLETIONS, SHANGHAI
from tests.conftest import FixedClock, World
from tests.support.alipay_holds import PAYER_CODE, Alipay, alipay_line
from tests.support.card_holds import Card, card_host


@pytest.fixture
def card(engine: Engine, clock: FixedClock) -> Iterator[Card]:
    with card_host(engine, clock) as running:
        yield running


def completed(deps: Deps, world: World, card: Card, amount_fen: int, worker: HoldWorker) -> HoldRecord:
    hold = fund_holds.record_card_hold(deps, world.a.actors["terminal"], card.slip(world, amount_fen))
    fund_holds.ask(deps, world.a.actors["cashier"], hold.id, HoldStep.COMPLETE, amount_fen)
    assert fund_holds.sweep_holds(deps, worker) == 1
    return fund_holds.get_hold(deps, world.a.actors["auditor"], hold.id)[0]


def file_lines(card: Card, leave_out: set[str]) -> list[SettlementLine]:
    """The host's completions and completion cancels as the acquirer's file lists them (terminal MA01: the
    terminal's number as the merchant's books know it), but those whose RRN is in ``leave_out``."""
    book = card.sim.book
    rows = [
        (e, "sale" if e.kind in COMPLETIONS else "void")
        for e in book.live()
        if e.kind in {*COMPLETIONS, COMPLETION_VOID}
    ]
    lines = []
    for n, (e, kind) in enumerate(rows, start=1):
        if e.rrn in leave_out:
            continue
        at: datetime = e.executed_at
        lines.append(
            SettlementLine(
                "card",
                kind,
                n,
                at,
                e.amount_fen,
                0,
                "CNY",
                e.merchant_no,
                "MA01",
                e.trace_no,
                e.rrn,
                "",
                "",
                "",
                "",
                "",
                "",
                f"hold-{n}-{e.rrn}",
                batch_no=e.batch_no,
                auth_code=e.auth_code,
            )
        )
    return lines


def test_completions_are_matched_and_the_missing_ones_classed_as_completions(
    deps: Deps, world: World, card: Card, clock: FixedClock
) -> None:
    matched = completed(deps, world, card, 8_000, card.worker)
    cancelled = completed(deps, world, card, 7_000, card.worker)
    fund_holds.ask(deps, world.a.actors["supervisor"], cancelled.id, HoldStep.CANCEL_COMPLETION, 0)
    assert fund_holds.sweep_holds(deps, card.worker) == 1
    left_out = completed(deps, world, card, 6_000, card.worker)
    by_notice = HoldWorker({"card": CardHoldChannel(card.card, completion_by_notice=True)}, worker="test-worker")
    unheard = fund_holds.record_card_hold(deps, world.a.actors["terminal"], card.slip(world, 5_000))
    card.sim.set_fault(f"{unheard.held.rrn}:5000", "no_answer_after_accept")  # executed, the answer lost
    card.card.resends = 0
    fund_holds.ask(deps, world.a.actors["cashier"], unheard.id, HoldStep.COMPLETE, 5_000)
    assert fund_holds.sweep_holds(deps, by_notice) == 1
    [op] = fund_holds.get_hold(deps, world.a.actors["auditor"], unheard.id)[1]
    assert op.status is OperationStatus.UNRESOLVED
    assert left_out.status.completion is not None and matched.status.completion is not None

    finance = world.a.actors["finance"]
    day = clock.now().astimezone(SHANGHAI).date()
    lines = file_lines(card, leave_out={left_out.status.completion.rrn})
    reconciliation.import_file(
        deps, finance, source="card", filename="acquirer.csv", fingerprint="fp-holds", size=100, lines=lines
    )
    run = reconciliation.reconcile(deps, finance, source="card", date_from=day, date_to=day)

    rows = reconciliation.export_discrepancies(deps, finance, run["id"])
    found = sorted((d["class"], d["sale_id"], d["theirs_fen"], d["ours_status"]) for d in rows)
    assert found == [
        ("completion_missing_at_channel", left_out.sale_id, None, "recorded"),  # ours, not in the file
        ("completion_missing_here", "", 5_000, "unresolved"),  # the host's, never answered to us
    ]
    assert matched.status.completion.rrn in {line.rrn for line in lines}
    totals = run["totals"]
    assert isinstance(totals, dict) and totals["matched_sales"] == 2  # the completion and the cancelled one


@pytest.fixture
def alipay(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> Iterator[Alipay]:
    app = SimpleNamespace(state=SimpleNamespace(ctx=SimpleNamespace()))  # the line's router goes nowhere here
    with alipay_line(cast(Any, app), deps, monkeypatch) as line:
        yield line


def converted(deps: Deps, world: World, alipay: Alipay, amount_fen: int, fault: str = "") -> str:
    """A freeze of 100 yuan, part of it converted (alipay.trade.pay with auth_no); the conversion's number."""
    until = deps.clock.now() + timedelta(days=30)
    asked = AlipayHoldInput(world.a.terminal_id, 10_000, PAYER_CODE, "房间押金", until)
    hold = fund_holds.record_alipay_hold(deps, world.a.actors["cashier"], alipay.worker, asked)
    number = alipay.next_number()
    if fault:
        alipay.sim.fund_auth.set_fault(number, fault)
    fund_holds.ask(deps, world.a.actors["cashier"], hold.id, HoldStep.COMPLETE, amount_fen)
    assert fund_holds.sweep_holds(deps, alipay.worker) == 1
    return number


def test_alipay_conversions_are_matched_and_the_missing_ones_classed_as_completions(
    deps: Deps, world: World, clock: FixedClock, alipay: Alipay
) -> None:
    clock.advance(seconds=(datetime.now(UTC) - clock.now()).total_seconds())  # the simulated Alipay's own clock
    matched = converted(deps, world, alipay, 4_000)
    unheard = converted(deps, world, alipay, 3_000, fault="no_answer_after_accept")  # paid, the answer lost
    left_out = converted(deps, world, alipay, 2_000)
    paid = [r for r in alipay.sim.fund_auth.ledger() if r["operation"] == "PAY" and r["refund_no"] != left_out]
    paid_at = clock.now()
    lines = [
        SettlementLine(
            "alipay",
            "sale",
            n,
            clock.now(),
            r["amount_fen"],
            0,
            "CNY",
            "",
            "",
            "",
            "",
            str(r["trade_no"]),
            str(r["refund_no"]),
            "",
            "",
            "",
            "",
            f"pay-{n}",
        )
        for n, r in enumerate(paid, start=1)
    ]
    finance = world.a.actors["finance"]
    day = paid_at.astimezone(SHANGHAI).date()
    reconciliation.import_file(
        deps, finance, source="alipay", filename="alipay.csv", fingerprint="fp-pay", size=100, lines=lines
    )
    run = reconciliation.reconcile(deps, finance, source="alipay", date_from=day, date_to=day)

    rows = reconciliation.export_discrepancies(deps, finance, run["id"])
    found = sorted((d["class"], d["theirs_fen"] or d["ours_fen"], d["ours_status"]) for d in rows)
    assert found == [
        ("completion_missing_at_channel", 2_000, "recorded"),  # our conversion, not in Alipay's bill
        ("completion_missing_here", 3_000, "processing"),  # Alipay's, whose answer we are still waiting for
    ]
    assert {line.merchant_order_no for line in lines} == {matched, unheard}
    totals = run["totals"]
    assert isinstance(totals, dict) and totals["matched_sales"] == 1
