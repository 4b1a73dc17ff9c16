"""What the refund report routes answer (see responses.py for why these models document and do not
re-validate). Definitions of the figures: docs/reports.md."""

from __future__ import annotations

from pydantic import Field

from posrefund.entrypoints.api.responses import Out


class ReportFigures(Out):
    refunds: int = Field(description="cases requested in the cell's days (every outcome)")
    amount_fen: int
    paid: int = Field(description="succeeded")
    paid_fen: int
    failed: int = Field(description="failed or closed")
    failed_fen: int
    abnormal: int
    abnormal_fen: int
    refused: int = Field(description="rejected or cancelled")
    refused_fen: int
    in_progress: int = Field(description="requested, pending review, approved, processing or unknown")
    in_progress_fen: int
    sales: int = Field(description="sales paid in the cell's days (of its store / terminal / channel)")
    sales_fen: int
    rate_count: float | None = Field(description="refunds ÷ sales; null without sales")
    rate_amount: float | None = Field(description="amount_fen ÷ sales_fen")
    paid_rate_amount: float | None = Field(description="paid_fen ÷ sales_fen")
    failed_share: float | None = Field(description="failed ÷ refunds")
    abnormal_share: float | None = Field(description="abnormal ÷ refunds")
    wait_p50_seconds: int | None = Field(description="median request → paid, as its bucket's bound; -1: over 30 days")
    wait_p90_seconds: int | None


class ReportRow(Out):
    key: str = Field(description="the day, Monday of the week, month (YYYY-MM), id or code of the row")
    name: str = Field(description="the store's, terminal's or cashier's name; empty otherwise")
    figures: ReportFigures
    previous: ReportFigures | None = Field(None, description="the same row in the previous period (dimensions)")
    cases: str = Field(description="the cases behind the row")


class ReportPeriod(Out):
    from_: str = Field(alias="from")
    to: str
    days: int | None = None


class DisputeFigures(Out):
    by_status: dict[str, int]
    claimed_fen: int


class RefundReport(Out):
    period: ReportPeriod
    previous_period: ReportPeriod
    by: str
    currency: str
    source: str = Field(description="aggregates (daily aggregates) or cases (read from the cases)")
    pending_days: list[str] = Field(
        description="days (of the period or the previous one) changed since the aggregates were last rebuilt: "
        "their figures may be behind until the worker's next pass (about a minute); source=cases is always current"
    )
    rows: list[ReportRow]
    total: ReportFigures
    previous_total: ReportFigures
    wrong_charges: dict[str, int] = Field(description="wrong charges (错收) opened in the period, by status")
    disputes: DisputeFigures


class ReportCaseItem(Out):
    id: str
    refund_no: str
    status: str
    amount_fen: int
    currency: str
    created_at: str
    store_id: str
    terminal_id: str
    href: str


class ReportCaseList(Out):
    items: list[ReportCaseItem]
    total: int
