"""The batch settlement (批结算 0500) of a terminal that completes pre-authorisations, against the acquirer simulator
over real sockets: the terminal's debit (预授权完成, request and notification) and credit (预授权完成撤销) totals
agree with the host's, including completions whose notification answer was lost (batch-uploaded before the 0500,
executed once); a batch the host counts otherwise is detected, uploaded and reported."""

from __future__ import annotations

from datetime import timedelta

from posrefund.adapters.channels.acquirer.settlement import settle
from posrefund.domain.channel import Outcome
from posrefund.domain.fund_hold import HoldStep
from tests.contract.test_card_holds import TERMINAL, Wire, ask, completion_of, live, preauthorise, wire

__all__ = ["wire"]


def batch_messages(w: Wire, mti: str) -> list[dict[str, object]]:
    return [m for m in w.sim.messages() if m["mti"] == mti]


def test_a_batch_with_completions_and_lost_notification_answers_balances(wire: Wire) -> None:
    requested, noticed, lost, unheard, released = (preauthorise(wire, a) for a in (10_000, 20_000, 5_000, 8_000, 3_000))
    done = ask(HoldStep.COMPLETE, requested, 8_000)
    answer = wire.holds.execute(done)
    assert answer.outcome is Outcome.SUCCEEDED
    cancel = ask(HoldStep.CANCEL_COMPLETION, requested, 8_000, completion_of(done, answer.details, answer.succeeded_at))
    assert wire.holds.execute(cancel).outcome is Outcome.SUCCEEDED
    by_notice = wire.with_notice()
    assert by_notice.execute(ask(HoldStep.COMPLETE, noticed, 21_000)).outcome is Outcome.SUCCEEDED
    wire.sim.set_fault(f"{lost.rrn}:5000", "no_answer_after_accept")  # executed, the answer lost
    wire.card.resends = 0  # (a host answers a resend with its first answer: here none is left to try)
    assert by_notice.execute(ask(HoldStep.COMPLETE, lost, 5_000)).outcome is Outcome.UNRESOLVED
    wire.card.resends = 3
    wire.sim.set_fault(f"{unheard.rrn}:8000", "system_error")  # 96: the host did nothing, the terminal can't tell
    assert by_notice.execute(ask(HoldStep.COMPLETE, unheard, 8_000)).outcome is Outcome.UNRESOLVED
    assert wire.holds.execute(ask(HoldStep.RELEASE, released, 3_000)).outcome is Outcome.SUCCEEDED
    batch = wire.sim.open_batch(TERMINAL.terminal_id)

    closed = settle(wire.card)

    assert (closed.balance_code, closed.balanced, closed.uploaded) == ("1", True, 0)
    assert (closed.debit_count, closed.debit_fen, closed.count, closed.credit_fen) == (4, 42_000, 1, 8_000)
    assert (closed.offline_uploaded, closed.offline_refused) == (2, 0)
    assert wire.sim.book.totals(TERMINAL.terminal_id, batch) == (42_000, 4, 8_000, 1)  # the host counts the same
    assert [r["execution"] for r in live(wire, lost, "notice")] == [1]  # the upload found it: not executed again
    assert [r["amount_fen"] for r in live(wire, unheard, "notice")] == [8_000]  # the upload executed it, once
    uploads = batch_messages(wire, "0320")
    assert [(u["kind"], u["code"]) for u in uploads] == [("batch_upload", "00"), ("batch_upload", "00")]
    assert wire.sim.open_batch(TERMINAL.terminal_id) == closed.next_batch_no != batch


def test_a_batch_the_host_counts_otherwise_is_detected_uploaded_and_reported(wire: Wire) -> None:
    held, late = preauthorise(wire, 10_000), preauthorise(wire, 6_000)
    assert wire.holds.execute(ask(HoldStep.COMPLETE, held, 9_000)).outcome is Outcome.SUCCEEDED
    wire.sim.set_fault(f"{late.rrn}:6000", "system_error")
    assert wire.with_notice().execute(ask(HoldStep.COMPLETE, late, 6_000)).outcome is Outcome.UNRESOLVED
    batch = wire.sim.open_batch(TERMINAL.terminal_id)
    at = wire.clock.now - timedelta(minutes=5)
    wire.sim.add_payment("120300009999", "A09999", "009999", batch, 4_000, at, TERMINAL.terminal_id)  # a 消费
    wire.clock.now += timedelta(days=31)  # the pre-authorisation ran out before its completion reached the host

    closed = settle(wire.card)

    assert (closed.balance_code, closed.balanced) == ("2", False)  # the host has a sale the terminal never made
    assert (closed.offline_uploaded, closed.offline_refused) == (0, 1)  # 12: too late, not counted
    assert (closed.debit_count, closed.debit_fen, closed.count, closed.credit_fen, closed.uploaded) == (
        1,
        9_000,
        0,
        0,
        1,
    )
    assert wire.sim.book.totals(TERMINAL.terminal_id, batch) == (13_000, 2, 0, 0)
    uploads = [(u["kind"], u["code"]) for u in batch_messages(wire, "0320")]
    assert uploads == [("batch_upload", "12"), ("batch_upload", "00"), ("batch_upload_end", "00")]
    assert live(wire, late, "notice") == []
    assert wire.sim.open_batch(TERMINAL.terminal_id) == closed.next_batch_no != batch
