"""The case page lists the case's attempts on its channel, a late answer from a worker that lost the case
marked as not applied."""

from __future__ import annotations

from datetime import timedelta

import pytest

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.domain.channel import ChannelAnswer, Outcome
from posrefund.ports import StaleFence
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale


def test_the_case_page_shows_each_attempt_and_a_stale_answer_as_not_applied(
    deps: Deps, world: World, as_user: object
) -> None:
    fake = FakeChannel()
    router = Router(channels={"wechat": fake}, is_workday=ChineseCalendar().is_workday, lease_margin=timedelta(0))
    sale = new_sale(deps, world.a)
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=500, reason="other")
    )

    def stall(kind: str, _order: object) -> None:
        raise KeyboardInterrupt("worker A stalls mid-call")

    fake.on_call = stall
    with pytest.raises(KeyboardInterrupt):
        execution.sweep(deps, router)  # fence 1, its answer never recorded
    fake.on_call = None
    answer = ChannelAnswer(Outcome.DECLINED, code="LATE")
    deps.clock.advance(seconds=61)  # type: ignore[attr-defined]
    execution.sweep(deps, router)  # fence 2: a worker still holding fence 1 is now stale
    with pytest.raises(StaleFence):
        execution.record_answer(deps, router, case.merchant_id, case.id, answer, "submit", fence=1)
    page = as_user("a.auditor").get(f"/console/cases/{case.id}")  # type: ignore[operator]
    assert page.status_code == 200
    assert "渠道发送记录" in page.text and "迟到答复，未采用" in page.text and "LATE" in page.text
    assert page.text.count('<td class="num">1</td><td class="num">') == 2  # attempt 1 under fences 1 and 2
