"""bootstrap.build_router (and the demo's simulated channels) put the Alipay freeze adapter in ``Router.holds`` when the channels file configures
``[alipay]`` (public-key and certificate mode): the worker's hold round and POST /v1/holds/alipay then reach it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from posrefund.adapters.channels.alipay.fund_auth import AlipayFundAuthChannel
from posrefund.demo import channels
from posrefund.domain.channel import Outcome
from posrefund.domain.fund_hold import AUTH_NO, HeldFunds, HoldOrder, HoldStep
from tests.integration.test_alipay_config import Configured, alipay
from tests.support.alipay_holds import PAYER_CODE

__all__ = ["alipay"]


def test_the_configured_alipay_section_gives_the_hold_channel(alipay: Configured) -> None:
    channel = alipay.router.holds["alipay"]
    assert isinstance(channel, AlipayFundAuthChannel)
    now = datetime.now(UTC)
    held = HeldFunds("alipay", "HFCONFIG0001", 5_000, "CNY", now, now + timedelta(days=30))
    answer = channel.execute(HoldOrder("HOCONFIG0001", HoldStep.HOLD, 5_000, "CNY", held, payer_code=PAYER_CODE))
    assert answer.outcome is Outcome.SUCCEEDED and answer.details[AUTH_NO] != ""
    assert [(r["operation"], r["amount_fen"], r["executions"]) for r in alipay.sim.fund_auth.ledger()] == [
        ("FREEZE", 5_000, 1)
    ]


def test_the_demo_freezes_on_its_in_process_alipay_simulator() -> None:
    simulated = channels.start("http://127.0.0.1:9", timeout=2.0)
    with simulated.stack:
        channel = simulated.router.holds["alipay"]
        now = datetime.now(UTC)
        held = HeldFunds("alipay", "HFDEMO0001", 2_000, "CNY", now, now + timedelta(days=30))
        answer = channel.execute(HoldOrder("HODEMO0001", HoldStep.HOLD, 2_000, "CNY", held, payer_code=PAYER_CODE))
        assert answer.outcome is Outcome.SUCCEEDED
        assert [h["rest_fen"] for h in simulated.simulators["alipay"].fund_auth.holds()] == [2_000]
