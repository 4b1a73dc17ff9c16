"""Card pre-authorisations: the terminal adapter (``CardHoldChannel``) against the acquirer host simulator over real
sockets. The wire is checked field by field against the POS terminal's transaction table worked out by hand
(docs/holds.md); the behaviour against the scheme's rules; and every lost answer ends with the operation executed
exactly once, as the host counts it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from posrefund.adapters.channels.acquirer import messages
from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.adapters.channels.acquirer.holds import CardHoldChannel
from posrefund.adapters.channels.acquirer.journal import SqlTerminalJournal
from posrefund.adapters.channels.acquirer.settings import CardSettingsError, card_holds_from
from posrefund.adapters.channels.acquirer.transport import Link
from posrefund.domain.channel import REFUNDED_FEN, Method, OriginalSale, Outcome, RefundOrder
from posrefund.domain.fund_hold import (
    CARD_COMPLETION_TOLERANCE_BP,
    CARD_HOLD_VALIDITY,
    REST_FEN,
    TRADE_NO,
    CompletionRef,
    HeldFunds,
    HoldOrder,
    HoldStep,
)
from posrefund.ports.fund_holds import FundHoldChannel
from posrefund.ports.terminal import TerminalNumbers
from posrefund.simulators.acquirer.server import AcquirerSimulator

TMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
TERMINAL = messages.Terminal("T0000009", "898310048990009")
_numbers = itertools.count(1)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 12, 3, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Wire:
    sim: AcquirerSimulator
    clock: Clock
    card: CardAcquirerChannel
    holds: CardHoldChannel

    def with_notice(self) -> CardHoldChannel:
        return CardHoldChannel(self.card, completion_by_notice=True)


@pytest.fixture
def wire() -> Iterator[Wire]:
    clock = Clock()
    sim = AcquirerSimulator(TMK, clock=clock)
    host, port = sim.start()
    try:
        link = Link(host, port, destination=b"\x00\x06", source=b"\x00\x00", timeout=0.5)
        card = CardAcquirerChannel(link, TMK, TERMINAL, SqlTerminalJournal.in_temporary_file())
        holds = CardHoldChannel(card)
        as_port: FundHoldChannel = holds  # mypy checks the adapter keeps the port's contract
        assert as_port.name == "card"
        yield Wire(sim, clock, card, holds)
    finally:
        sim.stop()


def preauthorise(wire: Wire, amount_fen: int = 10_000) -> HeldFunds:
    """The terminal's 预授权 (0100 03), and the hold as posrefund records it from the answer."""
    answer = wire.holds.authorise(f"PA{next(_numbers):06d}", amount_fen)
    assert answer.outcome is Outcome.SUCCEEDED, answer
    assert answer.succeeded_at is not None
    return HeldFunds(
        channel="card",
        hold_no=f"PA{answer.details['stan']}",
        amount_fen=amount_fen,
        currency="CNY",
        held_at=answer.succeeded_at,
        expires_at=answer.succeeded_at + CARD_HOLD_VALIDITY,
        tolerance_bp=CARD_COMPLETION_TOLERANCE_BP,
        auth_code=answer.details["auth_code"],
        rrn=answer.channel_refund_id,
        voucher_no=answer.details["stan"],
        batch_no=answer.details["batch_no"],
        terminal_no=TERMINAL.terminal_id,
        merchant_no=TERMINAL.merchant_id,
    )


def ask(step: HoldStep, hold: HeldFunds, amount_fen: int, completion: CompletionRef | None = None) -> HoldOrder:
    return HoldOrder(f"HOP{next(_numbers):08d}", step, amount_fen, "CNY", hold, completion)


def completion_of(order: HoldOrder, details: dict[str, str], at: datetime | None) -> CompletionRef:
    assert at is not None
    notice = details["by_notice"] == "true"
    return CompletionRef(
        order.operation_no,
        order.amount_fen,
        details[TRADE_NO],
        details["auth_code"],
        details["stan"],
        details["batch_no"],
        at,
        notice,
    )


def live(wire: Wire, hold: HeldFunds, kind: str) -> list[dict[str, Any]]:
    return [r for r in wire.sim.book.hold_rows(hold.rrn) if r["kind"] == kind and r["executed"]]


# ---- the wire, worked out by hand ---------------------------------------------------------------------------------

