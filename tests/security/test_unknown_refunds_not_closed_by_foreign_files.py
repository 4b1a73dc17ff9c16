"""No false closing of a card refund of unknown outcome: a "failed" from files that are not this merchant's would
give the reservation back while the money may have moved, and a retry would pay twice. Each probe reconciles the
refund's business day and the next with complete files that hold no line of it, yet are not proof of absence."""

from __future__ import annotations

from dataclasses import replace

import pytest

from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.conftest import FixedClock, World
from tests.recon.test_unknown_refunds import (
    CAL,
    FRIDAY,
    MONDAY,
    S,
    other_line,
    our_sale_line,
    reserved,
    run_file,
    state,
    unknown_refund,
)
from tests.support.fakes import FakeChannel


@pytest.fixture
def fake() -> FakeChannel:
    return FakeChannel(name="card")


@pytest.fixture
def router(fake: FakeChannel) -> Router:
    return Router(channels={"card": fake}, is_workday=CAL.is_workday)


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
