"""The acquirer host's books: the sales it captured, an open batch per terminal, and every void and refund it
executed, keyed as the host knows them: by the terminal, its batch number (60.2) and its trace number (11).

posrefund's own refund number never reaches the host, so it is not here. A ledger row's ``refund_no`` is the host's
key written ``terminal:batch:trace`` (the same string the fault plan and the side door use)."""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from posrefund.simulators.common.faults import FaultPlan
from posrefund.simulators.common.ledger import RefundLedger

SHANGHAI: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
VOID: Final = "void"
REFUND: Final = "refund"
PREAUTH: Final = "preauth"  # 预授权
RELEASE: Final = "release"  # 预授权撤销
COMPLETE: Final = "complete"  # 预授权完成(请求)
NOTICE: Final = "notice"  # 预授权完成(通知)
COMPLETION_VOID: Final = "compvoid"  # 预授权完成撤销
COMPLETIONS: Final = frozenset({COMPLETE, NOTICE})
CREDITS: Final = frozenset({VOID, REFUND, COMPLETION_VOID})
EXECUTED: Final = "executed"
REVERSED: Final = "reversed"

TraceKey = tuple[str, str, str]  # terminal, batch, trace


def key_text(key: TraceKey) -> str:
    return ":".join(key)


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
    from_completion: bool = False  # the sale a 预授权完成 became: a sale only while the completion stands


@dataclass(slots=True)
class PreAuth:
    """A pre-authorisation the host approved: the references its release, completion and their reversals quote.
    What became of it is read from the live entries quoting its RRN (``HostLedger.hold_state``)."""

    rrn: str
    auth_code: str
    amount_fen: int
    held_at: datetime
    terminal_no: str
    key: TraceKey


@dataclass(slots=True)
class Entry:
    """One executed void or refund message. ``answer`` is the first answer's fields, repeated to a resend;
    ``execution`` counts executions (an identical resend after a reversal executes it again)."""

    terminal_no: str
    batch_no: str
    trace_no: str
    kind: str
    amount_fen: int
    original_rrn: str
    rrn: str
    auth_code: str
    merchant_no: str
    executed_at: datetime
    fingerprint: tuple[str, ...]
    answer: dict[str, str]
    status: str = EXECUTED
    reversed_at: datetime | None = None
    execution: int = 1
    reversed_by: str = ""

    @property
    def key(self) -> TraceKey:
        return (self.terminal_no, self.batch_no, self.trace_no)

    def row(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("fingerprint", "answer")}
        out |= {"refund_no": key_text(self.key), "executed": self.status == EXECUTED, "channel_refund_id": self.rrn}
        out["executed_at"] = self.executed_at.isoformat()
        out["reversed_at"] = self.reversed_at.isoformat() if self.reversed_at else None
        return out


