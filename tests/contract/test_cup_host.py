"""The acquirer host simulator against the 中国银联 POS terminal dialect, over real TCP sockets: frames, field
encodings, sign-on key delivery, the ECB MAC, every refusal code, resends, reversals, settlement and batch upload.

The terminal side here is written from the spec: the MAC and the key decryption are computed step by step with
the cryptography library, never with the simulator's own key functions."""

from __future__ import annotations

import itertools
import json
import select
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from posrefund.simulators.acquirer import protocol
from posrefund.simulators.acquirer.server import SHANGHAI, AcquirerSimulator
from tests.support.cup_host import des
from tests.support.cup_host import ecb_mac as hand_mac  # the spec's steps written out, independent of the host

TMK = bytes.fromhex("11223344556677888877665544332211")
TERMINAL = "T0000001"
MERCHANT = "898310048990001"
TPDU = bytes.fromhex("6000060000")
HEADER = bytes.fromhex("603100311003")
_rrns = itertools.count(1)


@dataclass
class Terminal:
    """A POS terminal: one connection, its trace counter, the keys from its last sign-on."""

    address: tuple[str, int]
    terminal_no: str = TERMINAL
    tmk: bytes = TMK
    batch_no: str = "000001"
    mak: bytes | None = None
    pik: bytes | None = None
    trace: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    conn: socket.socket | None = None

    def send_frame(self, frame: bytes) -> protocol.Message | None:
        if self.conn is None:
            self.conn = socket.create_connection(self.address, timeout=3)
        protocol.write_frame(self.conn, frame)
        try:
            raw = protocol.read_frame(self.conn)
        except protocol.ProtocolError:
            raw = None
        if raw is None:
            self.close()
            return None
        return protocol.unpack(raw)

    def send(self, fields: dict[str, str], *, mac: bool = True) -> protocol.Message | None:
        fields = {"41": f"{self.terminal_no:<8}", "42": MERCHANT} | fields
        if mac and self.mak is not None:
            body = protocol.encode_body(fields, bytes(8))  # bit 64 set; the MAC bytes are ours
            body = body[:-8] + hand_mac(self.mak, body[:-8])
        else:
            body = protocol.encode_body(fields, None)
        return self.send_frame(TPDU + HEADER + body)

    def next_trace(self) -> str:
        return f"{next(self.trace):06d}"

    def sign_on(self) -> protocol.Message:
        answer = self.send(
            {"t": "0800", "11": self.next_trace(), "60": f"00{self.batch_no}003", "63": "01 "}, mac=False
        )
        assert answer is not None and answer.fields["39"] == "00"
        block = bytes.fromhex(answer.fields["62"])
        self.pik = des(self.tmk, block[:16], decrypt=True)
        self.mak = des(self.tmk, block[20:28], decrypt=True)
        return answer

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@pytest.fixture
def sim() -> Iterator[AcquirerSimulator]:
    with AcquirerSimulator(TMK, slow_seconds=0.6) as simulator:
        yield simulator


@pytest.fixture
def pos(sim: AcquirerSimulator) -> Iterator[Terminal]:
    terminal = Terminal(sim.address)
    terminal.sign_on()
    yield terminal
    terminal.close()


@dataclass
class Sale:
    rrn: str
    auth_code: str
    voucher_no: str
    amount_fen: int
    paid_at: datetime
    batch_no: str = "000001"


def add_sale(sim: AcquirerSimulator, amount_fen: int = 10_000, terminal_no: str = TERMINAL) -> Sale:
    n = next(_rrns)
    sale = Sale(f"{n:012d}", f"A{n:05d}", f"{n:06d}", amount_fen, datetime.now(UTC) - timedelta(minutes=5))
    sim.add_payment(sale.rrn, sale.auth_code, sale.voucher_no, sale.batch_no, amount_fen, sale.paid_at, terminal_no)
    return sale


