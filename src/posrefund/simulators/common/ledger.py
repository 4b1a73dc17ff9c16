"""What every simulated counterpart's books do, whatever its protocol: record the payments it knows, record
the refunds it took, look one up, let one settle, and plan faults for a refund number. One lock guards each book,
so a refund number is executed at most once whatever the client does (concurrent repeats included).

The ledger reads the same on every simulator (``ledger()``, ``GET /__sim__/ledger``): one row per refund, with at
least ``key`` (the refund number, or a card host's ``terminal:batch:trace``), ``refund_no``, ``amount_fen``,
``executed`` (the money moved and stays moved), ``reversed`` (it moved and was undone) and ``requests`` (refund
requests received for it, repeats included; None where the simulator does not count them)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any

from posrefund.simulators.common.faults import Fault, FaultPlan

LEDGER_KEYS = ("key", "refund_no", "amount_fen", "executed", "reversed", "requests")


class RefundLedger(ABC):
    """The common base. A subclass keeps its own payments and refunds and says how a refund looks in
    ``ledger()`` (one row per refund, with at least ``refund_no``, ``amount_fen`` and ``executed``; ``reversed``
    defaults to a ``status`` of "reversed"; the keys of ``LEDGER_KEYS`` are filled in here)."""

    def __init__(self, clock: Callable[[], datetime], faults: FaultPlan) -> None:
        self._clock = clock
        self.faults = faults
        self._lock = threading.RLock()
        self._requests: dict[str, int] = {}

    def count_request(self, refund_no: str) -> None:
        """One more refund request received for ``refund_no`` (called by the protocol code, repeats included)."""
        with self._lock:
            self._requests[refund_no] = self._requests.get(refund_no, 0) + 1

    # ---- faults ------------------------------------------------------------------------------------------

    def set_fault(self, refund_no: str, fault: Fault) -> None:
        """Plan a fault for one refund number; several may be planned for one number."""
        with self._lock:
            self.faults.plan(refund_no, fault)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    # ---- payments, refunds, look-ups ---------------------------------------------------------------------

    def _paid_at(self, amount_fen: int, paid_at: datetime | None) -> datetime:
        """A payment's time, checked: the amount is positive fen and the time zone is known."""
        if amount_fen <= 0:
            raise ValueError("total_fen must be positive")
        paid = paid_at or self._clock()
        if paid.tzinfo is None:
            raise ValueError("paid_at must be timezone-aware")
        return paid

    def ledger(self) -> list[dict[str, Any]]:
        """Every refund taken, one row per refund number, in the order they came."""
        with self._lock:
            return [self._shared_keys(row) for row in self._rows()]

    def _shared_keys(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row with the keys every simulator's ledger has."""
        refund_no = str(row.get("refund_no") or "")
        key = refund_no or f"{row.get('terminal_no', '')}:{row.get('batch_no', '')}:{row.get('stan', '')}"
        shared = {
            "key": key,
            "refund_no": refund_no,
            "reversed": str(row.get("status", "")).lower() == "reversed",
            "requests": self._requests.get(refund_no) if self._requests else None,
        }
        return shared | row

    def lookup(self, refund_no: str) -> dict[str, Any] | None:
        """The ledger row of one refund number, or None."""
        return next((row for row in self.ledger() if row["refund_no"] == refund_no), None)

    @abstractmethod
    def _rows(self) -> list[dict[str, Any]]:
        """The ledger rows; called under the lock."""

    @abstractmethod
    def settle(self, key: str | None = None) -> Any:
        """Let time pass: what was still in progress reaches its end (for a refund number, or a terminal's
        batch at a card acquirer)."""


class KeepsBooks:
    """The simulator's face of its book, the same on every simulator: plan faults, read the ledger."""

    book: RefundLedger

    def set_fault(
        self,
        refund_no: str,
        fault: str,
        *,
        applied: bool | None = None,
        code: str = "",
        times: int | None = None,
        seconds: float | None = None,
    ) -> None:
        """Plan a fault for one refund number (a canonical name the simulator supports, or one of its own
        ``FAULTS``); several may be planned for one number. What ``applied``, ``code``, ``times`` and ``seconds``
        mean is on ``Fault``; an unsupported name raises ``UnsupportedFault``."""
        self.book.set_fault(refund_no, Fault(fault, applied, code, times, seconds))

    def supported_faults(self) -> list[str]:
        """The canonical faults this simulator supports."""
        return self.book.faults.supported

    def clear_faults(self) -> None:
        self.book.clear_faults()

    def ledger(self) -> list[dict[str, Any]]:
        """Every refund taken, one row per refund number (``executed``: the money moved)."""
        return self.book.ledger()
