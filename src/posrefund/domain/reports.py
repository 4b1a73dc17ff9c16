"""Refund reports (退款报表): what a figure counts, how a case falls into a cell, and the arithmetic of rates,
percentiles and periods. Pure: the aggregates in the database and the raw path both tally with ``tally``, so
the two ways of reading a month cannot disagree on what a figure means (docs/reports.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from enum import StrEnum

from posrefund.domain.errors import Invalid
from posrefund.domain.refund import RefundStatus

S = RefundStatus


class Outcome(StrEnum):
    """Where a case ended up (or stands), in the groups a report counts."""

    PAID = "paid"
    FAILED = "failed"
    ABNORMAL = "abnormal"
    REFUSED = "refused"
    IN_PROGRESS = "in_progress"


OUTCOME_OF: dict[str, Outcome] = {
    S.SUCCEEDED.value: Outcome.PAID,
    S.FAILED.value: Outcome.FAILED,
    S.CLOSED.value: Outcome.FAILED,
    S.ABNORMAL.value: Outcome.ABNORMAL,
    S.REJECTED.value: Outcome.REFUSED,
    S.CANCELLED.value: Outcome.REFUSED,
    S.REQUESTED.value: Outcome.IN_PROGRESS,
    S.PENDING_REVIEW.value: Outcome.IN_PROGRESS,
    S.APPROVED.value: Outcome.IN_PROGRESS,
    S.PROCESSING.value: Outcome.IN_PROGRESS,
    S.UNKNOWN.value: Outcome.IN_PROGRESS,
}


class By(StrEnum):
    """What a report's rows are: a time bucket or one dimension of the case."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    STORE = "store"
    TERMINAL = "terminal"
    CASHIER = "cashier"
    CHANNEL = "channel"
    REASON = "reason"
    REASON_CATEGORY = "reason_category"
    ROUTE = "route"
    OUTCOME = "outcome"


TIME = frozenset({By.DAY, By.WEEK, By.MONTH})
# The dimensions kept as rows of their own in the daily aggregates (store and channel are key columns there;
# time buckets and the reason's category are folded from the "all" and "reason" rows).
STORED = ("all", "terminal", "cashier", "reason", "route", "outcome")
# Dimensions sales also have: a row's refund rate divides by the sales of the same store / terminal / channel.
SALES_SHARE = frozenset({By.DAY, By.WEEK, By.MONTH, By.STORE, By.TERMINAL, By.CHANNEL})

REASON_CATEGORY: dict[str, str] = {
    "goods_quality": "merchant",
    "service_issue": "merchant",
    "customer_cancelled": "customer",
    "deposit_return": "customer",
    "transaction_error": "error",
    "wrong_amount": "error",
    "duplicate_charge": "error",
    "system_fault": "error",
    "other": "other",
}
ORIGINAL, ALTERNATIVE = "original", "alternative"

# Time to money (request → paid), in seconds: a paid case counts in the first bucket whose bound it does not
# pass; the last bucket is open ("more than 30 days"). A percentile is reported as its bucket's bound.
WAIT_BOUNDS: tuple[int, ...] = (
    60,
    300,
    900,
    1800,
    3600,
    2 * 3600,
    4 * 3600,
    8 * 3600,
    86400,
    2 * 86400,
    3 * 86400,
    5 * 86400,
    7 * 86400,
    14 * 86400,
    30 * 86400,
)
WAIT_BUCKETS = len(WAIT_BOUNDS) + 1
MAX_DAYS = 366


def wait_bucket(seconds: float) -> int:
    for i, bound in enumerate(WAIT_BOUNDS):
        if seconds <= bound:
            return i
    return len(WAIT_BOUNDS)


