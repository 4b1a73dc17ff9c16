"""A bank-card acquirer host (收单机构主机) for voids (消费撤销), refunds (退货) and reversals (冲正), over TCP.

It speaks the ISO 8583 dialect described in ``_acquirer_protocol`` (2-byte length frames, HMAC stand-in MAC in
field 64, our refund_no in field 48) and keeps what a real host keeps: the payments it captured, an open batch per
terminal that ``settle()`` closes, and a ledger of executed voids and refunds keyed by refund_no.

Rules (CHANNELS.md §3; acquirers differ, so the limits are constructor settings):

- void: only for a payment of the terminal's open, unsettled batch, for the whole amount, with nothing refunded yet;
- refund: any payment, partial or whole, repeated, while the cumulative total stays within the original amount;
- the same refund_no again (same original and amount) executes nothing and repeats the first answer; with a
  different original or amount it is refused with 94;
- a reversal (0400) undoes the execution of the message it names (terminal 41 + trace 11 + refund_no 48): the
  ledger entry stays, marked ``reversed`` and ``executed: false``; the refund_no may then be submitted again.

Response codes (CUP POS table): 00 approved · 05 do not honour (``decline`` fault) · 12 invalid transaction (void
outside the terminal's open batch, of a settled or already refunded sale, or from another terminal) · 13 invalid
amount (≤ 0, or one refund above the original) · 25 original not found / references do not match (and "no such
refund_no" to a query, "nothing to undo" to a reversal) · 30 format error · 40 function not supported ·
58 refund window passed (``refund_window_days``) · 61 cumulative refunds would exceed the original ·
64 void amount is not the original amount · 65 too many partial refunds (``max_partial_refunds``) ·
94 same refund_no with a different original or amount · 96 system malfunction (``system_error`` fault) ·
A0 MAC check failed (answered without a MAC, nothing done).

Faults, injected per refund_no with ``inject_fault`` (or drawn by ``fault_rates`` with a seeded random):
``no_answer_after_accept`` (execute, then close the connection without answering), ``decline`` (05, nothing done),
``system_error`` (96; the effect applied or not per ``apply_effect``), ``slow`` (execute, answer after
``slow_seconds``, longer than the client waits), ``bad_response_mac`` (execute, answer with a broken MAC),
``reversal_lost`` (a reversal for that refund_no is swallowed: neither applied nor answered).

Run it: ``python -m posrefund.simulators.acquirer.server --port 5858 [--http-port 5859]``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import signal
import socket
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Self

from posrefund.simulators.acquirer import protocol

log = logging.getLogger(__name__)

SHANGHAI: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
DEMO_MAC_KEY: Final = b"posrefund-demo-acquirer-mac-key!"  # demo/test only: a real key lives in an HSM
SUBMIT_FAULTS: Final = ("no_answer_after_accept", "decline", "system_error", "slow", "bad_response_mac")
REVERSAL_FAULTS: Final = ("reversal_lost",)
FAULTS: Final = SUBMIT_FAULTS + REVERSAL_FAULTS

VOID: Final = "void"
REFUND: Final = "refund"
EXECUTED: Final = "executed"
REVERSED: Final = "reversed"


@dataclass(slots=True)
class Payment:
    """A captured sale as the host booked it. No card number: refunds here reference the sale, not the card."""

    rrn: str
    auth_code: str
    voucher_no: str
    batch_no: str
    amount_fen: int
    paid_at: datetime
    terminal_no: str
    merchant_no: str = ""
    settled: bool = False


@dataclass(slots=True)
class LedgerEntry:
    """One refund_no's void or refund; ``execution`` counts re-executions after a reversal."""

    refund_no: str
    kind: str
    amount_fen: int
    original_rrn: str
    channel_refund_id: str
    auth_code: str
    terminal_no: str
    merchant_no: str
    batch_no: str
    stan: str
    local_date: str
    local_time: str
    executed_at: datetime
    status: str = EXECUTED
    reversed_at: datetime | None = None
    execution: int = 1

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["executed"] = self.status == EXECUTED
        out["executed_at"] = self.executed_at.isoformat()
        out["reversed_at"] = self.reversed_at.isoformat() if self.reversed_at else None
        return out