def void(pos: Terminal, sale: Sale, trace: str = "", amount_fen: int | None = None) -> dict[str, str]:
    return {
        "t": "0200", "3": "200000", "4": f"{sale.amount_fen if amount_fen is None else amount_fen:012d}",
        "11": trace or pos.next_trace(), "22": "021", "25": "00", "37": sale.rrn, "38": sale.auth_code,
        "49": "156", "60": f"23{pos.batch_no}000", "61": f"{sale.batch_no}{sale.voucher_no}",
    }  # fmt: skip


def refund(pos: Terminal, sale: Sale, amount_fen: int, trace: str = "") -> dict[str, str]:
    mmdd = f"{sale.paid_at.astimezone(SHANGHAI):%m%d}"
    return {
        "t": "0220", "3": "200000", "4": f"{amount_fen:012d}", "11": trace or pos.next_trace(), "22": "021",
        "25": "00", "37": sale.rrn, "38": sale.auth_code, "49": "156", "60": f"25{pos.batch_no}000",
        "61": f"000000000000{mmdd}",
    }  # fmt: skip


def reversal(original: dict[str, str], reason: str = "98") -> dict[str, str]:
    kept = {k: original[k] for k in ("3", "4", "11", "22", "25", "49", "60", "61") if k in original}
    return {"t": "0400", "39": reason} | kept


def code(answer: protocol.Message | None) -> str:
    assert answer is not None, "no answer"
    return answer.fields["39"]


# ---- the wire -----------------------------------------------------------------------------------------------


def test_each_field_type_encodes_as_the_spec_says() -> None:
    fields = {
        "t": "0200",  # MTI: 2 bytes BCD
        "3": "200000",  # n6: 3 bytes BCD
        "22": "021",  # n3: right-aligned, a leading 0 nibble → 00 21
        "37": "000000000001",  # an12: ASCII
        "41": "T0000001",  # ans8: ASCII
        "60": "23000001000",  # LLLVAR n..17: 2-byte BCD length 0011 (digits), left-aligned, trailing 0 nibble
        "62": "ABCD",  # LLLVAR b: 2-byte BCD length 0002 (bytes), raw bytes
        "63": "01 ",  # LLLVAR ans: 2-byte BCD length 0003, ASCII
    }
    body = protocol.encode_body(fields, None)
    bitmap = bytes.fromhex("2000040008800016")  # bits 3, 22, 37, 41, 60, 62, 63
    expected = (
        bytes.fromhex("0200")
        + bitmap
        + bytes.fromhex("200000")
        + bytes.fromhex("0021")
        + b"000000000001"
        + b"T0000001"
        + bytes.fromhex("0011")
        + bytes.fromhex("230000010000")
        + bytes.fromhex("0002ABCD")
        + bytes.fromhex("0003")
        + b"01 "
    )
    assert body.hex() == expected.hex()
    decoded = protocol.unpack(TPDU + HEADER + body)
    assert decoded.fields == fields


def test_llvar_n_and_amount_fields() -> None:
    body = protocol.encode_body({"t": "0200", "4": "000000012345", "32": "12345", "48": "0001"}, None)
    # 4 n12 → 6 bytes; 32 LLVAR n..11: 1-byte BCD length 05, digits 12345 + trailing 0; 48 LLLVAR n: 0004 0001
    assert body[10:].hex() == "000000012345" + "05123450" + "0004" + "0001"


