"""The card adapter against the acquirer simulator, over real sockets: ISO 8583 voids, refunds, reversals, queries."""

from __future__ import annotations

import itertools
import json
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any

import pytest

from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.domain.card_method import choose_card_method
from posrefund.domain.channel import Method, OriginalSale, Outcome, RefundOrder
from posrefund.ports import PaymentChannel
from posrefund.simulators.acquirer import protocol
from posrefund.simulators.acquirer.server import SHANGHAI, AcquirerSimulator

KEY = b"contract-test-mac-key-0123456789"
TERMINAL = "T0000001"
MERCHANT = "898310048990001"
TIMEOUT = 0.5
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def no_threads_left_behind() -> Iterator[None]:
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith("acquirer-")]
    assert left == [], f"simulator threads still running: {left}"


@pytest.fixture
def sim() -> Iterator[AcquirerSimulator]:
    with AcquirerSimulator(KEY, slow_seconds=2.0) as simulator:
        yield simulator


@pytest.fixture
def card(sim: AcquirerSimulator) -> CardAcquirerChannel:
    host, port = sim.address
    channel = CardAcquirerChannel(host, port, KEY, TERMINAL, MERCHANT, timeout=TIMEOUT)
    as_port: PaymentChannel = channel  # mypy checks the adapter keeps the port's contract
    assert as_port.name == "card"
    return channel


def add_sale(sim: AcquirerSimulator, amount_fen: int = 10_000, **kw: Any) -> OriginalSale:
    """Book a payment on the host and return the sale as posrefund knows it."""
    n = next(_numbers)
    fields: dict[str, Any] = {
        "rrn": f"{n:012d}",
        "auth_code": f"A{n:05d}",
        "voucher_no": f"{n:06d}",
        "batch_no": "000001",
        "amount_fen": amount_fen,
        "paid_at": datetime.now(UTC) - timedelta(minutes=30),
        "terminal_no": TERMINAL,
    }
    fields.update(kw)
    sim.add_payment(**fields)
    return OriginalSale(
        channel="card",
        order_no=f"ORD{n}",
        amount_fen=amount_fen,
        currency="CNY",
        paid_at=fields["paid_at"],
        rrn=fields["rrn"],
        auth_code=fields["auth_code"],
        voucher_no=fields["voucher_no"],
        batch_no=fields["batch_no"],
        terminal_no=fields["terminal_no"],
        merchant_no=MERCHANT,
        settled=False,
    )


def order(sale: OriginalSale, method: Method, amount_fen: int | None = None, refund_no: str = "") -> RefundOrder:
    return RefundOrder(
        refund_no=refund_no or f"RF{next(_numbers):010d}",
        amount_fen=sale.amount_fen if amount_fen is None else amount_fen,
        currency="CNY",
        reason="customer returned the goods",
        method=method,
        sale=sale,
    )


def ledger_row(sim: AcquirerSimulator, refund_no: str) -> dict[str, Any]:
    rows = [r for r in sim.ledger() if r["refund_no"] == refund_no]
    assert len(rows) == 1, rows
    return rows[0]


def kinds(sim: AcquirerSimulator, refund_no: str) -> list[tuple[str, str | None]]:
    return [(m["kind"], m["code"]) for m in sim.messages() if m["refund_no"] == refund_no]


# ---- success --------------------------------------------------------------------------------------------------