ORIGINAL = messages.Original("120300000007", "A1B2C3", "000001", "000005", "1203")
NUMBERS = TerminalNumbers("000002", "000031")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            messages.preauthorisation(TERMINAL, NUMBERS, amount_fen=12_345),
            {"t": "0100", "3": "030000", "4": "000000012345", "11": "000031", "25": "06", "60": "10000002000"},
        ),
        (
            messages.preauth_release(TERMINAL, NUMBERS, amount_fen=10_000, original=ORIGINAL),
            {
                "t": "0100",
                "3": "200000",
                "25": "06",
                "37": "120300000007",
                "38": "A1B2C3",
                "60": "11000002000",
                "61": "0000000000001203",
            },
        ),
        (
            messages.completion(TERMINAL, NUMBERS, amount_fen=11_500, original=ORIGINAL, notice=False),
            {
                "t": "0200",
                "3": "000000",
                "4": "000000011500",
                "25": "06",
                "38": "A1B2C3",
                "60": "20000002000",
                "61": "0000000000001203",
            },
        ),
        (
            messages.completion(TERMINAL, NUMBERS, amount_fen=11_500, original=ORIGINAL, notice=True),
            {"t": "0220", "3": "000000", "25": "06", "60": "24000002000", "61": "0000000000001203"},
        ),
        (
            messages.completion_void(TERMINAL, NUMBERS, amount_fen=11_500, completed=ORIGINAL),
            {
                "t": "0200",
                "3": "200000",
                "25": "06",
                "37": "120300000007",
                "38": "A1B2C3",
                "60": "21000002000",
                "61": "0000010000051203",
            },
        ),
    ],
)
def test_each_message_carries_the_terminal_tables_values(fields: dict[str, str], expected: dict[str, str]) -> None:
    assert {k: fields[k] for k in expected} == expected
    assert fields["41"] == "T0000009" and fields["42"] == "898310048990009" and fields["49"] == "156"
    reversal = messages.reversal(fields, messages.NO_ANSWER)
    assert reversal["t"] == "0400" and reversal["60"] == fields["60"] and reversal["25"] == "06"


def test_the_settings_choose_request_or_notification(wire: Wire) -> None:
    assert card_holds_from({}, wire.card).completion_by_notice is False
    assert card_holds_from({"completion_by_notice": True}, wire.card).completion_by_notice is True
    with pytest.raises(CardSettingsError):
        card_holds_from({"completion_by_notice": "yes"}, wire.card)


# ---- the scheme's rules -------------------------------------------------------------------------------------------


def test_complete_then_refund_the_completion_as_an_ordinary_card_refund(wire: Wire) -> None:
    hold = preauthorise(wire)
    order = ask(HoldStep.COMPLETE, hold, 8_000)
    answer = wire.holds.execute(order)
    assert answer.outcome is Outcome.SUCCEEDED and answer.code == "00"
    assert answer.details[REST_FEN] == "0" and answer.details["by_notice"] == "false"
    assert REFUNDED_FEN not in answer.details and answer.details[TRADE_NO] == answer.channel_refund_id
    assert wire.holds.query(order).outcome is Outcome.SUCCEEDED  # the journal's answer, nothing sent again
    done = completion_of(order, answer.details, answer.succeeded_at)
    sale = OriginalSale(
        channel="card",
        order_no="HOLD1",
        amount_fen=8_000,
        currency="CNY",
        paid_at=done.completed_at,
        rrn=done.rrn,
        auth_code=done.auth_code,
        voucher_no=done.voucher_no,
        batch_no=done.batch_no,
        settled=False,
    )
    refund = wire.card.submit(RefundOrder("RFHOLD0001", 3_000, "CNY", "returned", Method.REFUND, sale))
    assert refund.outcome is Outcome.SUCCEEDED
    assert [r["kind"] for r in wire.sim.book.hold_rows(hold.rrn)] == ["complete", "refund"]


def test_a_completion_may_exceed_the_hold_by_the_tolerance_and_no_more(wire: Wire) -> None:
    hold = preauthorise(wire, 10_000)
    above = wire.holds.execute(ask(HoldStep.COMPLETE, hold, 11_501))
    assert (above.outcome, above.code) == (Outcome.DECLINED, "61")
    assert wire.holds.execute(ask(HoldStep.COMPLETE, hold, 11_500)).outcome is Outcome.SUCCEEDED


def test_release_ends_the_hold(wire: Wire) -> None:
    hold = preauthorise(wire)
    part = wire.holds.execute(ask(HoldStep.RELEASE, hold, 9_999))
    assert (part.outcome, part.code) == (Outcome.DECLINED, "64")  # a release is of the whole amount
    released = wire.holds.execute(ask(HoldStep.RELEASE, hold, 10_000))
    assert released.outcome is Outcome.SUCCEEDED and released.details[REST_FEN] == "0"
    again = wire.holds.execute(ask(HoldStep.RELEASE, hold, 10_000))
    after = wire.holds.execute(ask(HoldStep.COMPLETE, hold, 10_000))
    assert (again.code, after.code) == ("12", "12")


def test_a_completion_cancelled_the_same_day_puts_the_hold_back(wire: Wire) -> None:
    hold = preauthorise(wire)
    order = ask(HoldStep.COMPLETE, hold, 6_000)
    answer = wire.holds.execute(order)
    done = completion_of(order, answer.details, answer.succeeded_at)
    partial = wire.holds.execute(ask(HoldStep.CANCEL_COMPLETION, hold, 5_000, done))
    assert (partial.outcome, partial.code) == (Outcome.DECLINED, "64")
    cancelled = wire.holds.execute(ask(HoldStep.CANCEL_COMPLETION, hold, 6_000, done))
    assert cancelled.outcome is Outcome.SUCCEEDED and cancelled.details[REST_FEN] == "10000"
    assert wire.holds.execute(ask(HoldStep.CANCEL_COMPLETION, hold, 6_000, done)).code == "12"
    assert wire.holds.execute(ask(HoldStep.RELEASE, hold, 10_000)).outcome is Outcome.SUCCEEDED