def percentile_bound(waits: Sequence[int], p: int) -> int | None:
    """The bound of the bucket holding the ``p``-th percentile (nearest rank: the ⌈p·n/100⌉-th smallest);
    None when nothing was paid, -1 for the open last bucket."""
    n = sum(waits)
    if n == 0:
        return None
    rank = -(-p * n // 100)
    seen = 0
    for i, count in enumerate(waits):
        seen += count
        if seen >= rank:
            return WAIT_BOUNDS[i] if i < len(WAIT_BOUNDS) else -1
    return -1  # pragma: no cover - the loop always reaches the rank


@dataclass(slots=True)
class Tally:
    """One cell's counts and sums (fen) by outcome, and its time-to-money histogram."""

    refunds: int = 0
    amount_fen: int = 0
    paid: int = 0
    paid_fen: int = 0
    failed: int = 0
    failed_fen: int = 0
    abnormal: int = 0
    abnormal_fen: int = 0
    refused: int = 0
    refused_fen: int = 0
    waits: list[int] = field(default_factory=lambda: [0] * WAIT_BUCKETS)

    def count(self, status: str, amount_fen: int, wait_seconds: float | None) -> None:
        self.refunds += 1
        self.amount_fen += amount_fen
        outcome = OUTCOME_OF[status]
        if outcome is not Outcome.IN_PROGRESS:
            name = outcome.value
            setattr(self, name, getattr(self, name) + 1)
            setattr(self, f"{name}_fen", getattr(self, f"{name}_fen") + amount_fen)
        if outcome is Outcome.PAID and wait_seconds is not None:
            self.waits[wait_bucket(wait_seconds)] += 1

    def add(self, other: Tally) -> None:
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.waits = [a + b for a, b in zip(self.waits, other.waits, strict=True)]

    def values(self) -> tuple[int, ...]:
        """The counts as stored: ``COUNT_FIELDS`` then the histogram."""
        return (*(getattr(self, name) for name in COUNT_FIELDS), *self.waits)

    @classmethod
    def of(cls, values: Sequence[int]) -> Tally:
        n = len(COUNT_FIELDS)
        return cls(
            **dict(zip(COUNT_FIELDS, (int(v or 0) for v in values[:n]), strict=True)),
            waits=[int(v or 0) for v in values[n:]],
        )


COUNT_FIELDS = tuple(f.name for f in fields(Tally) if f.name != "waits")
WAIT_COLUMNS = tuple(f"wait_{i}" for i in range(WAIT_BUCKETS))


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What a report needs of one refund case."""

    store_id: str
    terminal_id: str
    cashier_id: str
    channel: str
    reason: str
    rerouted_by: str
    status: str
    currency: str
    amount_fen: int
    created_at: datetime
    succeeded_at: datetime | None

    @property
    def route(self) -> str:
        return ALTERNATIVE if self.rerouted_by else ORIGINAL

    def value_of(self, dimension: str) -> str:
        """The case's value in one stored dimension ("all" has the one value "")."""
        return {
            "all": "",
            "terminal": self.terminal_id,
            "cashier": self.cashier_id,
            "reason": self.reason,
            "route": self.route,
            "outcome": self.status,
        }[dimension]

    @property
    def wait_seconds(self) -> float | None:
        if self.succeeded_at is None:
            return None
        return max(0.0, (self.succeeded_at - self.created_at).total_seconds())


CellKey = tuple[str, str, str, str, str]  # currency, store, channel, dimension, value


def tally(cases: Iterable[CaseFacts]) -> dict[CellKey, Tally]:
    """Each case counted once in every stored dimension, under its currency, store and channel."""
    cells: dict[CellKey, Tally] = {}
    for case in cases:
        wait = case.wait_seconds
        for dimension in STORED:
            key = (case.currency, case.store_id, case.channel, dimension, case.value_of(dimension))
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = Tally()
            cell.count(case.status, case.amount_fen, wait)
    return cells


@dataclass(frozen=True, slots=True)
class Period:
    """Local (Asia/Shanghai) days ``first`` to ``last``, both included."""

    first: date
    last: date

    @classmethod
    def checked(cls, first: date, last: date) -> Period:
        if last < first or (last - first).days + 1 > MAX_DAYS:
            raise Invalid("report.bad_range", max_days=MAX_DAYS)
        return cls(first, last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))


def time_key(day: date, by: By) -> str:
    """The row a day falls in: the day, the Monday of its ISO week, or its month."""
    if by is By.WEEK:
        return (day - timedelta(days=day.weekday())).isoformat()
    if by is By.MONTH:
        return day.strftime("%Y-%m")
    return day.isoformat()


def days_of_key(key: str, by: By) -> Period:
    """The days a time row covers (the inverse of ``time_key``), for the cases behind it."""
    try:
        if by is By.MONTH:
            first = date.fromisoformat(key + "-01")
            nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
            return Period(first, nxt - timedelta(days=1))
        first = date.fromisoformat(key)
    except ValueError:
        raise Invalid("report.bad_key", key=key[:40]) from None
    if by is By.WEEK:
        if first.weekday() != 0:
            raise Invalid("report.bad_key", key=key)
        return Period(first, first + timedelta(days=6))
    return Period(first, first)


def ratio(part: int, whole: int) -> float | None:
    """A share rounded to six places; None when there is nothing to divide by."""
    return None if whole == 0 else round(part / whole, 6)


def fold(cells: Mapping[str, Tally], key_of: dict[str, str]) -> dict[str, Tally]:
    """Rows merged under new keys (days into weeks or months, reasons into their categories)."""
    out: dict[str, Tally] = {}
    for key, cell in cells.items():
        target = out.setdefault(key_of.get(key, key), Tally())
        target.add(cell)
    return out
