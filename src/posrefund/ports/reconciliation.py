"""Reconciliation: settlement files, fee rates, runs, their discrepancies, wrong charges, and ledger reads."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NotRequired, Protocol, TypedDict

from typing_extensions import TypedDict as PortableTypedDict

from posrefund.domain.reconciliation import FeeRate


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One reconciliation: a merchant's channel over local dates ``date_from``…``date_to`` and a file set."""

    run_id: str
    merchant_id: str
    source: str
    date_from: date
    date_to: date
    file_ids: tuple[str, ...]
    window_seconds: int


@dataclass(frozen=True, slots=True)
class StagedBatch:
    """What staging some lines of a file came to: lines kept, lines unreadable, lines an earlier file already
    holds (kept, counted once), and the first and last settlement date among them."""

    good: int = 0
    bad: int = 0
    overlap: int = 0
    first: date | None = None
    last: date | None = None

    def __add__(self, other: StagedBatch) -> StagedBatch:
        firsts = [d for d in (self.first, other.first) if d is not None]
        lasts = [d for d in (self.last, other.last) if d is not None]
        return StagedBatch(
            self.good + other.good,
            self.bad + other.bad,
            self.overlap + other.overlap,
            min(firsts, default=None),
            max(lasts, default=None),
        )


@dataclass(frozen=True, slots=True)
class InUse:
    """What a withdrawn file's line would leave without its proof: a handled discrepancy or a wrong-charge case."""

    what: str  # "discrepancy" / "wrong_charge"
    id: str
    line_no: int


@dataclass(frozen=True, slots=True)
class RefundLineQuery:
    """The acquirer's line of one card refund, by what a card file carries: the terminal, the amount, a refund
    line, and our refund no. or the original sale's RRN or voucher no.; lines in ``skip`` are taken already."""

    merchant_id: str
    refund_id: str
    channel_refund_id: str  # the acquirer's reference of this refund, when it ever gave one
    file_ids: tuple[str, ...] | None  # None: every imported file of the merchant
    date_from: date
    date_to: date
    terminal_no: str
    amount_fen: int
    refund_no: str
    sale_rrn: str
    sale_voucher_no: str
    skip: frozenset[int] = frozenset()
    free_only: bool = True  # False: any such line, even one another refund claims (to prove absence)


# "class" is a keyword, hence the functional form.
DiscrepancyRow = TypedDict(
    "DiscrepancyRow",
    {
        "id": int,
        "run_id": str,
        "merchant_id": str,
        "class": str,
        "line_id": int,
        "sale_id": str,
        "refund_id": str,
        "other_line_id": int,
        "ours_fen": int | None,
        "theirs_fen": int | None,
        "ours_status": str,
        "theirs_status": str,
        "found_at": datetime,
        "cleared_at": datetime | None,
        "resolution": str,
        "wrong_charge_id": str,
    },
)
"""A discrepancy of a run: 0 and "" stand for the line, sale or refund it does not have."""


class SettlementFileFacts(PortableTypedDict):
    """What a settlement file is, the same where it is stored and where the API shows it (``SettlementFile``
    there adds the dates and the import, as text)."""

    id: str
    merchant_id: str
    source: str
    fingerprint: str
    filename: str
    size: int
    line_count: int
    bad_count: int


class NewSettlementFileRow(SettlementFileFacts):
    """A settlement file as first written, before its lines are staged (the counts are 0 until then)."""

    imported_by: str
    imported_at: datetime


class SettlementFileRow(NewSettlementFileRow):
    """An imported settlement file: its business-date span is None when no line was readable; lines another
    file already held (counted there); when its import finished (None: never yet, its lines count nowhere) and,
    while one runs, when it last wrote a batch; when, by whom and why it was withdrawn (None: it counts)."""

    first_date: date | None
    last_date: date | None
    overlap_count: int
    finished_at: datetime | None
    heartbeat_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_by: str
    withdraw_reason: str


class LineTotals(TypedDict, total=False):
    """Counts and sums (fen) of a run's settlement lines, three keys a kind of line (sale, refund, void) that
    the files hold, and of the ledger's sales in the run's scope (those two keys are always there)."""

    lines_sale: int
    lines_sale_fen: int
    lines_sale_fee_fen: int
    lines_refund: int
    lines_refund_fen: int
    lines_refund_fee_fen: int
    lines_void: int
    lines_void_fen: int
    lines_void_fee_fen: int
    ledger_sales: int
    ledger_sales_fen: int