class HostLedger(RefundLedger):
    """Payments, batches and entries. Callers that need several steps at once hold ``lock``."""

    def __init__(self, clock: Callable[[], datetime], faults: FaultPlan, rng: random.Random) -> None:
        super().__init__(clock, faults)
        self.rng = rng
        self._seq = 0
        self.payments: dict[str, Payment] = {}
        self.open_batches: dict[str, str] = {}
        self.entries: dict[TraceKey, Entry] = {}
        self.seen: dict[TraceKey, tuple[str, ...]] = {}  # every trace used, with what it carried
        self.preauths: dict[str, PreAuth] = {}  # by RRN

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """Held by the host across the steps of one message, so each message sees and leaves the books whole."""
        return self._lock

    def now(self) -> datetime:
        return self._clock()

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
        if len(rrn) != 12 or amount_fen <= 0 or len(voucher_no) != 6 or len(batch_no) != 6:
            raise ValueError("rrn is 12 characters, voucher_no and batch_no 6 digits, amount positive fen")
        if paid_at.tzinfo is None:
            raise ValueError("paid_at must be timezone-aware")
        terminal_no, merchant_no = terminal_no.strip(), merchant_no.strip()
        payment = Payment(rrn, auth_code, voucher_no, batch_no, amount_fen, paid_at, terminal_no, merchant_no, settled)
        with self._lock:
            self.open_batches.setdefault(payment.terminal_no, payment.batch_no)
            self.payments[payment.rrn] = payment

    def settle(self, key: str | None = None) -> dict[str, str]:
        """Close the open batch (of terminal ``key``, or of all): its sales are settled and leave void range.

        Returns terminal → the batch number now open."""
        with self._lock:
            terminals = [key] if key is not None else list(self.open_batches)
            for term in terminals:
                closing = self.open_batches.get(term)
                if closing is not None:
                    self.close_batch(term, closing)
            return {t: self.open_batches[t] for t in terminals if t in self.open_batches}

    def close_batch(self, terminal_no: str, batch_no: str) -> None:
        """The terminal settled ``batch_no``: its sales are settled and the next batch opens."""
        for p in self.payments.values():
            if p.terminal_no == terminal_no and p.batch_no == batch_no:
                p.settled = True
        if self.open_batches.get(terminal_no, batch_no) == batch_no:
            self.open_batches[terminal_no] = f"{(int(batch_no) + 1) % 1_000_000:06d}"

    def _rows(self) -> list[dict[str, Any]]:
        return [e.row() for e in self.entries.values()]

    def payment_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            out = []
            for p in self.payments.values():
                row = asdict(p)
                row["paid_at"] = p.paid_at.isoformat()
                row["refunded_fen"] = self.refunded(p.rrn)
                row["in_open_batch"] = self.in_open_batch(p)
                out.append(row)
            return out

    def next_reference(self) -> tuple[str, str, datetime]:
        """A fresh RRN (12) and authorisation code (6) for an executed message, and when it executed."""
        now = self._clock()
        self._seq += 1
        return f"{now.astimezone(SHANGHAI):%m%d}{self._seq:08d}", f"{self.rng.randrange(1_000_000):06d}", now

    def record(self, entry: Entry) -> None:
        self.entries[entry.key] = entry
        self.seen[entry.key] = entry.fingerprint

    def reverse(self, entry: Entry, by: str) -> None:
        if entry.status == EXECUTED:
            entry.status = REVERSED
            entry.reversed_at = self._clock()
            entry.reversed_by = by

    def payment(self, rrn: str) -> Payment | None:
        """The sale under ``rrn``; a completion's sale only while the completion stands (not reversed or
        cancelled)."""
        p = self.payments.get(rrn)
        if p is None or not p.from_completion:
            return p
        standing = any(e.kind in COMPLETIONS and e.rrn == rrn for e in self.live()) and not self.cancelled(rrn)
        return p if standing else None

    def preauth(self, rrn: str) -> PreAuth | None:
        """The pre-authorisation under ``rrn`` while its 预授权 stands (a reversed one was never held)."""
        p = self.preauths.get(rrn)
        entry = self.entries.get(p.key) if p else None
        return p if entry is not None and entry.status == EXECUTED else None

    def hold_state(self, p: PreAuth) -> str:
        """released, completed or held, from the live messages quoting the pre-authorisation."""
        live = [e for e in self.live() if e.original_rrn == p.rrn]
        if any(e.kind == RELEASE for e in live):
            return "released"
        if any(e.kind in COMPLETIONS and not self.cancelled(e.rrn) for e in live):
            return "completed"
        return "held"

    def cancelled(self, completion_rrn: str) -> bool:
        return any(e.kind == COMPLETION_VOID and e.original_rrn == completion_rrn for e in self.live())

    def hold_rows(self, rrn: str) -> list[dict[str, Any]]:
        """Every message the host executed on the pre-authorisation ``rrn`` (and on its completions), reversed ones
        included, with how many times each executed: what a test counts to see an operation done exactly once."""
        with self._lock:
            completions = {e.rrn for e in self.entries.values() if e.original_rrn == rrn and e.kind in COMPLETIONS}
            quoting = {rrn} | completions
            return [e.row() for e in self.entries.values() if e.original_rrn in quoting]

    def live(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.status == EXECUTED]

    def refunded(self, rrn: str) -> int:
        return sum(e.amount_fen for e in self.live() if e.original_rrn == rrn)

    def in_open_batch(self, p: Payment) -> bool:
        return not p.settled and self.open_batches.get(p.terminal_no) == p.batch_no

    def totals(self, terminal_no: str, batch_no: str) -> tuple[int, int, int, int]:
        """(debit amount, count, credit amount, count) of a batch as a UnionPay terminal counts it (and the host
        with it): debit = the terminal's sales in the batch and its 预授权完成 (request and notification);
        credit = its 消费撤销, 退货 and 预授权完成撤销. A voided sale or a cancelled completion stays in debit and
        its void is in credit; 预授权 and 预授权撤销 move no money and are not counted."""
        in_batch = [e for e in self.live() if e.key[:2] == (terminal_no, batch_no)]
        debit = [
            p.amount_fen
            for p in self.payments.values()
            if p.terminal_no == terminal_no and p.batch_no == batch_no and not p.from_completion
        ]
        debit += [e.amount_fen for e in in_batch if e.kind in COMPLETIONS]
        credit = [e.amount_fen for e in in_batch if e.kind in CREDITS]
        return sum(debit), len(debit), sum(credit), len(credit)
