"""What every simulated counterpart's books do, whatever its protocol: record the payments it knows, record
the refunds it took, look one up, let one settle, and plan faults for a refund number. One lock guards each book,
so a refund number is executed at most once whatever the client does (concurrent repeats included)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any

from posrefund.simulators.common.faults import Fault, FaultPlan


class RefundLedger(ABC):
    """The common base. A subclass keeps its own payments and refunds and says how a refund looks in
    ``ledger()`` (one row per refund number, with at least ``refund_no``, ``amount_fen`` and ``executed``)."""

    def __init__(self, clock: Callable[[], datetime], faults: FaultPlan) -> None:
        self._clock = clock
        self.faults = faults
        self._lock = threading.RLock()

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
            return self._rows()

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
        self, refund_no: str, fault: str, *, applied: bool | None = None, code: str = "", times: int | None = None
    ) -> None:
        """Plan a fault for one refund number (names in the simulator's ``FAULTS``); several may be planned for
        one number. What ``applied``, ``code`` and ``times`` mean is on ``Fault``."""
        self.book.set_fault(refund_no, Fault(fault, applied, code, times))

    def clear_faults(self) -> None:
        self.book.clear_faults()

    def ledger(self) -> list[dict[str, Any]]:
        """Every refund taken, one row per refund number (``executed``: the money moved)."""
        return self.book.ledger()