class RunTotals(LineTotals, total=False):
    """A run's figures as finance reads them, stored as one flat JSON object: its line totals, what matched
    and its open discrepancies by class (every class named). Empty until the run has counted."""

    matched_sales: int
    matched_refunds: int
    discrepancies: dict[str, int]
    open_discrepancies: int
    complete: bool  # every line of every file was read: only such a run settles an unknown refund
    unknown_succeeded: int  # unknown card refunds its files showed paid
    unknown_failed: int  # unknown card refunds absent from two complete business days' files


class ReconRunRow(TypedDict):
    """A run as stored, its file set and totals decoded from JSON (the totals are empty until it has run)."""

    id: str
    merchant_id: str
    source: str
    date_from: date
    date_to: date
    run_key: str
    file_ids: list[str]
    window_seconds: int
    totals: RunTotals
    created_by: str
    created_at: datetime
    updated_at: datetime
    stale_at: NotRequired[datetime | None]  # a file it read was withdrawn (None: its findings stand)
    stale_reason: NotRequired[str]


# "class" is a keyword, hence the functional form.
WrongChargeRow = TypedDict(
    "WrongChargeRow",
    {
        "id": str,
        "merchant_id": str,
        "discrepancy_id": int,
        "run_id": str,
        "class": str,
        "sale_id": str | None,
        "line_id": int | None,
        "evidence_ids": list[str],
        "cause": str,
        "responsible": str,
        "analysis": str,
        "contact_method": str,
        "contact_note": str,
        "contacted_at": datetime | None,
        "status": str,
        "correction_refund_id": str,
        "created_by": str,
        "created_at": datetime,
        "updated_at": datetime,
        "version": int,
    },
)
"""A wrong-charge case as stored, its evidence ids decoded from JSON; "" stands for no contact method or
correction refund yet."""


class BadLineRow(TypedDict):
    """A line of a settlement file that could not be read: where, why, and an excerpt (card numbers masked)."""

    line_no: int
    reason: str
    excerpt: str


class SettlementLineRow(TypedDict):
    """A staged settlement line as the service reads it: which file and line, what kind, when, and the
    channel's own references. The row holds every field the parser read (the settlement adapter's
    ``SettlementLine``), which the API and console show as they are."""

    id: int
    file_id: str
    merchant_id: str
    line_no: int
    kind: str
    occurred_at: datetime
    local_date: date
    amount_fen: int
    rrn: str
    channel_refund_no: str


class DiscrepancyExportRow(DiscrepancyRow):
    """A discrepancy as exported, with its settlement line's references (None where it has no line)."""

    line_no: int | None
    kind: str | None
    occurred_at: datetime | None
    terminal_no: str | None
    voucher_no: str | None
    rrn: str | None
    merchant_order_no: str | None
    merchant_refund_no: str | None
    payer_masked: str | None


class LedgerSaleRow(TypedDict):
    """A recorded sale as its channel would list it in a settlement file (with its terminal's number)."""

    id: str
    channel: str
    terminal_no: str
    voucher_no: str
    rrn: str
    batch_no: str
    auth_code: str
    order_no: str
    amount_fen: int
    fee_fen: int
    paid_at: datetime
    payer_masked: str


class LedgerRefundRow(TypedDict):
    """A refund that reached its channel, as the channel's settlement file would show it."""

    id: str
    sale_id: str
    refund_no: str
    channel_refund_id: str
    amount_fen: int
    status: str
    method: str
    created_at: datetime
    sent_at: datetime | None
    succeeded_at: datetime | None