@dataclass(slots=True)
class _Fault:
    name: str
    times: int
    apply_effect: bool


@dataclass(slots=True)
class Reply:
    """What to do with one request: answer it (maybe late), or close the connection without a word."""

    response: bytes | None
    delay: float = 0.0


@dataclass(slots=True)
class _Journal:
    """An answered-or-dropped void/refund message that applied an effect, for reversals to find by (terminal, trace)."""

    refund_no: str
    amount_fen: int
    execution: int


@dataclass(slots=True)
class _State:
    payments: dict[str, Payment] = field(default_factory=dict)
    open_batches: dict[str, str] = field(default_factory=dict)
    ledger: dict[str, LedgerEntry] = field(default_factory=dict)
    journal: dict[tuple[str, str], _Journal] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[_Fault]] = field(default_factory=dict)


class AcquirerSimulator:
    """The host, served on 127.0.0.1 from a background thread; ``start()`` returns the bound (host, port)."""

    def __init__(
        self,
        mac_key: bytes = DEMO_MAC_KEY,
        *,
        port: int = 0,
        http_port: int | None = None,
        slow_seconds: float = 3.0,
        refund_window_days: int | None = None,
        max_partial_refunds: int | None = None,
        fault_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        clock: Callable[[], datetime] | None = None,
        idle_timeout: float = 30.0,
    ) -> None:
        unknown = set(fault_rates or {}) - set(SUBMIT_FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; choose from {SUBMIT_FAULTS}")
        self._key = mac_key
        self._port = port
        self._http_port = http_port
        self.slow_seconds = slow_seconds
        self.refund_window_days = refund_window_days
        self.max_partial_refunds = max_partial_refunds
        self._fault_rates = dict(fault_rates or {})
        self._rng = random.Random(seed)  # noqa: S311 - fault draws, not secrets
        self._clock = clock or (lambda: datetime.now(UTC))
        self._idle_timeout = idle_timeout
        self._lock = threading.RLock()
        self._state = _State()
        self._seq = 0
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._workers: set[threading.Thread] = set()
        self._conns: set[socket.socket] = set()
        self._http: ThreadingHTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        self.http_address: tuple[str, int] | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> tuple[str, int]:
        listener = socket.create_server(("127.0.0.1", self._port), backlog=32)
        listener.settimeout(0.1)  # the accept loop notices stop() within 0.1 s
        self._listener = listener
        self.address = listener.getsockname()[:2]
        self._stop.clear()
        self._accept_thread = threading.Thread(target=self._accept_loop, name="acquirer-accept", daemon=True)
        self._accept_thread.start()
        if self._http_port is not None:
            from posrefund.simulators.acquirer.http_side import make_side_server

            self._http = make_side_server(self, self._http_port)
            http_host, http_port = self._http.server_address[:2]
            self.http_address = (str(http_host), int(http_port))
            self._http_thread = threading.Thread(
                target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, name="acquirer-http", daemon=True
            )
            self._http_thread.start()
        return self.address

    def stop(self) -> None:
        """Stop accepting, cut open connections, wake sleeping answers and wait for every thread."""
        self._stop.set()
        if self._listener:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() at once on Linux
        if self._accept_thread:
            self._accept_thread.join(timeout=5)
        if self._listener:
            self._listener.close()
        with self._lock:
            conns, workers = list(self._conns), list(self._workers)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(timeout=5)
        if self._http and self._http_thread:
            self._http.shutdown()
            self._http.server_close()
            self._http_thread.join(timeout=5)
            self._http = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- set-up and inspection -------------------------------------------------------------------------------

    def add_payment(
        self,
        rrn: str,
        auth_code: str,
        voucher_no: str,
        batch_no: str,
        amount_fen: int,
        paid_at: datetime,
        terminal_no: str,
        *,
        merchant_no: str = "",
        settled: bool = False,
    ) -> None:
        """Book a captured sale. The first payment of a terminal opens its batch with ``batch_no``."""
        if paid_at.tzinfo is None:
            raise ValueError("paid_at must be timezone-aware")
        if len(rrn) != 12 or amount_fen <= 0 or len(voucher_no) != 6 or len(batch_no) != 6:
            raise ValueError("rrn is 12 characters, voucher_no and batch_no 6 digits, amount positive fen")
        terminal_no, merchant_no = terminal_no.strip(), merchant_no.strip()
        with self._lock:
            self._state.open_batches.setdefault(terminal_no, batch_no)
            self._state.payments[rrn] = Payment(
                rrn, auth_code, voucher_no, batch_no, amount_fen, paid_at, terminal_no, merchant_no, settled
            )

    def open_batch(self, terminal_no: str) -> str:
        with self._lock:
            return self._state.open_batches.get(terminal_no, "")

    def settle(self, terminal_no: str | None = None) -> dict[str, str]:
        """Close the open batch (of one terminal, or all): its sales are settled and leave void range.

        Returns terminal → the batch number now open."""
        with self._lock:
            terminals = [terminal_no] if terminal_no is not None else list(self._state.open_batches)
            for term in terminals:
                closing = self._state.open_batches.get(term)
                if closing is None:
                    continue
                for p in self._state.payments.values():
                    if p.terminal_no == term and p.batch_no == closing:
                        p.settled = True
                self._state.open_batches[term] = f"{(int(closing) + 1) % 1_000_000:06d}"
            return {t: self._state.open_batches[t] for t in terminals if t in self._state.open_batches}

    def inject_fault(self, refund_no: str, fault: str, *, times: int = 1, apply_effect: bool = True) -> None:
        """Make the next ``times`` messages for ``refund_no`` misbehave (submit faults hit voids and refunds,
        ``reversal_lost`` hits reversals). ``apply_effect`` only matters to ``system_error``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {FAULTS}")
        with self._lock:
            self._state.faults.setdefault(refund_no, []).append(_Fault(fault, times, apply_effect))

    def clear_faults(self) -> None:
        with self._lock:
            self._state.faults.clear()

    def ledger(self) -> list[dict[str, Any]]:
        """Executed and reversed voids/refunds, one row per refund_no; ``executed`` is true when money moved."""
        with self._lock:
            return [e.as_dict() for e in self._state.ledger.values()]

    def payments(self) -> list[dict[str, Any]]:
        with self._lock:
            out = []
            for p in self._state.payments.values():
                row = asdict(p)
                row["paid_at"] = p.paid_at.isoformat()
                row["refunded_fen"] = self._refunded(p.rrn)
                row["in_open_batch"] = self._in_open_batch(p)
                out.append(row)
            return out

    def messages(self) -> list[dict[str, Any]]:
        """Every message received, in order, with the code answered (None when nothing was answered)."""
        with self._lock:
            return [dict(m) for m in self._state.messages]

    # ---- network ---------------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(self._idle_timeout)
            worker = threading.Thread(target=self._serve_conn, args=(conn,), name="acquirer-conn", daemon=True)
            with self._lock:
                self._conns.add(conn)
                self._workers.add(worker)
            worker.start()

    def _serve_conn(self, conn: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                raw = protocol.read_frame(conn)
                if raw is None:
                    return
                reply = self.handle(raw)
                if reply.response is None:
                    return  # close without answering
                if reply.delay and self._stop.wait(reply.delay):
                    return
                protocol.write_frame(conn, reply.response)
        except (OSError, protocol.ProtocolError) as exc:
            log.debug("acquirer connection ended: %s", exc)
        finally:
            conn.close()
            with self._lock:
                self._conns.discard(conn)
                self._workers.discard(threading.current_thread())

    # ---- message handling ------------------------------------------------------------------------------------

    def handle(self, raw: bytes) -> Reply:
        """Process one framed message; public so a test can drive the host without a socket."""
        try:
            doc = protocol.unpack(raw)
        except protocol.ProtocolError:
            self._note({"mti": raw[:4].decode("ascii", "replace"), "kind": "unreadable", "code": None})
            return Reply(None)
        if not protocol.mac_ok(raw, self._key):
            self._note(self._summary(doc, "bad_mac", "A0"))
            return Reply(protocol.pack(self._answer_base(doc, "A0"), key=None))  # no MAC: keys are in doubt
        mti, proc = doc.get("t", ""), doc.get("3", "")
        kind = doc.get("60", "")[:2]
        with self._lock:
            if mti == protocol.MTI_FINANCIAL and proc == protocol.PROC_VOID_OR_REFUND and kind == protocol.TYPE_VOID:
                return self._submit(doc, VOID)
            if mti == protocol.MTI_ADVICE and proc == protocol.PROC_VOID_OR_REFUND and kind == protocol.TYPE_REFUND:
                return self._submit(doc, REFUND)
            if mti == protocol.MTI_FINANCIAL and proc == protocol.PROC_STATUS_QUERY:
                return self._query(doc)
            if mti == protocol.MTI_REVERSAL:
                return self._reverse(doc)
            self._note(self._summary(doc, "unsupported", "40"))
            return Reply(self._pack(self._answer_base(doc, "40")))

    def _submit(self, doc: dict[str, str], kind: str) -> Reply:
        refund_no = doc.get("48", "")
        fault = self._take_fault(refund_no, SUBMIT_FAULTS) or self._draw_fault()
        amount = _amount(doc)
        if not refund_no or amount is None or "37" not in doc:
            return self._answer(doc, kind, "30", fault=None)
        if fault and fault.name == "decline":
            return self._answer(doc, kind, "05", fault=None)
        entry = self._state.ledger.get(refund_no)
        if entry is not None and entry.status == EXECUTED:
            if entry.original_rrn != doc["37"] or entry.amount_fen != amount:
                return self._answer(doc, kind, "94", fault=fault)
            self._journal(doc, entry)
            return self._answer(doc, kind, "00", fault=fault, entry=entry)
        code = self._check(doc, kind, amount)
        if code != "00":
            return self._answer(doc, kind, code, fault=fault)
        if fault and fault.name == "system_error" and not fault.apply_effect:
            return self._answer(doc, kind, "00", fault=fault)
        entry = self._execute(doc, kind, amount, previous=entry)
        return self._answer(doc, kind, "00", fault=fault, entry=entry)

    def _check(self, doc: dict[str, str], kind: str, amount: int) -> str:
        payment = self._state.payments.get(doc["37"])
        if payment is None or not self._references_match(doc, payment):
            return "25"
        if amount <= 0:
            return "13"
        refunded = self._refunded(payment.rrn)
        if kind == VOID:
            if _field(doc, "41") != payment.terminal_no or not self._in_open_batch(payment) or refunded:
                return "12"
            return "64" if amount != payment.amount_fen else "00"
        window = self.refund_window_days
        if window is not None and self._clock() - payment.paid_at > timedelta(days=window):
            return "58"
        if amount > payment.amount_fen:
            return "13"
        if refunded + amount > payment.amount_fen:
            return "61"
        if self.max_partial_refunds is not None and amount < payment.amount_fen:
            count = sum(1 for e in self._live_entries() if e.original_rrn == payment.rrn)
            if count >= self.max_partial_refunds:
                return "65"
        return "00"

    def _references_match(self, doc: dict[str, str], p: Payment) -> bool:
        original = doc.get("61", "")
        local_mmdd = p.paid_at.astimezone(SHANGHAI).strftime("%m%d")
        return (
            doc.get("38", "").strip() == p.auth_code.strip()
            and original == f"{p.batch_no}{p.voucher_no}{local_mmdd}"
            and (not p.merchant_no or _field(doc, "42") == p.merchant_no)
        )

    def _execute(self, doc: dict[str, str], kind: str, amount: int, previous: LedgerEntry | None) -> LedgerEntry:
        now = self._clock()
        local = now.astimezone(SHANGHAI)
        self._seq += 1
        terminal = _field(doc, "41")
        entry = LedgerEntry(
            refund_no=doc["48"],
            kind=kind,
            amount_fen=amount,
            original_rrn=doc["37"],
            channel_refund_id=f"{local:%m%d}{self._seq:08d}",
            auth_code=f"{self._rng.randrange(1_000_000):06d}",
            terminal_no=terminal,
            merchant_no=_field(doc, "42"),
            batch_no=self._state.open_batches.get(terminal, "000000"),
            stan=doc.get("11", ""),
            local_date=f"{local:%m%d}",
            local_time=f"{local:%H%M%S}",
            executed_at=now,
            execution=previous.execution + 1 if previous else 1,
        )
        self._state.ledger[entry.refund_no] = entry
        self._journal(doc, entry)
        return entry

    def _journal(self, doc: dict[str, str], entry: LedgerEntry) -> None:
        key = (_field(doc, "41"), doc.get("11", ""))
        self._state.journal[key] = _Journal(entry.refund_no, _amount(doc) or 0, entry.execution)

    def _reverse(self, doc: dict[str, str]) -> Reply:
        refund_no = doc.get("48", "")
        if self._take_fault(refund_no, REVERSAL_FAULTS):
            self._note(self._summary(doc, "reversal", None))
            return Reply(None)
        found = self._state.journal.get((_field(doc, "41"), doc.get("11", "")))
        code = "25"
        if found and found.refund_no == refund_no and found.amount_fen == _amount(doc):
            code = "00"
            entry = self._state.ledger[refund_no]
            if entry.status == EXECUTED and entry.execution == found.execution:
                entry.status = REVERSED
                entry.reversed_at = self._clock()
        self._note(self._summary(doc, "reversal", code))
        return Reply(self._pack(self._answer_base(doc, code)))

    def _query(self, doc: dict[str, str]) -> Reply:
        entry = self._state.ledger.get(doc.get("48", ""))
        out = self._answer_base(doc, "00" if entry else "25")
        if entry:
            out.update(self._entry_fields(entry))
            out["62"] = (
                f"KIND={entry.kind.upper()};STATE={entry.status.upper()};"
                f"ORIG_RRN={entry.original_rrn};AMT={entry.amount_fen:012d}"
            )
        self._note(self._summary(doc, "query", out["39"]))
        return Reply(self._pack(out))

    def _answer(
        self, doc: dict[str, str], kind: str, code: str, *, fault: _Fault | None, entry: LedgerEntry | None = None
    ) -> Reply:
        out = self._answer_base(doc, code)
        if entry is not None and code == "00":
            out.update(self._entry_fields(entry))
        name = fault.name if fault else None
        if name == "system_error":
            out["39"] = "96"
            for k in ("37", "38"):
                out.pop(k, None)
        delivered = None if name == "no_answer_after_accept" else out["39"]
        self._note(self._summary(doc, kind, delivered) | {"fault": name})
        if name == "no_answer_after_accept":
            return Reply(None)
        packed = self._pack(out)
        if name == "bad_response_mac":
            packed = packed[:-1] + bytes([packed[-1] ^ 0xFF])
        return Reply(packed, delay=self.slow_seconds if name == "slow" else 0.0)

    @staticmethod
    def _entry_fields(entry: LedgerEntry) -> dict[str, str]:
        return {
            "4": f"{entry.amount_fen:012d}",
            "12": entry.local_time,
            "13": entry.local_date,
            "37": entry.channel_refund_id,
            "38": entry.auth_code,
        }

    @staticmethod
    def _answer_base(doc: dict[str, str], code: str) -> dict[str, str]:
        mti = doc.get("t", "0000")
        out = {"t": f"{mti[:2]}{int(mti[2]) + 1}{mti[3]}" if mti[2].isdigit() else mti, "39": code}
        for k in ("3", "4", "11", "41", "42", "48", "49", "60"):
            if k in doc:
                out[k] = doc[k]
        return out

    def _pack(self, fields: dict[str, str]) -> bytes:
        return protocol.pack(fields, self._key)

    # ---- bookkeeping -----------------------------------------------------------------------------------------

    def _live_entries(self) -> list[LedgerEntry]:
        return [e for e in self._state.ledger.values() if e.status == EXECUTED]

    def _refunded(self, rrn: str) -> int:
        return sum(e.amount_fen for e in self._live_entries() if e.original_rrn == rrn)

    def _in_open_batch(self, p: Payment) -> bool:
        return not p.settled and self._state.open_batches.get(p.terminal_no) == p.batch_no

    def _take_fault(self, refund_no: str, names: Sequence[str]) -> _Fault | None:
        pending = self._state.faults.get(refund_no, [])
        for fault in pending:
            if fault.name in names:
                fault.times -= 1
                if fault.times <= 0:
                    pending.remove(fault)
                return fault
        return None

    def _draw_fault(self) -> _Fault | None:
        for name, rate in sorted(self._fault_rates.items()):
            if self._rng.random() < rate:
                return _Fault(name, 1, apply_effect=self._rng.random() < 0.5)
        return None

    def _note(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._state.messages.append(row)

    @staticmethod
    def _summary(doc: dict[str, str], kind: str, code: str | None) -> dict[str, Any]:
        return {
            "mti": doc.get("t"),
            "kind": kind,
            "refund_no": doc.get("48", ""),
            "stan": doc.get("11", ""),
            "terminal_no": _field(doc, "41"),
            "code": code,
        }


def _field(doc: dict[str, str], key: str) -> str:
    """A fixed-length text field without its space padding (terminal and merchant ids are padded to 8 and 15)."""
    return doc.get(key, "").strip()


def _amount(doc: dict[str, str]) -> int | None:
    value = doc.get("4", "")
    return int(value) if value.isdigit() else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="posrefund simulate acquirer", description="Acquirer host simulator (ISO 8583 over TCP)"
    )
    parser.add_argument("--port", type=int, default=5858, help="TCP port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--http-port", type=int, default=None, help="optional side HTTP port for /__sim__/…")
    parser.add_argument("--mac-key-hex", default=DEMO_MAC_KEY.hex(), help="MAC key shared with the adapter, in hex")
    parser.add_argument("--slow-seconds", type=float, default=3.0)
    parser.add_argument("--refund-window-days", type=int, default=None)
    parser.add_argument("--max-partial-refunds", type=int, default=None)
    parser.add_argument(
        "--fault-rate", action="append", default=[], metavar="NAME=RATE", help=f"one of {SUBMIT_FAULTS}"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        rates = {name: float(rate) for name, _, rate in (item.partition("=") for item in args.fault_rate)}
        sim = AcquirerSimulator(
            bytes.fromhex(args.mac_key_hex),
            port=args.port,
            http_port=args.http_port,
            slow_seconds=args.slow_seconds,
            refund_window_days=args.refund_window_days,
            max_partial_refunds=args.max_partial_refunds,
            fault_rates=rates,
            seed=args.seed,
        )
    except ValueError as exc:
        parser.error(str(exc))
    done = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: done.set())
    with sim:
        host, port = sim.address
        side = f", side HTTP on http://{sim.http_address[0]}:{sim.http_address[1]}" if sim.http_address else ""
        sys.stdout.write(f"acquirer simulator listening on {host}:{port}{side}\n")
        sys.stdout.flush()
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