def test_sign_on_frame_round_trip_swaps_the_tpdu_addresses(sim: AcquirerSimulator) -> None:
    pos = Terminal(sim.address)
    try:
        body = protocol.encode_body(
            {"t": "0800", "11": "000001", "41": TERMINAL, "42": MERCHANT, "60": "00000001003", "63": "01 "}, None
        )
        frame = bytes.fromhex("6000060000") + bytes.fromhex("603100311003") + body
        with socket.create_connection(sim.address, timeout=3) as conn:
            conn.sendall(len(frame).to_bytes(2, "big") + frame)
            size = int.from_bytes(conn.recv(2), "big")
            answer = b""
            while len(answer) < size:
                answer += conn.recv(size - len(answer))
        assert answer[:5] == bytes.fromhex("6000000006")  # ID 60, destination and source swapped
        assert answer[5:11] == bytes.fromhex("603100311003")  # processing requirement 0
        assert answer[11:13] == bytes.fromhex("0810")
        doc = protocol.unpack(answer).fields
        assert (doc["39"], doc["11"], doc["60"]) == ("00", "000001", "00000001003")
        assert "64" not in doc  # sign-on is not MACed: the keys are what it delivers
    finally:
        pos.close()


def test_the_mac_of_a_known_message_with_a_known_key() -> None:
    mak = bytes.fromhex("0123456789ABCDEF")
    data = bytes.fromhex("0200702000000000000016") + b"ABCDEFGHIJ"  # 21 bytes
    padded = data + bytes(3)
    blocks = [padded[0:8], padded[8:16], padded[16:24]]
    assert [b.hex().upper() for b in blocks] == ["0200702000000000", "0000164142434445", "464748494A000000"]
    folded = bytes(a ^ b ^ c for a, b, c in zip(*blocks, strict=True))
    assert folded.hex().upper() == "44472E2808434445"
    text = b"44472E2808434445"  # the folded block as 16 upper-case hex characters
    first = des(mak, text[:8])
    assert first.hex().upper() == "114538AC1D4F2920"
    xored = bytes(a ^ b for a, b in zip(first, text[8:], strict=True))
    assert xored.hex().upper() == "217D0C9F297B1D15"
    second = des(mak, xored)
    assert second.hex().upper() == "DCDF725392F63F5D"
    mac = second.hex().upper().encode()[:8]
    assert mac == b"DCDF7253" == hand_mac(mak, data)
    from posrefund.simulators.acquirer.keys import ecb_mac

    assert ecb_mac(mak, data) == mac


def test_sign_on_delivers_working_keys_under_the_tmk_with_check_values(sim: AcquirerSimulator) -> None:
    pos = Terminal(sim.address)
    try:
        answer = pos.sign_on()
        block = bytes.fromhex(answer.fields["62"])
        assert len(block) == 40
        assert pos.pik is not None and pos.mak is not None
        assert block[16:20] == des(pos.pik, bytes(8))[:4]  # PIK check value
        assert block[28:36] == bytes(8)  # MAK is 8 bytes, then 8 zero bytes
        assert block[36:40] == des(pos.mak, bytes(8))[:4]  # MAK check value
        first_mak = pos.mak
        pos.sign_on()
        assert pos.mak != first_mak  # fresh keys at every sign-on
    finally:
        pos.close()


def test_the_answer_is_maced_with_the_mak(sim: AcquirerSimulator, pos: Terminal) -> None:
    answer = pos.send(void(pos, add_sale(sim)))
    assert answer is not None and pos.mak is not None
    assert answer.body[-8:] == hand_mac(pos.mak, answer.body[:-8])
    assert answer.tpdu == bytes.fromhex("6000000006") and answer.processing_requirement == 0


# ---- refusals -----------------------------------------------------------------------------------------------


def test_not_signed_on_is_refused_with_processing_requirement_3(sim: AcquirerSimulator) -> None:
    pos = Terminal(sim.address, mak=bytes(8))
    try:
        answer = pos.send(void(pos, add_sale(sim)))
        assert code(answer) == "77"
        assert answer is not None and answer.processing_requirement == protocol.SIGN_ON_AGAIN
        assert "64" not in answer.fields
        assert sim.ledger() == []
    finally:
        pos.close()


