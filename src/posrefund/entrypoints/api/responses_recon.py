"""What the reconciliation and wrong-charge routes answer (see responses.py for why these models document
and do not re-validate)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, with_config

from posrefund.entrypoints.api.responses import Out, RefundOut
from posrefund.ports.reconciliation import SettlementFileFacts


class BadLine(Out):
    line_no: int
    reason: str
    excerpt: str


class Notice(Out):
    code: str = Field(description="`recon.file_duplicate`: this content was imported before")
    message: str
    params: dict[str, Any]


class ImportReport(Out):
    file_id: str
    fingerprint: str = Field(description="SHA-256 of the file's text (any line endings, BOM or encoding)")
    duplicate: bool
    lines: int
    bad_lines: int
    overlap_lines: int = Field(description="lines an earlier file already holds: counted once, there")
    first_date: str | None
    last_date: str | None
    bad: list[BadLine]
    notice: Notice | None


class RefundImportReport(Out):
    rows: int
    imported: int = Field(description="refunds recorded as succeeded on the channel's word")
    duplicates: int = Field(description="refund nos. already recorded for the same sale and amount: skipped")
    naive_times: int = Field(description="times without an offset, read in the merchant's time zone")
    refund_ids: list[str]


class RowRefusal(Out):
    line: int = Field(description="the line of the file (the header is line 1)")
    code: str
    params: dict[str, Any]
    message: str = Field(description="in the caller's language (Accept-Language)")


class SaleImportReport(Out):
    rows: int
    imported: int = Field(description="sales recorded")
    duplicates: int = Field(description="sales already recorded (or twice in the file): skipped")
    naive_times: int = Field(description="times without an offset, read in the merchant's time zone")
    errors: list[RowRefusal] = Field(description="the rows refused, each with its line; the others are imported")


class StaleRun(Out):
    id: str
    source: str
    date_from: str
    date_to: str


class Withdrawal(Out):
    file_id: str
    withdrawn_at: str | None
    reason: str
    lines_removed: int
    stale_runs: list[StaleRun] = Field(description="runs that read the file: run the same dates again")


@with_config(ConfigDict(extra="forbid"))
class SettlementFile(SettlementFileFacts):
    first_date: str | None
    last_date: str | None
    imported_by: str
    imported_at: str | None
    overlap_count: int
    finished_at: Annotated[str | None, Field(description="when its import finished; None: it counts nowhere yet")]
    heartbeat_at: Annotated[str | None, Field(description="while an import runs: when it last wrote a batch")]
    state: Annotated[
        str,
        Field(
            description="`imported` (it counts), `withdrawn`, `importing`, or `interrupted`: its import died "
            "midway and is cleared by the merchant's next import (the same file can then be imported again)"
        ),
    ]
    withdrawn_at: str | None
    withdrawn_by: str
    withdraw_reason: str
    bad: list[BadLine]


class Run(Out):
    id: str
    source: str
    date_from: str
    date_to: str
    file_ids: list[str]
    window_seconds: int
    totals: dict[str, Any] = Field(description="line and ledger counts and sums (fen), discrepancies by class")
    created_at: str | None
    created: bool
    changed: bool
    stale_at: str | None = Field(default=None, description="a file it read was withdrawn since: run it again")
    stale_reason: str = ""


class Discrepancy(Out):
    id: int
    run_id: str
    class_: str = Field(alias="class")
    line_id: int | None
    sale_id: str | None
    refund_id: str | None
    duplicate_of_line_id: int | None
    ours_fen: int | None
    theirs_fen: int | None
    ours_status: str | None
    theirs_status: str | None
    found_at: str | None
    cleared_at: str | None
    resolution: str | None
    wrong_charge_id: str | None


class DiscrepancyWithLine(Discrepancy):
    line: dict[str, Any] | None = Field(description="the settlement file's line, as imported")


class DiscrepancyPage(Out):
    items: list[Discrepancy]
    total: int
    limit: int
    offset: int


class WrongCharge(Out):
    id: str
    discrepancy_id: int
    run_id: str
    class_: str = Field(alias="class")
    sale_id: str | None
    line_id: int | None
    evidence_ids: list[str]
    cause: str
    responsible: str
    analysis: str
    contact_method: str
    contact_note: str
    contacted_at: str | None
    status: str
    correction_refund_id: str | None
    created_by: str
    created_at: str | None
    updated_at: str | None
    version: int


class WrongChargeCase(WrongCharge):
    """A wrong charge as read: with its correction's status, its discrepancy and its audit trail."""

    correction_status: str | None
    discrepancy: Discrepancy | None
    events: list[dict[str, Any]]


class Correction(Out):
    wrong_charge: WrongCharge
    refund: RefundOut


class FeeRate(Out):
    channel: str
    rate_bp: int
    large_rate_bp: int | None
    large_from_fen: int | None


class FeeRateList(Out):
    items: list[FeeRate]
