"""What the refund reports need from storage: the daily aggregates (kept up by the days marked as changed),
the same figures read from the cases themselves, and the cases behind one cell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from posrefund.domain.reports import By, Period, Tally


@dataclass(frozen=True, slots=True)
class ReportScope:
    """One merchant's cases of one currency over local days, narrowed by the filters given (None: any)."""

    merchant_id: str
    period: Period
    currency: str = "CNY"
    store_id: str | None = None
    channel: str | None = None
    terminal_id: str | None = None
    cashier_id: str | None = None
    reasons: tuple[str, ...] | None = None
    route: str | None = None
    statuses: tuple[str, ...] | None = None

    @property
    def needs_cases(self) -> bool:
        """The aggregates keep store and channel as key columns; any other filter is read from the cases."""
        return any(v is not None for v in (self.terminal_id, self.cashier_id, self.reasons, self.route, self.statuses))


@dataclass(frozen=True, slots=True)
class ReportCase:
    id: str
    refund_no: str
    status: str
    amount_fen: int
    currency: str
    created_at: datetime
    store_id: str
    terminal_id: str


@dataclass(frozen=True, slots=True)
class SideFigures:
    """Wrong charges found and disputes opened in the period, beside the refunds (whole merchant)."""

    wrong_charges: dict[str, int]
    disputes: dict[str, int]
    disputed_fen: int


# A stored grouping: the rows the repository returns (weeks, months and reason categories are folded by the
# service); None: one total row under the key "".
Grouping = By | None


class ReportRepo(Protocol):
    def changed_merchants(self) -> list[str]: ...

    def catch_up(self, merchant_id: str) -> int:
        """Rebuild the merchant's days marked as changed (taking the marks); the number of days rebuilt."""
        ...

    def pending_days(self, merchant_id: str, first: date, last: date) -> list[date]:
        """Days of the range marked as changed and not yet rebuilt (their aggregates may be behind)."""
        ...

    def mark_days(self, merchant_id: str, first: date, last: date) -> int:
        """Mark every day of a range for rebuilding (after data came in outside the repositories)."""
        ...

    def refund_cells(self, scope: ReportScope, by: Grouping, *, raw: bool) -> dict[str, Tally]: ...

    def sale_cells(self, scope: ReportScope, by: Grouping, *, raw: bool) -> dict[str, tuple[int, int]]: ...

    def cases(self, scope: ReportScope, limit: int, offset: int) -> tuple[list[ReportCase], int]: ...

    def side_figures(self, merchant_id: str, period: Period) -> SideFigures: ...

    def names(self, merchant_id: str, by: By, keys: Sequence[str]) -> dict[str, str]:
        """People's names for stores, terminals and cashiers (their ids are the keys)."""
        ...