def test_unknown_terminal_cannot_sign_on() -> None:
    with AcquirerSimulator(None, terminal_keys={TERMINAL: TMK}) as sim:
        stranger = Terminal(sim.address, terminal_no="T9999999")
        try:
            answer = stranger.send({"t": "0800", "11": "000001", "60": "00000001003", "63": "01 "}, mac=False)
            assert code(answer) == "97"
        finally:
            stranger.close()
        known = Terminal(sim.address)
        try:
            assert known.sign_on().fields["39"] == "00"
        finally:
            known.close()


def test_a_wrong_mac_is_answered_a0_and_nothing_moves(sim: AcquirerSimulator, pos: Terminal) -> None:
    sale = add_sale(sim)
    pos.mak = bytes.fromhex("0000000000000001")
    answer = pos.send(void(pos, sale))
    assert code(answer) == "A0" and answer is not None and "64" not in answer.fields
    assert sim.ledger() == []


def test_a_tampered_amount_fails_the_mac(sim: AcquirerSimulator, pos: Terminal) -> None:
    sale = add_sale(sim)
    assert pos.mak is not None
    body = protocol.encode_body({"41": TERMINAL, "42": MERCHANT} | refund(pos, sale, 100), bytes(8))
    body = body[:-8] + hand_mac(pos.mak, body[:-8])
    tampered = body.replace(bytes.fromhex("000000000100"), bytes.fromhex("000000009900"))
    assert code(pos.send_frame(TPDU + HEADER + tampered)) == "A0"
    assert code(pos.send_frame(TPDU + HEADER + body)) == "00"
    assert [r["amount_fen"] for r in sim.ledger()] == [100]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"37": "999999999999"}, "25"),  # no such original
        ({"38": "ZZZZZZ"}, "25"),  # another authorisation code
        ({"61": "000001999999"}, "25"),  # original batch + trace do not match
        ({"4": "000000009999"}, "64"),  # a void is of the whole amount
        ({"49": "840"}, "30"),  # currency is 156
    ],
)
def test_void_refusals(sim: AcquirerSimulator, pos: Terminal, change: dict[str, str], expected: str) -> None:
    assert code(pos.send(void(pos, add_sale(sim)) | change)) == expected
    assert sim.ledger() == []


def test_void_only_in_the_same_batch_and_terminal(sim: AcquirerSimulator, pos: Terminal) -> None:
    other_terminal = add_sale(sim, terminal_no="T0000002")
    assert code(pos.send(void(pos, other_terminal))) == "12"
    sale = add_sale(sim)
    sim.settle(TERMINAL)
    assert code(pos.send(void(pos, sale))) == "12"  # settled: out of void range, refund instead
    assert code(pos.send(refund(pos, sale, sale.amount_fen))) == "00"


def test_refund_refusals_and_the_remaining_refundable_amount(sim: AcquirerSimulator, pos: Terminal) -> None:
    sale = add_sale(sim)
    assert code(pos.send(refund(pos, sale, 0))) == "13"
    assert code(pos.send(refund(pos, sale, 10_001))) == "13"
    assert code(pos.send(refund(pos, sale, 6_000))) == "00"
    assert code(pos.send(refund(pos, sale, 4_001))) == "61"  # 4,000 left
    assert code(pos.send(refund(pos, sale, 4_000))) == "00"
    assert code(pos.send(void(pos, sale))) == "12"  # refunded: no void any more
    assert sorted(r["amount_fen"] for r in sim.ledger()) == [4_000, 6_000]


def test_a_trace_is_not_reused_for_another_message(sim: AcquirerSimulator, pos: Terminal) -> None:
    sale = add_sale(sim)
    first = refund(pos, sale, 1_000)
    assert code(pos.send(first)) == "00"
    assert code(pos.send(refund(pos, sale, 2_000, trace=first["11"]))) == "94"
    assert [r["amount_fen"] for r in sim.ledger()] == [1_000]


