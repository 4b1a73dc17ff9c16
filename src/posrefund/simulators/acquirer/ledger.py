"""The acquirer host's books: the sales it captured, an open batch per terminal that ``settle()`` closes, the
executed voids and refunds keyed by refund_no, and a journal of the messages that moved money, by which a
reversal (terminal 41 + trace 11) finds what to undo."""

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
class Journal:
    """An answered-or-dropped void/refund message that applied an effect, for reversals to find by (terminal, trace)."""

    refund_no: str
    amount_fen: int
    execution: int


@dataclass(slots=True)
class Execution:
    """What a void or refund message asks to execute, as the host read it."""

    refund_no: str
    kind: str
    amount_fen: int
    original_rrn: str
    terminal_no: str
    merchant_no: str
    stan: str


class HostLedger(RefundLedger):
    """Payments, batches, entries and journal. Callers that need several steps at once hold ``lock``."""

    def __init__(self, clock: Callable[[], datetime], faults: FaultPlan, rng: random.Random) -> None:
        super().__init__(clock, faults)
        self._rng = rng
        self._seq = 0
        self.payments: dict[str, Payment] = {}
        self.open_batches: dict[str, str] = {}
        self.entries: dict[str, LedgerEntry] = {}
        self.journal: dict[tuple[str, str], Journal] = {}

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
                if closing is None:
                    continue
                for p in self.payments.values():
                    if p.terminal_no == term and p.batch_no == closing:
                        p.settled = True
                self.open_batches[term] = f"{(int(closing) + 1) % 1_000_000:06d}"
            return {t: self.open_batches[t] for t in terminals if t in self.open_batches}

    def _rows(self) -> list[dict[str, Any]]:
        return [e.as_dict() for e in self.entries.values()]

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

    def execute(self, ask: Execution, previous: LedgerEntry | None) -> LedgerEntry:
        """Move the money: a new entry (or a re-execution after a reversal), journalled under its trace."""
        now = self._clock()
        local = now.astimezone(SHANGHAI)
        self._seq += 1
        entry = LedgerEntry(
            refund_no=ask.refund_no,
            kind=ask.kind,
            amount_fen=ask.amount_fen,
            original_rrn=ask.original_rrn,
            channel_refund_id=f"{local:%m%d}{self._seq:08d}",
            auth_code=f"{self._rng.randrange(1_000_000):06d}",
            terminal_no=ask.terminal_no,
            merchant_no=ask.merchant_no,
            batch_no=self.open_batches.get(ask.terminal_no, "000000"),
            stan=ask.stan,
            local_date=f"{local:%m%d}",
            local_time=f"{local:%H%M%S}",
            executed_at=now,
            execution=previous.execution + 1 if previous else 1,
        )
        self.entries[entry.refund_no] = entry
        self.record_journal(ask.terminal_no, ask.stan, ask.amount_fen, entry)
        return entry

    def record_journal(self, terminal_no: str, stan: str, amount_fen: int, entry: LedgerEntry) -> None:
        self.journal[(terminal_no, stan)] = Journal(entry.refund_no, amount_fen, entry.execution)

    def reverse(self, terminal_no: str, stan: str, refund_no: str, amount_fen: int | None) -> bool:
        """Undo the execution the message (terminal, trace) caused; False when there is nothing it names."""
        found = self.journal.get((terminal_no, stan))
        if not (found and found.refund_no == refund_no and found.amount_fen == amount_fen):
            return False
        entry = self.entries[refund_no]
        if entry.status == EXECUTED and entry.execution == found.execution:
            entry.status = REVERSED
            entry.reversed_at = self._clock()
        return True

    def live_entries(self) -> list[LedgerEntry]:
        return [e for e in self.entries.values() if e.status == EXECUTED]

    def refunded(self, rrn: str) -> int:
        return sum(e.amount_fen for e in self.live_entries() if e.original_rrn == rrn)

    def in_open_batch(self, p: Payment) -> bool:
        return not p.settled and self.open_batches.get(p.terminal_no) == p.batch_no