def test_a_completion_of_a_settled_batch_or_sent_as_notice_cannot_be_cancelled(wire: Wire) -> None:
    hold = preauthorise(wire)
    order = ask(HoldStep.COMPLETE, hold, 10_000)
    answer = wire.with_notice().execute(order)
    assert answer.outcome is Outcome.SUCCEEDED and answer.details["by_notice"] == "true"
    done = completion_of(order, answer.details, answer.succeeded_at)
    assert wire.holds.execute(ask(HoldStep.CANCEL_COMPLETION, hold, 10_000, done)).code == "12"
    other = preauthorise(wire)
    order = ask(HoldStep.COMPLETE, other, 10_000)
    answer = wire.holds.execute(order)
    wire.sim.settle(TERMINAL.terminal_id)
    settled = wire.holds.execute(
        ask(HoldStep.CANCEL_COMPLETION, other, 10_000, completion_of(order, answer.details, answer.succeeded_at))
    )
    assert (settled.outcome, settled.code) == (Outcome.DECLINED, "12")


def test_past_its_validity_the_hold_can_neither_be_completed_nor_released(wire: Wire) -> None:
    hold = preauthorise(wire)
    wire.clock.now += timedelta(days=30)
    assert wire.holds.execute(ask(HoldStep.COMPLETE, hold, 100)).code == "12"
    assert wire.holds.execute(ask(HoldStep.RELEASE, hold, 10_000)).code == "12"


def test_the_adapter_refuses_what_it_cannot_send_without_sending(wire: Wire) -> None:
    hold = preauthorise(wire)
    sent = len(wire.sim.messages())
    for order in (
        ask(HoldStep.HOLD, hold, 100),
        ask(HoldStep.COMPLETE, hold, 0),
        ask(HoldStep.CANCEL_COMPLETION, hold, 100),  # no completion quoted
        HoldOrder("HOPUSD", HoldStep.RELEASE, 100, "USD", hold),
    ):
        answer = wire.holds.execute(order)
        assert (answer.outcome, answer.code) == (Outcome.DECLINED, "invalid_request")
    assert len(wire.sim.messages()) == sent


# ---- lost answers: executed exactly once --------------------------------------------------------------------------


def test_a_lost_completion_answer_is_reversed_and_the_same_operation_sent_again(wire: Wire) -> None:
    hold = preauthorise(wire)
    order = ask(HoldStep.COMPLETE, hold, 7_000)
    wire.sim.set_fault(f"{hold.rrn}:7000", "no_answer_after_accept")
    first = wire.holds.execute(order)
    assert first.outcome is Outcome.UNKNOWN and first.details["state"] == "reversed"
    assert wire.holds.query(order).outcome is Outcome.NOT_FOUND  # reversed: nothing moved
    again = wire.holds.execute(order)
    assert again.outcome is Outcome.SUCCEEDED
    assert wire.holds.execute(order).outcome is Outcome.SUCCEEDED  # a repeat reads the journal
    rows = [(r["kind"], r["executed"]) for r in wire.sim.book.hold_rows(hold.rrn)]
    assert rows == [("complete", False), ("complete", True)]
    assert [m["mti"] for m in wire.sim.messages() if m["kind"] in ("complete", "reversal")] == ["0200", "0400", "0200"]


def test_a_lost_reversal_is_carried_on_by_the_query(wire: Wire) -> None:
    hold = preauthorise(wire)
    order = ask(HoldStep.RELEASE, hold, 10_000)
    wire.sim.set_fault(f"{hold.rrn}:10000", "no_answer_after_accept")
    wire.sim.set_fault(f"{hold.rrn}:10000", "reversal_lost", times=3)
    first = wire.holds.execute(order)
    assert first.outcome is Outcome.UNRESOLVED  # three reversals unanswered: the settlement file decides
    assert live(wire, hold, "release") != []  # the host did release it: a person settles it from the file


def test_a_lost_notice_answer_is_resent_with_its_trace_and_executed_once(wire: Wire) -> None:
    hold = preauthorise(wire)
    order = ask(HoldStep.COMPLETE, hold, 10_000)
    wire.sim.set_fault(f"{hold.rrn}:10000", "no_answer_after_accept")
    answer = wire.with_notice().execute(order)
    assert answer.outcome is Outcome.SUCCEEDED and answer.details["sends"] == "2"
    rows = live(wire, hold, "notice")
    assert len(rows) == 1 and rows[0]["execution"] == 1


def test_a_host_reversal_leaves_nothing_and_the_operation_goes_again(wire: Wire) -> None:
    hold = preauthorise(wire)
    order = ask(HoldStep.RELEASE, hold, 10_000)
    wire.sim.set_fault(f"{hold.rrn}:10000", "host_reversal")
    assert wire.holds.execute(order).outcome is Outcome.UNKNOWN
    assert wire.holds.query(order).outcome is Outcome.NOT_FOUND
    assert wire.holds.execute(order).outcome is Outcome.SUCCEEDED
    assert len(live(wire, hold, "release")) == 1