def test_unsupported_transaction_is_40(sim: AcquirerSimulator, pos: Terminal) -> None:
    sale_msg = void(pos, add_sale(sim)) | {"3": "000000", "60": f"22{pos.batch_no}000"}  # 消费: not offered here
    assert code(pos.send(sale_msg)) == "40"


# ---- resends and reversals ----------------------------------------------------------------------------------


def test_a_resent_refund_gets_the_first_answer_and_executes_nothing(sim: AcquirerSimulator, pos: Terminal) -> None:
    sale = add_sale(sim)
    message = refund(pos, sale, 3_000)
    first, again = pos.send(message), pos.send(message)
    assert first is not None and again is not None
    assert first.fields["39"] == again.fields["39"] == "00"
    assert (again.fields["37"], again.fields["38"]) == (first.fields["37"], first.fields["38"])
    rows = sim.ledger()
    assert len(rows) == 1
    row = rows[0]
    assert (row["terminal_no"], row["batch_no"], row["trace_no"]) == (TERMINAL, "000001", message["11"])
    assert (row["original_rrn"], row["amount_fen"], row["executed"]) == (sale.rrn, 3_000, True)
    assert row["refund_no"] == f"{TERMINAL}:000001:{message['11']}"
    # a new trace with the same references is a new refund, checked against what is left
    assert code(pos.send(refund(pos, sale, 3_000))) == "00"
    assert code(pos.send(refund(pos, sale, 4_001))) == "61"
    assert sum(r["amount_fen"] for r in sim.ledger()) == 6_000


def test_a_void_is_undone_by_its_reversal(sim: AcquirerSimulator, pos: Terminal) -> None:
    sale = add_sale(sim)
    message = void(pos, sale)
    assert code(pos.send(message)) == "00"
    answer = pos.send(reversal(message))
    assert answer is not None and (answer.mti, answer.fields["39"]) == ("0410", "00")
    assert [(r["status"], r["executed"]) for r in sim.ledger()] == [("reversed", False)]
    assert code(pos.send(reversal(message))) == "00"  # a repeated reversal is acknowledged again
    assert code(pos.send(void(pos, sale))) == "00"  # the sale is back in void range


def test_a_reversal_with_nothing_to_undo_is_25_and_a_refund_is_not_reversible(
    sim: AcquirerSimulator, pos: Terminal
) -> None:
    sale = add_sale(sim)
    never_sent = void(pos, sale)
    assert code(pos.send(reversal(never_sent))) == "25"
    message = refund(pos, sale, 500)
    assert code(pos.send(message)) == "00"
    assert code(pos.send(reversal(message))) == "12"
    assert [r["executed"] for r in sim.ledger()] == [True]


# ---- faults -------------------------------------------------------------------------------------------------


def key_of(pos: Terminal, message: dict[str, str]) -> str:
    return f"{pos.terminal_no}:{pos.batch_no}:{message['11']}"


def test_no_answer_after_accept_then_the_reversal_undoes_the_void(sim: AcquirerSimulator, pos: Terminal) -> None:
    message = void(pos, add_sale(sim))
    sim.set_fault(key_of(pos, message), "no_answer_after_accept")
    assert pos.send(message) is None
    assert [r["executed"] for r in sim.ledger()] == [True]
    assert code(pos.send(reversal(message))) == "00"
    assert [r["executed"] for r in sim.ledger()] == [False]


def test_host_reversal_leaves_nothing_executed_and_the_resend_executes_once(
    sim: AcquirerSimulator, pos: Terminal
) -> None:
    sale = add_sale(sim)
    message = refund(pos, sale, 700)
    sim.set_fault(f"{sale.rrn}:700", "host_reversal")  # planned by original RRN + amount
    assert pos.send(message) is None
    assert [(r["executed"], r["reversed_by"]) for r in sim.ledger()] == [(False, "host")]
    assert code(pos.send(message)) == "00"
    assert [(r["executed"], r["execution"]) for r in sim.ledger()] == [(True, 2)]