class SettlementFileRepo(Protocol):
    def file_by_fingerprint(self, merchant_id: str, fingerprint: str) -> SettlementFileRow | None: ...
    def get_file(self, merchant_id: str, file_id: str) -> SettlementFileRow | None: ...
    def add_file(self, row: NewSettlementFileRow) -> None: ...
    def beat(self, file_id: str, now: datetime) -> None: ...
    def finish_file(self, row: NewSettlementFileRow, staged: StagedBatch, now: datetime) -> None: ...
    def stage(self, file_id: str, merchant_id: str, items: Sequence[object]) -> StagedBatch: ...
    def other_merchant_line(self, file_id: str, merchant_no: str) -> tuple[int, str] | None: ...
    def line_outside(self, file_id: str, date_from: date, date_to: date) -> tuple[int, date] | None: ...
    def reopen_file(self, file_id: str, now: datetime) -> None: ...
    def abandoned_imports(self, merchant_id: str, alive_after: datetime) -> list[SettlementFileRow]: ...
    def discard_import(self, merchant_id: str, file_id: str) -> int: ...
    def line_in_use(self, merchant_id: str, file_id: str) -> InUse | None: ...
    def withdraw_file(self, merchant_id: str, file_id: str, actor_id: str, reason: str, now: datetime) -> int: ...
    def mark_runs_stale(self, merchant_id: str, file_id: str, reason: str, now: datetime) -> list[ReconRunRow]: ...
    def refresh_statistics(self) -> None: ...
    def bad_lines(self, file_id: str, limit: int = 100) -> list[BadLineRow]: ...
    def files_for(self, merchant_id: str, source: str, date_from: date, date_to: date) -> list[SettlementFileRow]: ...
    def files(self, merchant_id: str, limit: int) -> list[SettlementFileRow]: ...
    def line(self, merchant_id: str, line_id: int) -> SettlementLineRow | None: ...
    def acquirer_merchant_nos(self, merchant_id: str, file_ids: Sequence[str]) -> tuple[set[str], int]: ...
    def refund_line(self, query: RefundLineQuery) -> SettlementLineRow | None: ...


class FeeRateRepo(Protocol):
    def put_fee_rate(self, merchant_id: str, rate: FeeRate, actor_id: str, now: datetime) -> None: ...
    def fee_rates(self, merchant_id: str) -> list[FeeRate]: ...


class RunFindings(Protocol):
    """What the reconciliation engine found for one run, before it is merged: match counts, line totals, and
    the findings in batches (``class, line_id, sale_id, refund_id, other_line_id, ours_fen, theirs_fen,
    ours_status, theirs_status``). Held outside the operational database until ``close``."""

    matched_sales: int
    matched_refunds: int
    line_totals: LineTotals

    def batches(self, size: int) -> Iterator[list[tuple[Any, ...]]]: ...
    def close(self) -> None: ...


class ReconRunRepo(Protocol):
    def run_by_key(self, merchant_id: str, key: str) -> ReconRunRow | None: ...
    def get_run(self, merchant_id: str, run_id: str) -> ReconRunRow | None: ...
    def runs(self, merchant_id: str, limit: int, offset: int) -> tuple[list[ReconRunRow], int]: ...
    def add_run(self, row: ReconRunRow) -> None: ...
    def set_totals(self, run_id: str, totals: RunTotals, now: datetime) -> None: ...
    def find(self, spec: RunSpec) -> RunFindings: ...
    def merge(self, spec: RunSpec, found: RunFindings, now: datetime) -> dict[str, int]: ...
    def complete_days(self, merchant_id: str, source: str, days: Sequence[date]) -> set[date]: ...


class DiscrepancyRepo(Protocol):
    def open_counts(self, run_id: str) -> dict[str, int]: ...
    def class_sums(self, merchant_id: str, run_id: str) -> dict[str, dict[str, int]]: ...
    def discrepancies(
        self, merchant_id: str, run_id: str, cls: str | None, limit: int, offset: int, include_cleared: bool = False
    ) -> tuple[list[DiscrepancyRow], int]: ...
    def discrepancy_page(
        self, merchant_id: str, run_id: str, cls: str | None, after_id: int, limit: int
    ) -> list[DiscrepancyExportRow]: ...
    def get_discrepancy(self, merchant_id: str, discrepancy_id: int) -> DiscrepancyRow | None: ...
    def resolve_discrepancy(self, discrepancy_id: int, resolution: str, wrong_charge_id: str = "") -> bool: ...


class WrongChargeRepo(Protocol):
    def add_wrong_charge(self, row: WrongChargeRow) -> None: ...
    def get_wrong_charge(self, merchant_id: str, wc_id: str) -> WrongChargeRow | None: ...
    def save_wrong_charge(self, row: WrongChargeRow) -> bool: ...


class LedgerRepo(Protocol):
    """The ledger as a channel would report it, for writing demonstration settlement files."""

    def ledger_sales(
        self, merchant_id: str, channels: Sequence[str], date_from: date, date_to: date
    ) -> Iterator[LedgerSaleRow]: ...
    def ledger_refunds(
        self, merchant_id: str, channels: Sequence[str], date_from: date, date_to: date
    ) -> Iterator[LedgerRefundRow]: ...
