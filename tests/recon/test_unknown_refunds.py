"""A card 退货 whose answer the acquirer can no longer give becomes ``unknown``: the sweep never picks it, and only
the acquirer's settlement file (a complete reconciliation run) or a person with a reason settles it. A fake
channel at the edge answers UNRESOLVED; the database is real (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.settlement.model import BadLine, SettlementLine
from posrefund.domain.errors import Conflict
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.service import execution, reconciliation, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.conftest import FixedClock, World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale

S = RefundStatus
FRIDAY, MONDAY = date(2026, 11, 20), date(2026, 11, 23)  # the refund's business day and the next one
CAL = ChineseCalendar()


@pytest.fixture
def fake() -> FakeChannel:
    return FakeChannel(name="card")


@pytest.fixture
def router(fake: FakeChannel) -> Router:
    return Router(channels={"card": fake}, is_workday=CAL.is_workday)


def unknown_refund(deps: Deps, world: World, router: Router, fake: FakeChannel) -> RefundCase:
    sale = new_sale(deps, world.a, channel="card", payer_masked="6222****1234")
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=3_000, reason="customer_cancelled")
    )
    assert case.status is S.APPROVED
    fake.script[case.refund_no] = ["unresolved"]
    assert execution.sweep(deps, router) == 1
    return state(deps, world, case.id)


def state(deps: Deps, world: World, case_id: str) -> RefundCase:
    return refunds.get_case(deps, world.a.actors["auditor"], case_id).case


def reserved(deps: Deps, world: World, sale_id: str) -> tuple[int, int]:
    sale = sales.get_sale(deps, world.a.actors["cashier"], sale_id)
    return sale.refunded_fen, sale.reserved_fen


def refund_line(deps: Deps, world: World, case: RefundCase, day: date, line_no: int = 1) -> SettlementLine:
    sale = sales.get_sale(deps, world.a.actors["cashier"], case.sale_id)
    # The acquirer quotes the original sale's reference on the refund line; its own voucher no. is new.
    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=3)
    line = replace(other_line(day, line_no), terminal_no="MA01", amount_fen=case.amount_fen, rrn=sale.rrn)
    return replace(line, occurred_at=at, voucher_no="900001", raw_hash=f"h-{day}-{line_no}")


def other_line(day: date, line_no: int = 1) -> SettlementLine:
    """A refund line of another terminal: the file has lines that day, none of them this refund's."""
    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=4)
    return SettlementLine(
        "card", "refund", line_no, at, 777, 0, "CNY", "M1", "X99", "1", "R1", "", "", "", "", "SUCCESS", "", f"o-{day}"
    )


def our_sale_line(deps: Deps, world: World, case: RefundCase, day: date, line_no: int = 9) -> SettlementLine:
    """The original sale's own line: what shows a file is this merchant's (a foreign file has none of ours)."""
    sale = sales.get_sale(deps, world.a.actors["cashier"], case.sale_id)
    line = replace(other_line(day, line_no), kind="sale", terminal_no="MA01", amount_fen=sale.amount_fen)
    return replace(line, rrn=sale.rrn, voucher_no=sale.voucher_no, raw_hash=f"s-{day}-{line_no}")


def run_file(deps: Deps, world: World, day: date, lines: list[object]) -> dict[str, object]:
    finance = world.a.actors["finance"]
    reconciliation.import_file(
        deps,
        finance,
        source="card",
        filename=f"acquirer-{day}.csv",
        fingerprint=f"fp-{day}-{len(lines)}-{id(lines)}",
        size=100,
        lines=lines,
    )
    return reconciliation.reconcile(deps, finance, source="card", date_from=day, date_to=day, is_workday=CAL.is_workday)