@pytest.mark.parametrize(("fault", "fault_code", "expected"), [("decline", "", "51"), ("decline", "05", "05"),
                                                               ("system_error", "", "96")])  # fmt: skip
def test_refusing_faults_execute_nothing(
    sim: AcquirerSimulator, pos: Terminal, fault: str, fault_code: str, expected: str
) -> None:
    message = refund(pos, add_sale(sim), 800)
    sim.set_fault(key_of(pos, message), fault, code=fault_code)
    assert code(pos.send(message)) == expected
    assert sim.ledger() == []
    assert code(pos.send(message)) == "00"  # the same message again is processed anew


def test_latency_and_bad_response_mac(sim: AcquirerSimulator, pos: Terminal) -> None:
    sale = add_sale(sim)
    slow = refund(pos, sale, 100)
    sim.set_fault(key_of(pos, slow), "latency")
    started = datetime.now(UTC)
    assert code(pos.send(slow)) == "00"
    assert datetime.now(UTC) - started >= timedelta(seconds=0.5)
    broken = refund(pos, sale, 200)
    sim.set_fault(key_of(pos, broken), "bad_response_mac")
    answer = pos.send(broken)
    assert answer is not None and pos.mak is not None
    assert answer.body[-8:] != hand_mac(pos.mak, answer.body[:-8])
    assert sorted(r["amount_fen"] for r in sim.ledger()) == [100, 200]


def test_a_lost_reversal_is_not_applied(sim: AcquirerSimulator, pos: Terminal) -> None:
    message = void(pos, add_sale(sim))
    sim.set_fault(key_of(pos, message), "no_answer_after_accept")
    sim.set_fault(key_of(pos, message), "reversal_lost", times=2)
    assert pos.send(message) is None
    assert pos.send(reversal(message)) is None
    assert pos.send(reversal(message)) is None
    assert [r["executed"] for r in sim.ledger()] == [True]
    assert code(pos.send(reversal(message))) == "00"  # the third try gets through
    assert [r["executed"] for r in sim.ledger()] == [False]


def test_concurrent_refunds_never_over_refund(sim: AcquirerSimulator, pos: Terminal) -> None:
    sale = add_sale(sim)
    codes: list[str] = []

    def one(n: int) -> None:
        lane = Terminal(sim.address, mak=pos.mak, trace=itertools.count(100 * n + 1))  # one terminal, its keys
        try:
            codes.append(code(lane.send(refund(lane, sale, 2_500))))
        finally:
            lane.close()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(codes) == ["00"] * 4 + ["61"] * 2
    assert sum(r["amount_fen"] for r in sim.ledger()) == 10_000


# ---- settlement and batch upload ----------------------------------------------------------------------------


def totals(debit: int, debit_n: int, credit: int, credit_n: int) -> str:
    return f"{debit:012d}{debit_n:03d}{credit:012d}{credit_n:03d}0" + "0" * 31


def settle(pos: Terminal, totals_48: str) -> protocol.Message | None:
    return pos.send({"t": "0500", "11": pos.next_trace(), "48": totals_48, "49": "156", "60": f"00{pos.batch_no}201"})


def test_balanced_settlement_closes_the_batch(sim: AcquirerSimulator, pos: Terminal) -> None:
    kept, voided = add_sale(sim, 5_000), add_sale(sim, 3_000)
    assert code(pos.send(void(pos, voided))) == "00"
    assert code(pos.send(refund(pos, kept, 1_000))) == "00"
    answer = settle(pos, totals(8_000, 2, 4_000, 2))  # the voided sale stays in debit, its void is a credit
    assert answer is not None and (answer.mti, answer.fields["39"]) == ("0510", "00")
    assert answer.fields["48"][30] == "1" and answer.fields["48"][61] == "1"
    assert sim.open_batch(TERMINAL) == "000002"