def test_void_of_todays_sale_succeeds(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    sale = add_sale(sim)
    o = order(sale, Method.VOID)
    answer = card.submit(o)
    assert answer.outcome is Outcome.SUCCEEDED
    assert answer.code == "00"
    row = ledger_row(sim, o.refund_no)
    assert row["kind"] == "void" and row["executed"] is True and row["status"] == "executed"
    assert row["amount_fen"] == 10_000 and row["original_rrn"] == sale.rrn and row["terminal_no"] == TERMINAL
    assert answer.channel_refund_id == row["channel_refund_id"] != sale.rrn
    assert answer.details["auth_code"] == row["auth_code"]
    assert answer.succeeded_at is not None
    assert abs(answer.succeeded_at - datetime.fromisoformat(row["executed_at"])) < timedelta(seconds=1)
    assert kinds(sim, o.refund_no) == [("void", "00")]


def test_partial_refund_succeeds(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    sale = add_sale(sim)
    o = order(sale, Method.REFUND, 2_500)
    answer = card.submit(o)
    assert answer.outcome is Outcome.SUCCEEDED
    row = ledger_row(sim, o.refund_no)
    assert (row["kind"], row["amount_fen"], row["executed"]) == ("refund", 2_500, True)
    assert answer.channel_refund_id == row["channel_refund_id"]
    assert [p["refunded_fen"] for p in sim.payments() if p["rrn"] == sale.rrn] == [2_500]


def test_query_finds_the_executed_refund(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    o = order(add_sale(sim), Method.REFUND, 1_000)
    submitted = card.submit(o)
    queried = card.query(o)
    assert queried.outcome is Outcome.SUCCEEDED
    assert queried.channel_refund_id == submitted.channel_refund_id
    assert queried.succeeded_at == submitted.succeeded_at
    assert queried.details["kind"] == "REFUND" and queried.details["state"] == "EXECUTED"


def test_query_of_an_unknown_refund_no_is_not_found(card: CardAcquirerChannel, sim: AcquirerSimulator) -> None:
    answer = card.query(order(add_sale(sim), Method.REFUND, 100))
    assert (answer.outcome, answer.code) == (Outcome.NOT_FOUND, "25")


# ---- idempotency ----------------------------------------------------------------------------------------------


def test_same_refund_no_twice_executes_once_and_repeats_the_answer(
    sim: AcquirerSimulator, card: CardAcquirerChannel
) -> None:
    o = order(add_sale(sim), Method.REFUND, 4_000)
    first, second = card.submit(o), card.submit(o)
    assert first.outcome is second.outcome is Outcome.SUCCEEDED
    assert second.channel_refund_id == first.channel_refund_id
    assert second.succeeded_at == first.succeeded_at
    assert second.details["auth_code"] == first.details["auth_code"]
    assert second.details["stan"] != first.details["stan"]  # two messages on the wire…
    assert kinds(sim, o.refund_no) == [("refund", "00"), ("refund", "00")]
    assert ledger_row(sim, o.refund_no)["amount_fen"] == 4_000  # …one refund in the ledger
    assert sum(p["refunded_fen"] for p in sim.payments()) == 4_000


def test_same_refund_no_with_another_amount_is_refused(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    o = order(add_sale(sim), Method.REFUND, 4_000)
    assert card.submit(o).outcome is Outcome.SUCCEEDED
    answer = card.submit(replace(o, amount_fen=4_001))
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "94")
    assert ledger_row(sim, o.refund_no)["amount_fen"] == 4_000


def test_void_resubmitted_as_refund_after_settlement_is_not_paid_twice(
    sim: AcquirerSimulator, card: CardAcquirerChannel
) -> None:
    """The worker lost the void's answer, the batch settled, and it now tries a refund with the same number."""
    o = order(add_sale(sim), Method.VOID)
    first = card.submit(o)
    sim.settle()
    again = card.submit(replace(o, method=Method.REFUND))
    assert again.outcome is Outcome.SUCCEEDED and again.channel_refund_id == first.channel_refund_id
    assert ledger_row(sim, o.refund_no)["kind"] == "void"
    assert sum(p["refunded_fen"] for p in sim.payments()) == 10_000


# ---- void and refund rules ------------------------------------------------------------------------------------


def test_void_refused_after_settlement_then_refund_with_the_same_number(
    sim: AcquirerSimulator, card: CardAcquirerChannel
) -> None:
    sale = add_sale(sim)
    assert sim.open_batch(TERMINAL) == "000001"
    assert sim.settle() == {TERMINAL: "000002"}
    o = order(sale, Method.VOID)
    refused = card.submit(o)
    assert (refused.outcome, refused.code) == (Outcome.DECLINED, "12")
    assert refused.details["hint"] == "use_refund"
    assert sim.ledger() == []
    # The caller re-decides with the domain rule and uses a refund, keeping the refund_no.
    method = choose_card_method(
        sale_paid_at=sale.paid_at,
        sale_settled=True,
        sale_batch_no=sale.batch_no,
        open_batch_no=sim.open_batch(TERMINAL),
        cutoff_local_time=dtime(23, 0),
        now=datetime.now(UTC),
        refund_amount_fen=o.amount_fen,
        sale_amount_fen=sale.amount_fen,
        already_refunded_fen=0,
    )
    assert method is Method.REFUND
    refunded = card.submit(replace(o, method=method))
    assert refunded.outcome is Outcome.SUCCEEDED
    assert ledger_row(sim, o.refund_no)["kind"] == "refund"


def test_void_must_be_the_whole_amount(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    answer = card.submit(order(add_sale(sim), Method.VOID, 9_999))
    assert (answer.outcome, answer.code, answer.details["hint"]) == (Outcome.DECLINED, "64", "use_refund")
    assert sim.ledger() == []


def test_void_refused_after_a_partial_refund(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    sale = add_sale(sim)
    assert card.submit(order(sale, Method.REFUND, 1_000)).outcome is Outcome.SUCCEEDED
    answer = card.submit(order(sale, Method.VOID))
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "12")


def test_void_only_from_the_terminal_that_holds_the_batch(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    sale = add_sale(sim)
    answer = card.submit(order(replace(sale, terminal_no="T0000002"), Method.VOID))
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "12")


def test_partial_refunds_up_to_the_original_then_over_refund_refused(
    sim: AcquirerSimulator, card: CardAcquirerChannel
) -> None:
    sale = add_sale(sim)
    assert card.submit(order(sale, Method.REFUND, 3_000)).outcome is Outcome.SUCCEEDED
    assert card.submit(order(sale, Method.REFUND, 5_000)).outcome is Outcome.SUCCEEDED
    over = card.submit(order(sale, Method.REFUND, 2_001))
    assert (over.outcome, over.code) == (Outcome.DECLINED, "61")
    assert card.submit(order(sale, Method.REFUND, 2_000)).outcome is Outcome.SUCCEEDED
    assert card.submit(order(sale, Method.REFUND, 1)).code == "61"
    assert sorted(r["amount_fen"] for r in sim.ledger()) == [2_000, 3_000, 5_000]


def test_one_refund_above_the_original_is_an_invalid_amount(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    answer = card.submit(order(add_sale(sim), Method.REFUND, 10_001))
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "13")


def test_concurrent_refunds_never_over_refund(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    sale = add_sale(sim)
    orders = [order(sale, Method.REFUND, 2_500) for _ in range(8)]
    answers: dict[str, Outcome] = {}

    def run(o: RefundOrder) -> None:
        answers[o.refund_no] = card.submit(o).outcome

    threads = [threading.Thread(target=run, args=(o,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert sorted(answers.values()) == sorted([Outcome.SUCCEEDED] * 4 + [Outcome.DECLINED] * 4)
    assert sum(r["amount_fen"] for r in sim.ledger()) == 10_000


def test_unknown_original_is_refused(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    sale = replace(add_sale(sim), rrn="999999999999")
    answer = card.submit(order(sale, Method.REFUND, 100))
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "25")
    wrong_auth = card.submit(order(replace(add_sale(sim), auth_code="ZZZZZZ"), Method.REFUND, 100))
    assert wrong_auth.code == "25"


def test_acquirer_limits_are_configuration() -> None:
    now = datetime.now(UTC)
    with AcquirerSimulator(KEY, refund_window_days=15, max_partial_refunds=2, clock=lambda: now) as sim:
        card = CardAcquirerChannel(*sim.address, KEY, TERMINAL, MERCHANT, timeout=TIMEOUT)
        old = add_sale(sim, paid_at=now - timedelta(days=16), batch_no="000001")
        too_old = card.submit(order(old, Method.REFUND, 100))
        assert (too_old.outcome, too_old.code) == (Outcome.DECLINED, "58")
        sale = add_sale(sim)
        assert card.submit(order(sale, Method.REFUND, 100)).outcome is Outcome.SUCCEEDED
        assert card.submit(order(sale, Method.REFUND, 100)).outcome is Outcome.SUCCEEDED
        assert card.submit(order(sale, Method.REFUND, 100)).code == "65"


def test_bad_order_is_refused_without_a_message(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    sale = replace(add_sale(sim), rrn="12345")
    answer = card.submit(order(sale, Method.REFUND, 100))
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "invalid_request")
    assert card.submit(order(sale, Method.CASH, 100)).code == "unsupported_method"
    assert sim.messages() == []


# ---- MAC ------------------------------------------------------------------------------------------------------


def test_wrong_mac_key_is_refused_and_nothing_moves(sim: AcquirerSimulator) -> None:
    intruder = CardAcquirerChannel(*sim.address, b"not-the-shared-key", TERMINAL, MERCHANT, timeout=TIMEOUT)
    o = order(add_sale(sim), Method.VOID)
    answer = intruder.submit(o)
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "A0")
    assert sim.ledger() == []
    assert intruder.query(o).outcome is Outcome.UNKNOWN  # a query it cannot authenticate tells nothing
    assert kinds(sim, o.refund_no) == [("bad_mac", "A0"), ("bad_mac", "A0")]


def test_tampered_message_is_refused(sim: AcquirerSimulator) -> None:
    sale = add_sale(sim)
    fields = {
        "t": "0220",
        "3": "200000",
        "4": "000000000100",
        "11": "000042",
        "37": sale.rrn,
        "38": sale.auth_code,
        "41": TERMINAL,
        "42": MERCHANT,
        "48": "RF-TAMPER",
        "60": "25000000",
        "61": f"{sale.batch_no}{sale.voucher_no}{sale.paid_at.astimezone(SHANGHAI):%m%d}",
    }
    genuine = protocol.pack(fields, KEY)
    tampered = genuine.replace(b"000000000100", b"000000009900")  # 1 yuan became 99
    assert tampered != genuine
    with socket.create_connection(sim.address, timeout=2) as conn:
        protocol.write_frame(conn, tampered)
        raw = protocol.read_frame(conn)
        assert raw is not None
        assert not protocol.mac_ok(raw, KEY)  # the refusal carries no MAC
        doc = protocol.unpack(raw)
        assert (doc["t"], doc["39"]) == ("0230", "A0")
        protocol.write_frame(conn, genuine)  # the same connection, the untouched message: accepted
        ok = protocol.read_frame(conn)
        assert ok is not None and protocol.mac_ok(ok, KEY) and protocol.unpack(ok)["39"] == "00"
    assert [r["amount_fen"] for r in sim.ledger()] == [100]


# ---- faults ---------------------------------------------------------------------------------------------------


def test_no_answer_after_accept_is_reversed_then_resubmitted(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    o = order(add_sale(sim), Method.REFUND, 3_000)
    sim.set_fault(o.refund_no, "no_answer_after_accept")
    answer = card.submit(o)
    assert answer.outcome is Outcome.UNKNOWN
    assert answer.details["reversal_sent"] == "true"
    assert answer.details["reversal_acknowledged"] == "true"
    assert answer.details["reversal_tries"] == "1"
    assert answer.details["reversal_code"] == "00"
    row = ledger_row(sim, o.refund_no)
    assert (row["status"], row["executed"]) == ("reversed", False)
    queried = card.query(o)
    assert queried.outcome is Outcome.NOT_FOUND and queried.details["state"] == "REVERSED"
    again = card.submit(o)  # NOT_FOUND means: submit again with the same refund_no
    assert again.outcome is Outcome.SUCCEEDED
    row = ledger_row(sim, o.refund_no)
    assert (row["status"], row["executed"], row["execution"]) == ("executed", True, 2)
    assert kinds(sim, o.refund_no) == [("refund", None), ("reversal", "00"), ("query", "00"), ("refund", "00")]


def test_timeout_sends_a_reversal_and_the_void_is_undone(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    sale = add_sale(sim)
    o = order(sale, Method.VOID)
    sim.set_fault(o.refund_no, "slow")
    started = time.monotonic()
    answer = card.submit(o)
    assert time.monotonic() - started < 1.5  # did not wait for the 2 s answer
    assert answer.outcome is Outcome.UNKNOWN
    assert "timeout" in answer.details["reason"]
    assert answer.details["reversal_acknowledged"] == "true"
    row = ledger_row(sim, o.refund_no)
    assert (row["kind"], row["status"], row["executed"]) == ("void", "reversed", False)
    assert [p["refunded_fen"] for p in sim.payments() if p["rrn"] == sale.rrn] == [0]
    assert card.query(o).outcome is Outcome.NOT_FOUND
    assert card.submit(o).outcome is Outcome.SUCCEEDED  # the sale is back in void range


def test_lost_reversals_are_tried_three_times_and_query_finds_the_refund(
    sim: AcquirerSimulator, card: CardAcquirerChannel
) -> None:
    o = order(add_sale(sim), Method.REFUND, 500)
    sim.set_fault(o.refund_no, "no_answer_after_accept")
    sim.set_fault(o.refund_no, "reversal_lost", times=3)
    answer = card.submit(o)
    assert answer.outcome is Outcome.UNKNOWN
    assert answer.details["reversal_sent"] == "true"
    assert answer.details["reversal_acknowledged"] == "false"
    assert answer.details["reversal_tries"] == "3"
    assert kinds(sim, o.refund_no) == [("refund", None)] + [("reversal", None)] * 3
    assert ledger_row(sim, o.refund_no)["executed"] is True
    queried = card.query(o)
    assert queried.outcome is Outcome.SUCCEEDED and queried.channel_refund_id


def test_answer_with_a_broken_mac_is_not_trusted(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    o = order(add_sale(sim), Method.REFUND, 700)
    sim.set_fault(o.refund_no, "bad_response_mac")
    answer = card.submit(o)
    assert answer.outcome is Outcome.UNKNOWN
    assert "MAC" in answer.details["reason"] and answer.details["reversal_acknowledged"] == "true"
    assert ledger_row(sim, o.refund_no)["status"] == "reversed"


def test_decline_fault(sim: AcquirerSimulator, card: CardAcquirerChannel) -> None:
    o = order(add_sale(sim), Method.REFUND, 800)
    sim.set_fault(o.refund_no, "decline")
    answer = card.submit(o)
    assert (answer.outcome, answer.code, answer.message) == (Outcome.DECLINED, "05", "do not honour")
    assert sim.ledger() == []
    assert card.query(o).outcome is Outcome.NOT_FOUND


@pytest.mark.parametrize(("applied", "resolved"), [(True, Outcome.SUCCEEDED), (False, Outcome.NOT_FOUND)])
def test_system_error_is_unknown_and_query_resolves_it(
    sim: AcquirerSimulator, card: CardAcquirerChannel, applied: bool, resolved: Outcome
) -> None:
    o = order(add_sale(sim), Method.REFUND, 900)
    sim.set_fault(o.refund_no, "system_error", applied=applied)
    answer = card.submit(o)
    assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "96")
    assert "reversal_sent" not in answer.details  # the host answered: nothing to reverse, query instead
    assert [r["refund_no"] for r in sim.ledger()] == ([o.refund_no] if applied else [])
    assert card.query(o).outcome is resolved


def test_acquirer_down_is_unknown_and_nothing_was_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        card = CardAcquirerChannel("127.0.0.1", port, KEY, TERMINAL, MERCHANT, timeout=TIMEOUT)
        sale = OriginalSale(
            "card", "O", 100, "CNY", datetime.now(UTC), rrn="000000000001", voucher_no="1", batch_no="1"
        )
        answer = card.submit(order(sale, Method.REFUND))
        assert answer.outcome is Outcome.UNKNOWN
        assert (answer.details["sent"], answer.details["reversal_sent"]) == ("false", "false")
        assert card.query(order(sale, Method.REFUND)).outcome is Outcome.UNKNOWN


def test_fault_rates_are_seeded() -> None:
    def run() -> list[str | None]:
        with AcquirerSimulator(KEY, fault_rates={"decline": 0.5}, seed=7) as sim:
            card = CardAcquirerChannel(*sim.address, KEY, TERMINAL, MERCHANT, timeout=TIMEOUT)
            sale = add_sale(sim, amount_fen=100_000)
            for _ in range(8):
                card.submit(order(sale, Method.REFUND, 1))
            return [m["code"] for m in sim.messages()]

    first = run()
    assert first == run() and "05" in first and "00" in first


# ---- serving --------------------------------------------------------------------------------------------------


def test_side_http_endpoint_sets_up_and_shows_the_host() -> None:
    with AcquirerSimulator(KEY, http_port=0) as sim:
        assert sim.http_address is not None
        base = f"http://{sim.http_address[0]}:{sim.http_address[1]}/__sim__/"

        def call(path: str, body: dict[str, Any] | None = None) -> Any:
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(base + path, data=data, method="POST" if data else "GET")
            with urllib.request.urlopen(req, timeout=2) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else None

        paid_at = datetime.now(UTC).isoformat()
        payment = {"rrn": "000000000777", "auth_code": "AB1234", "voucher_no": "000777", "batch_no": "000003"}
        call("payments", payment | {"amount_fen": 500, "paid_at": paid_at, "terminal_no": TERMINAL})
        assert [p["rrn"] for p in call("payments")] == ["000000000777"]
        call("faults", {"refund_no": "RF-HTTP", "fault": "decline"})
        sale = OriginalSale(
            "card",
            "O",
            500,
            "CNY",
            datetime.fromisoformat(paid_at),
            rrn=payment["rrn"],
            auth_code=payment["auth_code"],
            voucher_no=payment["voucher_no"],
            batch_no=payment["batch_no"],
            terminal_no=TERMINAL,
        )
        card = CardAcquirerChannel(*sim.address, KEY, TERMINAL, MERCHANT, timeout=TIMEOUT)
        assert card.submit(order(sale, Method.VOID, refund_no="RF-HTTP")).code == "05"
        assert card.submit(order(sale, Method.VOID, refund_no="RF-HTTP")).outcome is Outcome.SUCCEEDED
        assert [r["refund_no"] for r in call("ledger")] == ["RF-HTTP"]
        assert call("settle", {}) == {TERMINAL: "000004"}


def test_serve_entry_runs_in_the_foreground() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "posrefund.simulators.acquirer.server", "--port", "0", "--mac-key-hex", KEY.hex()],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        assert ready, "the simulator did not announce its address in time"
        line = proc.stdout.readline()
        assert line.startswith("acquirer simulator listening on 127.0.0.1:")
        port = int(line.strip().rsplit(":", 1)[1])
        card = CardAcquirerChannel("127.0.0.1", port, KEY, TERMINAL, MERCHANT, timeout=2)
        sale = OriginalSale(
            "card", "O", 100, "CNY", datetime.now(UTC), rrn="000000000001", voucher_no="1", batch_no="1"
        )
        assert card.query(order(sale, Method.REFUND)).outcome is Outcome.NOT_FOUND
    finally:
        proc.terminate()  # SIGTERM: the entry stops its servers and exits 0
        assert proc.wait(timeout=10) == 0
