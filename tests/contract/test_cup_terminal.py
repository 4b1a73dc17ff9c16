"""The card adapter as a China UnionPay POS terminal: the wire checked against the spec's own rules, worked out by
hand here, and its behaviour against a tiny fake front end (tests/support/cup_host.py) over real sockets."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from posrefund.adapters.channels.acquirer import codec, keys, messages
from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.adapters.channels.acquirer.journal import SqlTerminalJournal
from posrefund.adapters.channels.acquirer.settings import CardSettingsError, card_from
from posrefund.adapters.channels.acquirer.settlement import settle
from posrefund.adapters.channels.acquirer.transport import Link
from posrefund.domain.channel import Method, OriginalSale, Outcome, RefundOrder
from posrefund.ports import PaymentChannel
from posrefund.ports.terminal import ANSWERED, REVERSED, SENT, UNRESOLVED, JournalEntry, TerminalNumbers
from tests.support.cup_host import FakeHost, des, ecb_mac, parse

TMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
TERMINAL = messages.Terminal("T0000001", "898310048990001")
TIMEOUT = 0.4
_numbers = itertools.count(1)


@pytest.fixture
def host() -> Iterator[FakeHost]:
    with FakeHost(TMK) as h:
        yield h


def channel(host: FakeHost, journal: SqlTerminalJournal | None = None, **kw: Any) -> CardAcquirerChannel:
    link = Link(*host.address, destination=b"\x00\x06", source=b"\x00\x00", timeout=TIMEOUT)
    card = CardAcquirerChannel(link, TMK, TERMINAL, journal or SqlTerminalJournal.in_temporary_file(), **kw)
    as_port: PaymentChannel = card  # mypy checks the adapter keeps the port's contract
    assert as_port.name == "card"
    return card


def order(method: Method, amount_fen: int = 10_000, rrn: str = "") -> RefundOrder:
    n = next(_numbers)
    sale = OriginalSale(
        channel="card",
        order_no=f"ORD{n}",
        amount_fen=10_000,
        currency="CNY",
        paid_at=datetime(2026, 12, 3, 6, 0, tzinfo=UTC),  # 14:00 on 3 December in Shanghai
        rrn=rrn or f"{n:012d}",
        auth_code="A00001",
        voucher_no=f"{n}",
        batch_no="7",
        settled=False,
    )
    return RefundOrder(f"RF{n:010d}", amount_fen, "CNY", "returned", method, sale)


# ---- the wire, from the spec ------------------------------------------------------------------------------------


def test_frame_is_length_tpdu_header_then_mti() -> None:
    link = Link("127.0.0.1", 1, destination=b"\x00\x06", source=b"\x00\x00", timeout=1)
    numbers = TerminalNumbers("000001", "000009")
    fields = messages.void(TERMINAL, numbers, 100, messages.Original("000000000001", "A1", "000007", "000003", "1203"))
    raw = link.frame(fields, bytes(8))
    assert int.from_bytes(raw[:2], "big") == len(raw) - 2
    # The spec's example frame: 60 0006 0000 | 60 31 00 31 10 03 | 02 00 …
    assert raw[2:15].hex(" ").upper() == "60 00 06 00 00 60 31 00 31 10 03 02 00"


def test_field_encodings_are_bcd_ascii_and_binary_as_the_spec_says() -> None:
    numbers = TerminalNumbers("000001", "000009")
    fields = messages.refund(TERMINAL, numbers, 1234, messages.Original("123456789012", "AB12", "7", "3", "1203"))
    body = codec.encode(fields)
    # bitmap: fields 3 4 11 25 37 38 41 42 49 60 61 64
    bits = [3, 4, 11, 25, 37, 38, 41, 42, 49, 60, 61, 64]
    assert body[:2] == b"\x02\x20"
    assert int.from_bytes(body[2:10], "big") == sum(1 << (64 - b) for b in bits)
    rest = body[10:]
    expected = (
        bytes.fromhex("200000")  # 3 n6
        + bytes.fromhex("000000001234")  # 4 n12
        + bytes.fromhex("000009")  # 11 n6
        + bytes.fromhex("00")  # 25 n2
        + b"123456789012"  # 37 an12
        + b"AB12  "  # 38 an6, left-aligned, space-padded
        + b"T0000001"  # 41 ans8
        + b"898310048990001"  # 42 ans15
        + b"156"  # 49 an3
        + bytes.fromhex("0011250000010000")  # 60 LLLVAR n11: 25 000001 000, left-aligned, trailing 0
        + bytes.fromhex("00160000000000001203")  # 61 LLLVAR n16: 000000 000000 + MMDD
        + bytes(8)  # 64 b8 before the MAC fills it
    )
    assert rest == expected
    assert codec.decode(body)["60"] == "25000001000"


def test_mac_of_a_known_message_with_a_known_key() -> None:
    mak = bytes.fromhex("3333333333333333")
    data = bytes.fromhex("02003020048000C08011") + b"0123456789"  # 20 bytes: MTI, bitmap, then ten digits
    padded = data + bytes(4)  # zeros to 24 bytes
    x = bytes(a ^ b ^ c for a, b, c in zip(padded[:8], padded[8:16], padded[16:24], strict=True))
    hexed = x.hex().upper().encode()  # 16 ASCII characters
    e1 = des(mak, hexed[:8])
    e2 = des(mak, bytes(a ^ b for a, b in zip(e1, hexed[8:], strict=True)))
    expected = e2.hex().upper()[:8].encode()
    assert keys.mac(mak, data) == expected
    assert len(expected) == 8 and all(c in b"0123456789ABCDEF" for c in expected)
    assert keys.mac(mak, data[:-1] + b"8") != expected


def test_des_is_the_standard_one() -> None:
    # FIPS 81 / NBS known answer: key 0101010101010101 encrypting zeros gives 8CA64DE9C1B123A7.
    assert keys.encrypt(bytes.fromhex("0101010101010101"), bytes(8)).hex().upper() == "8CA64DE9C1B123A7"
    assert keys.check_value(bytes.fromhex("0101010101010101")).hex().upper() == "8CA64DE9"


def test_working_keys_from_field_62_and_their_check_values() -> None:
    pik, mak = bytes.fromhex("11" * 8 + "22" * 8), bytes.fromhex("33" * 8)
    f62 = des(TMK, pik) + des(pik, bytes(8))[:4] + des(TMK, mak) + bytes(8) + des(mak, bytes(8))[:4]
    assert len(f62) == 40
    got = keys.working_keys(TMK, f62)
    assert (got.pik, got.mak) == (pik, mak)
    assert "33" not in repr(got)
    with pytest.raises(keys.KeyCheckFailed, match="MAK check value"):
        keys.working_keys(TMK, f62[:36] + bytes(4))
    with pytest.raises(keys.KeyCheckFailed, match="PIK check value"):
        keys.working_keys(TMK, f62[:16] + bytes(4) + f62[20:])
    with pytest.raises(keys.KeyCheckFailed):
        keys.working_keys(bytes(16), f62)  # another terminal's master key


# ---- sign-on ----------------------------------------------------------------------------------------------------


def test_first_use_signs_on_and_the_void_is_macd_with_the_delivered_mak(host: FakeHost) -> None:
    card = channel(host)
    the_order = order(Method.VOID)
    answer = card.submit(the_order)
    assert (answer.outcome, answer.code, answer.channel_refund_id) == (Outcome.SUCCEEDED, "00", "000000000001")
    assert answer.details["auth_code"] == "AUTH01" and answer.details["refund_fen"] == "10000"
    sign_on, void = host.state.received
    assert (sign_on["mti"], sign_on[60], sign_on[11]) == ("0800", "00000001003", "000001")
    assert 64 not in sign_on
    original = "000007" + the_order.sale.voucher_no.zfill(6)  # 61 = original batch + trace
    assert (void["mti"], void[3], void[25], void[60], void[61]) == ("0200", "200000", "00", "23000001000", original)
    assert void[11] == "000002" and void[4] == "000000010000"


def test_keys_failing_their_check_value_are_refused_and_nothing_is_sent(host: FakeHost) -> None:
    host.state.bad_check_value = True
    card = channel(host)
    answer = card.submit(order(Method.REFUND, 100))
    assert (answer.outcome, answer.details) == (Outcome.UNKNOWN, {"sent": "false"})
    assert [m["mti"] for m in host.state.received] == ["0800"]


def test_host_asking_for_a_new_sign_on_gets_it_and_a_new_message(host: FakeHost) -> None:
    host.state.faults["0220"] = ["sign_on"]
    card = channel(host)
    answer = card.submit(order(Method.REFUND, 100))
    assert answer.outcome is Outcome.SUCCEEDED
    assert [m["mti"] for m in host.state.received] == ["0800", "0220", "0800", "0220"]
    first, second = host.state.of("0220")
    assert first[11] != second[11]  # the refused one moved nothing: a new message, a new trace


# ---- trace and batch numbers ------------------------------------------------------------------------------------


def test_trace_numbers_are_persisted_and_never_shared_between_threads(engine: Engine) -> None:
    journal = SqlTerminalJournal(engine)
    got: list[str] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(15):
            n = journal.allocate("T0000001")
            with lock:
                got.append(n.trace_no)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == [f"{i:06d}" for i in range(1, 91)]
    again = SqlTerminalJournal(engine)  # a restarted worker carries on
    assert again.allocate("T0000001") == TerminalNumbers("000001", "000091")
    assert again.allocate("T0000002") == TerminalNumbers("000001", "000001")


def test_batch_advances_once_per_settled_batch_and_numbers_wrap(engine: Engine) -> None:
    journal = SqlTerminalJournal(engine)
    assert journal.open_batch("T0000001") == "000001"
    assert journal.close_batch("T0000001", "000001") == "000002"
    assert journal.close_batch("T0000001", "000001") == "000002"  # settled twice: one advance
    with engine.begin() as c:
        c.exec_driver_sql("UPDATE card_terminal_counters SET trace_no = 999999, batch_no = 999999")
    assert journal.allocate("T0000001") == TerminalNumbers("999999", "000001")
    assert journal.close_batch("T0000001", "999999") == "000001"


# ---- the journal ------------------------------------------------------------------------------------------------


def test_refund_is_journaled_before_it_leaves(host: FakeHost, engine: Engine) -> None:
    journal = SqlTerminalJournal(engine)
    seen: list[JournalEntry | None] = []
    the_order = order(Method.REFUND, 300)

    def look(doc: dict[Any, Any]) -> None:
        if doc["mti"] == "0220":
            seen.append(SqlTerminalJournal(engine).latest("T0000001", the_order.refund_no))

    host.state.on_message = look
    card = channel(host, journal)
    assert card.submit(the_order).outcome is Outcome.SUCCEEDED
    [entry] = seen
    assert entry is not None
    assert (entry.state, entry.sends, entry.kind, entry.amount_fen) == (SENT, 1, "refund", 300)
    assert (entry.batch_no, entry.trace_no) == ("000001", "000002")
    assert entry.fields["37"] == the_order.sale.rrn and entry.fields["61"] == "0000000000001203"
    done = journal.latest("T0000001", the_order.refund_no)
    assert done is not None
    assert (done.state, done.response_code, done.rrn, done.auth_code) == (ANSWERED, "00", "000000000001", "AUTH01")


def test_lost_refund_answers_are_resent_with_the_same_trace(host: FakeHost) -> None:
    host.state.faults["0220"] = ["drop", "hang"]
    card = channel(host)
    answer = card.submit(order(Method.REFUND, 500))
    assert answer.outcome is Outcome.SUCCEEDED and answer.details["sends"] == "3"
    sent = host.state.of("0220")
    assert len(sent) == 3 and len({(m[11], m[60], m[64]) for m in sent}) == 1  # the same message three times
    assert host.state.count("0400") == 0  # a refund is never reversed


def test_a_resend_refused_for_keys_is_sent_again_with_the_same_trace(host: FakeHost) -> None:
    """Another process signed the terminal on meanwhile: the resend is refused unread (A0), yet the first send of
    that trace may have been executed. A new trace would be a second refund; the same trace gets the first answer."""
    host.state.faults["0220"] = ["drop", "sign_on"]
    card = channel(host)
    answer = card.submit(order(Method.REFUND, 500))
    assert answer.outcome is Outcome.SUCCEEDED
    sent = host.state.of("0220")
    assert len(sent) == 3 and len({m[11] for m in sent}) == 1
    assert host.state.count("0800") == 2  # signed on again before the third send


def test_refund_unanswered_after_the_resends_is_unresolved(host: FakeHost, engine: Engine) -> None:
    host.state.faults["0220"] = ["drop"] * 4
    card = channel(host, SqlTerminalJournal(engine))
    the_order = order(Method.REFUND, 500)
    answer = card.submit(the_order)
    assert answer.outcome is Outcome.UNRESOLVED
    assert answer.details["state"] == UNRESOLVED and answer.details["sends"] == "4"
    assert host.state.count("0220") == 4
    again = card.query(the_order)  # nothing more may be asked: no message leaves
    assert (again.outcome, host.state.count("0220")) == (Outcome.UNRESOLVED, 4)
    assert card.submit(the_order).outcome is Outcome.UNRESOLVED and host.state.count("0220") == 4


def test_query_resends_a_message_a_crash_left_open(host: FakeHost, engine: Engine) -> None:
    journal = SqlTerminalJournal(engine)
    card = channel(host, journal)
    card.sign_on()
    the_order = order(Method.REFUND, 700)
    numbers = journal.allocate("T0000001")
    original = messages.Original(the_order.sale.rrn, "A00001", "000007", "000001", "1203")
    fields = messages.refund(TERMINAL, numbers, 700, original)
    entry = journal.record(
        JournalEntry(
            "T0000001",
            "898310048990001",
            numbers.batch_no,
            numbers.trace_no,
            the_order.refund_no,
            "refund",
            700,
            fields,
        )
    )
    journal.count_send(entry.id)  # it may have left before the crash
    answer = card.query(the_order)
    assert answer.outcome is Outcome.SUCCEEDED
    [resent] = host.state.of("0220")
    assert resent[11] == numbers.trace_no
    stored = journal.latest("T0000001", the_order.refund_no)
    assert stored is not None and stored.sends == 2


def test_query_of_a_refund_no_never_sent_is_not_found(host: FakeHost) -> None:
    card = channel(host)
    assert card.query(order(Method.REFUND)).outcome is Outcome.NOT_FOUND
    assert host.state.received == []


# ---- voids and reversals ----------------------------------------------------------------------------------------


def test_void_without_answer_is_reversed_then_sent_again_as_a_new_message(host: FakeHost) -> None:
    host.state.faults["0200"] = ["drop"]
    card = channel(host)
    the_order = order(Method.VOID)
    first = card.submit(the_order)
    assert (first.outcome, first.details["state"]) == (Outcome.UNKNOWN, REVERSED)
    void = host.state.of("0200")[0]
    [reversal] = host.state.of("0400")
    assert reversal[39] == "98"
    assert {k: reversal[k] for k in (3, 4, 11, 25, 41, 42, 49, 60, 61)} == {
        k: void[k] for k in (3, 4, 11, 25, 41, 42, 49, 60, 61)
    }
    assert card.query(the_order).outcome is Outcome.NOT_FOUND  # nothing moved: the same refund_no again
    again = card.submit(the_order)
    assert again.outcome is Outcome.SUCCEEDED
    assert host.state.of("0200")[1][11] != void[11]


def test_void_answer_failing_its_mac_is_reversed_with_a0(host: FakeHost) -> None:
    host.state.faults["0200"] = ["bad_mac"]
    card = channel(host)
    answer = card.submit(order(Method.VOID))
    assert answer.outcome is Outcome.UNKNOWN and answer.details["state"] == REVERSED
    assert host.state.of("0400")[0][39] == "A0"


def test_reversal_never_acknowledged_after_three_tries_is_unresolved(host: FakeHost) -> None:
    host.state.faults["0200"] = ["drop"]
    host.state.faults["0400"] = ["drop"] * 3
    card = channel(host)
    the_order = order(Method.VOID)
    answer = card.submit(the_order)
    assert (answer.outcome, answer.details["reversal_tries"]) == (Outcome.UNRESOLVED, "3")
    assert host.state.count("0400") == 3
    assert card.query(the_order).outcome is Outcome.UNRESOLVED and host.state.count("0400") == 3


def test_void_of_a_settled_sale_is_declined_with_the_refund_hint(host: FakeHost) -> None:
    card = channel(host)
    answer = card.submit(order(Method.VOID, rrn="NOTINBATCH00"))
    assert (answer.outcome, answer.code, answer.details["hint"]) == (Outcome.DECLINED, "25", "use_refund")
    refund = replace(order(Method.REFUND, rrn="NOTINBATCH01"))
    assert card.submit(refund).outcome is Outcome.SUCCEEDED


def test_host_down_sends_nothing_and_query_says_send_again() -> None:
    link = Link("127.0.0.1", 9, destination=b"\x00\x06", source=b"\x00\x00", timeout=TIMEOUT)
    card = CardAcquirerChannel(link, TMK, TERMINAL, SqlTerminalJournal.in_temporary_file())
    the_order = order(Method.REFUND)
    answer = card.submit(the_order)
    assert (answer.outcome, answer.details["sent"]) == (Outcome.UNKNOWN, "false")
    assert card.query(the_order).outcome is Outcome.NOT_FOUND


def test_longest_call_bounds_a_call(host: FakeHost) -> None:
    card = channel(host, resends=3, reversal_tries=3)
    assert card.longest_call_seconds == pytest.approx(TIMEOUT * 7)
    host.state.faults["0220"] = ["hang"] * 4
    started = datetime.now(UTC)
    assert card.submit(order(Method.REFUND, 100)).outcome is Outcome.UNRESOLVED
    took = (datetime.now(UTC) - started).total_seconds()
    assert TIMEOUT * 4 <= took < card.longest_call_seconds


# ---- settlement -------------------------------------------------------------------------------------------------


def test_balanced_settlement_sends_the_journal_totals_and_advances_the_batch(host: FakeHost, engine: Engine) -> None:
    journal = SqlTerminalJournal(engine)
    card = channel(host, journal)
    for amount in (100, 250):
        card.submit(order(Method.REFUND, amount))
    card.submit(order(Method.VOID, rrn="NOTINBATCH00"))  # declined: not in the totals
    done = settle(card)
    [message] = host.state.of("0500")
    assert message[48] == "0000000000000000000000003500020" + "0" * 31
    assert message[60] == "00000001201"
    assert (done.balance_code, done.uploaded, done.next_batch_no) == ("1", 0, "000002")
    assert host.state.count("0320") == 0
    nxt = card.submit(order(Method.REFUND, 1))
    assert nxt.details["batch_no"] == "000002"


def test_settlement_not_balanced_uploads_each_transaction_then_the_end(host: FakeHost) -> None:
    host.state.balance = "2"
    card = channel(host)
    card.submit(order(Method.REFUND, 100))
    card.submit(order(Method.VOID))
    done = settle(card)
    uploads = host.state.of("0320")
    assert [u[60][-3:] for u in uploads] == ["201", "201", "207"]
    assert [u.get(4) for u in uploads[:2]] == ["000000000100", "000000010000"]
    assert uploads[2][48] == "0002"
    assert (done.balance_code, done.uploaded, done.count, done.credit_fen) == ("2", 2, 2, 10_100)


# ---- configuration ----------------------------------------------------------------------------------------------


def test_card_section_reads_the_master_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    monkeypatch.setenv("CARD_TMK", TMK.hex())
    section = {"host": "10.0.0.10", "port": 5858, "terminal_id": "T0000001", "merchant_id": "898310048990001",
               "tmk_hex_env": "CARD_TMK", "timeout": 5, "resends": 2, "reversal_tries": 1, "tpdu_destination": "0010"}  # fmt: skip

    def secret(s: dict[str, Any], key: str) -> str:
        return os.environ[s[f"{key}_env"]]

    card = card_from(section, secret, SqlTerminalJournal(engine))
    assert card.longest_call_seconds == 5 * (1 + 2 + 1)
    assert card.link.destination == b"\x00\x10" and TMK.hex() not in repr(card)
    with pytest.raises(CardSettingsError, match="never inline"):
        card_from(section | {"tmk_hex": TMK.hex()}, secret, SqlTerminalJournal(engine))
    monkeypatch.setenv("CARD_TMK", "00" * 8)
    with pytest.raises(CardSettingsError, match="32 hex digits"):
        card_from(section, secret, SqlTerminalJournal(engine))


def test_fake_host_codec_agrees_on_a_sign_on() -> None:
    numbers = TerminalNumbers("000001", "000001")
    body = codec.encode(messages.sign_on(TERMINAL, numbers))
    assert parse(body) == {"mti": "0800", 11: "000001", 41: "T0000001", 42: "898310048990001", 60: "00000001003",
                           63: "001"}  # fmt: skip
    assert ecb_mac(bytes(8), body) == keys.mac(bytes(8), body)


def test_host_that_does_not_know_itself_makes_a_void_reversed_and_a_refund_unresolved(host: FakeHost) -> None:
    host.state.faults["0200"] = ["code:96"]
    host.state.faults["0220"] = ["code:96"]
    card = channel(host)
    void = card.submit(order(Method.VOID))
    assert (void.outcome, void.details["state"]) == (Outcome.UNKNOWN, REVERSED)
    assert host.state.of("0400")[0][39] == "98"
    refund = card.submit(order(Method.REFUND, 100))
    assert refund.outcome is Outcome.UNRESOLVED and host.state.count("0220") == 1