def test_unbalanced_settlement_then_batch_upload(sim: AcquirerSimulator, pos: Terminal) -> None:
    sale = add_sale(sim, 5_000)
    first = refund(pos, sale, 1_000)
    assert code(pos.send(first)) == "00"
    answer = settle(pos, totals(5_000, 1, 900, 1))
    assert answer is not None and answer.fields["48"][30] == "2"
    assert sim.open_batch(TERMINAL) == "000001"
    upload = {"t": "0320", "3": "200000", "4": "000000001000", "11": first["11"], "60": f"00{pos.batch_no}201"}
    assert code(pos.send(upload)) == "00"
    assert code(pos.send(upload | {"11": "999999"})) == "25"  # the host never executed that trace
    end = {"t": "0320", "11": pos.next_trace(), "60": f"00{pos.batch_no}207"}
    ended = pos.send(end)
    assert ended is not None and (ended.mti, ended.fields["39"]) == ("0330", "00")
    assert sim.open_batch(TERMINAL) == "000002"


# ---- the side door and the settlement file ------------------------------------------------------------------


def test_side_door_shows_the_ledger_and_the_settlement_file(tmp_path: Any) -> None:
    with AcquirerSimulator(TMK, http_port=0) as sim:
        assert sim.http_address is not None
        base = f"http://{sim.http_address[0]}:{sim.http_address[1]}/__sim__/"

        def call(path: str, body: dict[str, Any] | None = None) -> Any:
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(base + path, data=data, method="POST" if data else "GET")
            with urllib.request.urlopen(req, timeout=3) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else None

        sale = add_sale(sim, 2_000)
        pos = Terminal(sim.address)
        try:
            pos.sign_on()
            message = refund(pos, sale, 500)
            call("faults", {"refund_no": key_of(pos, message), "fault": "decline"})
            assert code(pos.send(message)) == "51"
            assert code(pos.send(message)) == "00"
        finally:
            pos.close()
        rows = call("ledger")
        assert [(r["refund_no"], r["original_rrn"], r["amount_fen"]) for r in rows] == [
            (key_of(pos, message), sale.rrn, 500)
        ]
        lines = call("settlement")["csv"].splitlines()
        assert lines[0].endswith("批次号,授权码,原参考号")
        refund_line = lines[2].split(",")
        assert refund_line[3:7] == [TERMINAL, "", "退货", "-5.00"]
        assert (refund_line[8], refund_line[10], refund_line[12]) == (message["11"], "000001", sale.rrn)
        written = sim.settlement_file(tmp_path / "acquirer.csv")
        assert written.read_text(encoding="utf-8").splitlines()[-1].startswith("合计,,,,,,15.00")


def test_random_faults_are_seeded_and_spare_resends() -> None:
    def run() -> list[str | None]:
        with AcquirerSimulator(TMK, fault_rates={"decline": 0.5}, seed=7) as sim:
            sale = add_sale(sim, 100_000)
            pos = Terminal(sim.address)
            try:
                pos.sign_on()
                for _ in range(8):
                    pos.send(refund(pos, sale, 1))
            finally:
                pos.close()
            return [m["code"] for m in sim.messages() if m["kind"] == "refund"]

    first = run()
    assert first == run() and "51" in first and "00" in first


def test_serve_entry_runs_in_the_foreground() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "posrefund.simulators.acquirer.server", "--port", "0", "--tmk-hex", TMK.hex()],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        assert ready, "the simulator did not announce its address in time"
        line = proc.stdout.readline()
        assert line.startswith("acquirer simulator listening on 127.0.0.1:")
        pos = Terminal(("127.0.0.1", int(line.strip().rsplit(":", 1)[1])))
        try:
            assert pos.sign_on().fields["39"] == "00"
        finally:
            pos.close()
    finally:
        proc.terminate()  # SIGTERM: the entry stops its servers and exits 0
        assert proc.wait(timeout=10) == 0
