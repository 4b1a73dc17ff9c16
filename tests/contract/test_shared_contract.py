"""One contract, every adapter: the same refund orders and the same faults sent to the acquirer (ISO 8583),
WeChat Pay and Alipay adapters, each against its protocol simulator, must end in the same outcomes."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from posrefund.demo import channels
from posrefund.domain.channel import ChannelAnswer, Method, OriginalSale, Outcome, RefundOrder
from posrefund.ports import PaymentChannel

CHANNELS = ["card", "wechat", "alipay"]
_n = itertools.count(1)


@pytest.fixture(scope="module")
def sims() -> Iterator[channels.Simulated]:
    s = channels.start("http://127.0.0.1:9", timeout=0.5)  # no callbacks needed: queries settle every case
    yield s
    s.close()


def order(channel: str, amount: int = 3_000, total: int = 10_000) -> RefundOrder:
    n = next(_n)
    sale = OriginalSale(
        channel=channel,
        order_no=f"CT{n:08d}",
        amount_fen=total,
        currency="CNY",
        paid_at=datetime.now(UTC) - timedelta(days=2),
        rrn=f"{700000 + n:012d}",
        auth_code="AB12CD",
        voucher_no=f"{n % 999999:06d}",
        batch_no="000042",
        terminal_no="T0000001",
        settled=True,
    )
    return RefundOrder(
        refund_no=f"RFCT{n:06d}X{channel[:2].upper()}",
        amount_fen=amount,
        currency="CNY",
        reason="other",
        method=Method.REFUND,
        sale=sale,
    )


def host_key(channel: str, o: RefundOrder) -> str:
    """How the counterpart names this refund: wallets by our refund number; the acquirer host never sees it and
    knows a refund by the original RRN and the amount (its ledger rows name the terminal, batch and trace)."""
    return f"{o.sale.rrn}:{o.amount_fen}" if channel == "card" else o.refund_no


def inject(sims: channels.Simulated, channel: str, o: RefundOrder, fault: str, applied: bool = True) -> None:
    name = {"system_error": "system_error", "no_answer": "no_answer_after_accept", "decline": "decline"}[fault]
    sims.simulators[channel].set_fault(host_key(channel, o), name, applied=applied if fault == "system_error" else None)


def settle(adapter: PaymentChannel, o: RefundOrder, first: ChannelAnswer) -> ChannelAnswer:
    """Ask until the channel says something final, as the worker would."""
    answer = first
    deadline = time.monotonic() + 8
    while answer.outcome in (Outcome.ACCEPTED, Outcome.UNKNOWN) and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = adapter.query(o)
        if answer.outcome is Outcome.NOT_FOUND:
            answer = adapter.submit(o)
    return answer


def executed(sims: channels.Simulated, channel: str, o: RefundOrder) -> int:
    if channel == "card":
        rows = [e for e in sims.simulators[channel].ledger() if e["original_rrn"] == o.sale.rrn]
        return sum(1 for e in rows if e["executed"])
    rows = [e for e in sims.simulators[channel].ledger() if e["refund_no"] == o.refund_no]
    assert len(rows) <= 1
    key = "paid_out" if channel == "wechat" else "executed"
    return sum(1 for e in rows if e[key])


Scenario = Callable[[channels.Simulated, str, PaymentChannel], None]


def success(sims: channels.Simulated, ch: str, adapter: PaymentChannel) -> None:
    o = order(ch)
    assert settle(adapter, o, adapter.submit(o)).outcome is Outcome.SUCCEEDED
    assert executed(sims, ch, o) == 1


def resubmit(sims: channels.Simulated, ch: str, adapter: PaymentChannel) -> None:
    o = order(ch)
    first, second = adapter.submit(o), adapter.submit(o)
    # Alipay answers a repeat fund_change=N ("no money moved in this call"): UNKNOWN until queried.
    assert {first.outcome, second.outcome} <= {Outcome.SUCCEEDED, Outcome.ACCEPTED, Outcome.UNKNOWN}
    assert settle(adapter, o, second).outcome is Outcome.SUCCEEDED
    assert executed(sims, ch, o) == 1


def unknown_number(sims: channels.Simulated, ch: str, adapter: PaymentChannel) -> None:
    o = order(ch)
    adapter.submit(order(ch))  # the channel knows the original sale through another refund's registration
    assert adapter.query(o).outcome is Outcome.NOT_FOUND


def over_refund(sims: channels.Simulated, ch: str, adapter: PaymentChannel) -> None:
    o = order(ch, amount=10_001)
    assert adapter.submit(o).outcome is Outcome.DECLINED
    assert executed(sims, ch, o) == 0


def no_answer_after_accept(sims: channels.Simulated, ch: str, adapter: PaymentChannel) -> None:
    o = order(ch)
    inject(sims, ch, o, "no_answer")
    first = adapter.submit(o)
    # The terminal resends a 退货 with the same trace within the call, and the host repeats its first answer.
    assert first.outcome is (Outcome.SUCCEEDED if ch == "card" else Outcome.UNKNOWN)
    assert settle(adapter, o, first).outcome is Outcome.SUCCEEDED
    assert executed(sims, ch, o) == 1


def system_error_with_effect(sims: channels.Simulated, ch: str, adapter: PaymentChannel) -> None:
    o = order(ch)
    inject(sims, ch, o, "system_error", applied=True)
    first = adapter.submit(o)
    if ch == "card":  # the host answered 96: a 退货 has no enquiry, so the settlement file or a person decides
        assert first.outcome is Outcome.UNRESOLVED
        assert adapter.query(o).outcome is Outcome.UNRESOLVED
        assert executed(sims, ch, o) == 0
        return
    assert first.outcome is Outcome.UNKNOWN
    assert settle(adapter, o, first).outcome is Outcome.SUCCEEDED
    assert executed(sims, ch, o) == 1


def system_error_without_effect(sims: channels.Simulated, ch: str, adapter: PaymentChannel) -> None:
    o = order(ch)
    inject(sims, ch, o, "system_error", applied=False)
    first = adapter.submit(o)
    if ch == "card":  # the host answered 96: a 退货 has no enquiry, so the settlement file or a person decides
        assert first.outcome is Outcome.UNRESOLVED
        assert adapter.query(o).outcome is Outcome.UNRESOLVED
        assert executed(sims, ch, o) == 0
        return
    assert first.outcome is Outcome.UNKNOWN
    assert settle(adapter, o, first).outcome is Outcome.SUCCEEDED  # query: not found → sent again, same number
    assert executed(sims, ch, o) == 1


def decline(sims: channels.Simulated, ch: str, adapter: PaymentChannel) -> None:
    o = order(ch)
    inject(sims, ch, o, "decline")
    answer = adapter.submit(o)
    assert answer.outcome is Outcome.DECLINED and answer.code
    assert executed(sims, ch, o) == 0


SCENARIOS: list[Scenario] = [
    success,
    resubmit,
    unknown_number,
    over_refund,
    no_answer_after_accept,
    system_error_with_effect,
    system_error_without_effect,
    decline,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("channel", CHANNELS)
def test_same_inputs_same_outcomes(channel: str, scenario: Scenario, sims: channels.Simulated) -> None:
    adapter = sims.router.channels[channel]
    scenario(sims, channel, adapter)