def test_unresolved_answer_makes_the_case_unknown_and_the_sweep_never_picks_it(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = unknown_refund(deps, world, router, fake)
    assert (case.status, case.next_check_at) == (S.UNKNOWN, None)
    assert reserved(deps, world, case.sale_id) == (0, 3_000)
    calls = list(fake.calls)
    for _ in range(4):
        clock.advance(days=1)
        assert execution.sweep(deps, router) == 0
    assert fake.calls == calls == [("submit", case.refund_no)]
    assert state(deps, world, case.id).status is S.UNKNOWN


def test_the_settlement_line_makes_it_succeeded(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = unknown_refund(deps, world, router, fake)
    clock.advance(days=1)
    run = run_file(deps, world, FRIDAY, [other_line(FRIDAY), refund_line(deps, world, case, FRIDAY, line_no=2)])
    done = state(deps, world, case.id)
    assert done.status is S.SUCCEEDED
    assert reserved(deps, world, case.sale_id) == (3_000, 0)
    totals = run["totals"]
    assert isinstance(totals, dict)
    assert (totals["complete"], totals["unknown_succeeded"], totals["unknown_failed"]) == (True, 1, 0)
    event = refunds.case_events(deps, world.a.actors["auditor"], case.id)[-1]
    assert (event["action"], event["before"], event["after"], event["actor_id"]) == (
        "refund.settled_by_file",
        "unknown",
        "succeeded",
        world.a.actors["finance"].id,
    )
    assert event["reason"] == f"acquirer settlement file acquirer-{FRIDAY}.csv line 2: refund settled"
    data = json.loads(event["data"])
    assert (data["source"], data["line_no"], data["run_id"]) == ("reconciliation", 2, run["id"])
    again = reconciliation.reconcile(
        deps, world.a.actors["finance"], source="card", date_from=FRIDAY, date_to=FRIDAY, is_workday=CAL.is_workday
    )
    assert again["totals"] == totals  # a rerun closes nothing more and keeps the count


def test_absent_from_both_business_days_makes_it_failed_and_releases_the_reservation(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = unknown_refund(deps, world, router, fake)
    clock.advance(days=4)
    first = run_file(deps, world, FRIDAY, [other_line(FRIDAY), our_sale_line(deps, world, case, FRIDAY)])
    assert state(deps, world, case.id).status is S.UNKNOWN  # only the first day: not yet
    assert reserved(deps, world, case.sale_id) == (0, 3_000)
    assert first["totals"]["unknown_failed"] == 0  # type: ignore[index]
    second = run_file(deps, world, MONDAY, [other_line(MONDAY), our_sale_line(deps, world, case, MONDAY)])
    failed = state(deps, world, case.id)
    assert (failed.status, failed.last_code) == (S.FAILED, "NOT_IN_SETTLEMENT")
    assert reserved(deps, world, case.sale_id) == (0, 0)
    assert second["totals"]["unknown_failed"] == 1  # type: ignore[index]
    event = refunds.case_events(deps, world.a.actors["auditor"], case.id)[-1]
    assert (event["action"], event["before"], event["after"]) == ("refund.settled_by_file", "unknown", "failed")
    with pytest.raises(Conflict) as err:
        execution.retry(deps, world.a.actors["supervisor"], case.id, "try again")
    assert err.value.code == "refund.reservation_released"


def test_only_the_first_day_reconciled_keeps_it_unknown(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = unknown_refund(deps, world, router, fake)
    clock.advance(days=4)
    run_file(deps, world, FRIDAY, [other_line(FRIDAY)])
    assert state(deps, world, case.id).status is S.UNKNOWN
    assert reserved(deps, world, case.sale_id) == (0, 3_000)


def test_an_incomplete_run_closes_nothing(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = unknown_refund(deps, world, router, fake)
    clock.advance(days=4)
    bad = BadLine(3, "unreadable amount", "...")
    run = run_file(deps, world, FRIDAY, [other_line(FRIDAY), refund_line(deps, world, case, FRIDAY, 2), bad])
    assert state(deps, world, case.id).status is S.UNKNOWN
    assert (run["totals"]["complete"], run["totals"]["unknown_succeeded"]) == (False, 0)  # type: ignore[index]
    run_file(deps, world, FRIDAY, [other_line(FRIDAY)])  # complete now, but both days are not yet reconciled
    run_file(deps, world, MONDAY, [other_line(MONDAY), bad])
    assert state(deps, world, case.id).status is S.UNKNOWN  # Monday's file lost a line: not proof of absence


def test_a_line_of_another_amount_or_terminal_is_not_this_refund(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = unknown_refund(deps, world, router, fake)
    clock.advance(days=1)
    line = refund_line(deps, world, case, FRIDAY)
    run_file(deps, world, FRIDAY, [replace(line, amount_fen=2_999), replace(line, line_no=2, terminal_no="X99")])
    assert state(deps, world, case.id).status is S.UNKNOWN


def test_a_person_resolves_it_with_a_reason(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = unknown_refund(deps, world, router, fake)
    supervisor = world.a.actors["supervisor"]
    with pytest.raises(Conflict):
        execution.resolve(deps, supervisor, case.id, "processing", "ask again")
    done = execution.resolve(deps, supervisor, case.id, "succeeded", "acquirer hotline confirmed the refund")
    assert done.status is S.SUCCEEDED
    assert reserved(deps, world, case.sale_id) == (3_000, 0)
    event = refunds.case_events(deps, world.a.actors["auditor"], case.id)[-1]
    assert (event["action"], event["actor_id"], event["reason"], event["before"], event["after"]) == (
        "refund.resolved",
        supervisor.id,
        "acquirer hotline confirmed the refund",
        "unknown",
        "succeeded",
    )
    assert json.loads(event["data"]) == {"source": "person"}


def test_two_unknown_refunds_of_one_sale_take_one_line_each(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    first = unknown_refund(deps, world, router, fake)
    second = refunds.request_refund(
        deps,
        world.a.actors["cashier"],
        RefundRequest(sale_id=first.sale_id, amount_fen=3_000, reason="customer_cancelled"),
    )
    fake.script[second.refund_no] = ["unresolved"]
    clock.advance(seconds=61)  # the acquirer's gap between refunds of one sale
    execution.sweep(deps, router)
    assert state(deps, world, second.id).status is S.UNKNOWN
    clock.advance(days=4)
    one = refund_line(deps, world, first, FRIDAY, 1)
    run_file(deps, world, FRIDAY, [one])
    assert sorted(state(deps, world, c.id).status.value for c in (first, second)) == ["succeeded", "unknown"]
    run_file(deps, world, MONDAY, [other_line(MONDAY)])
    # A line that could be the second's (same terminal, amount, original RRN) exists: no proof of absence.
    assert state(deps, world, second.id).status is S.UNKNOWN
    run_file(deps, world, FRIDAY, [one, replace(one, line_no=2, raw_hash="h2", voucher_no="900002")])
    assert [state(deps, world, c.id).status for c in (first, second)] == [S.SUCCEEDED, S.SUCCEEDED]
    assert reserved(deps, world, first.sale_id) == (6_000, 0)


# No false closing: a "failed" from files that are not this merchant's would give the reservation back while the
# money may have moved, and a retry would pay twice. Both days are reconciled with complete files holding no line
# of the refund, yet they prove nothing absent.


def test_files_with_none_of_our_sales_fail_nothing(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = unknown_refund(deps, world, router, fake)
    clock.advance(days=4)
    run_file(deps, world, FRIDAY, [other_line(FRIDAY)])
    run = run_file(deps, world, MONDAY, [other_line(MONDAY)])
    assert state(deps, world, case.id).status is S.UNKNOWN
    assert reserved(deps, world, case.sale_id) == (0, 3_000)
    assert run["totals"]["unknown_failed"] == 0  # type: ignore[index]


def test_files_mixing_another_acquirer_merchants_lines_fail_nothing(
    deps: Deps, world: World, router: Router, fake: FakeChannel, clock: FixedClock
) -> None:
    case = unknown_refund(deps, world, router, fake)
    clock.advance(days=4)
    foreign = replace(other_line(MONDAY, 2), merchant_no="898310058129999", raw_hash="foreign")
    run_file(deps, world, FRIDAY, [other_line(FRIDAY), our_sale_line(deps, world, case, FRIDAY)])
    run_file(deps, world, MONDAY, [our_sale_line(deps, world, case, MONDAY), foreign])
    assert state(deps, world, case.id).status is S.UNKNOWN
    assert reserved(deps, world, case.sale_id) == (0, 3_000)
