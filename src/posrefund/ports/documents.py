"""Printable documents: what a document is made of (headings, fields, tables, signature lines), the renderer
that turns one into a PDF, the mailer that sends one as an attachment, and the storage of the bank
applications (退费申请) and of the refund-cause summaries' subscriptions and deliveries.

A document is plain data, so the same content becomes a PDF (``PdfRenderer``) and an HTML page (the console's
template) without being written twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, TypedDict, runtime_checkable

from posrefund.domain.notification import SendResult
from posrefund.domain.reports import Period


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    level: int = 1  # 1: the document's title, 2: a section


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str


@dataclass(frozen=True, slots=True)
class Fields:
    """Label → value pairs, one per line (the application form's boxes)."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = "—"  # said instead of an empty table


@dataclass(frozen=True, slots=True)
class Signatures:
    """Lines to sign and date by hand (申请人签字、商户盖章 …)."""

    labels: tuple[str, ...]


Block = Heading | Paragraph | Fields | Table | Signatures


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    blocks: tuple[Block, ...]
    footer: str = ""  # printed at the foot of every page (who made it, when)
    keywords: tuple[str, ...] = field(default_factory=tuple)


class PdfRenderer(Protocol):
    def render(self, document: Document) -> bytes:
        """The document as PDF bytes, its text extractable (fonts embedded, Chinese included)."""
        ...


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mime: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class DocumentMail:
    to: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...]
    message_id: str  # stable: a repeat after a crash is the same message to the receiving system


@runtime_checkable
class DocumentMailer(Protocol):
    def send_document(self, mail: DocumentMail) -> SendResult: ...


# ---- bank applications (退费申请) ----


class BankApplicationState(TypedDict):
    status: str
    reason: str
    statement: str
    evidence_ids: str  # JSON list
    attachments: str  # JSON list of documents handed over on paper
    submitted_on: date | None
    channel: str
    bank: str
    bank_reference: str
    deadline: date | None
    outcome_on: date | None
    bank_reply: str
    updated_by: str
    updated_at: datetime


class BankApplicationRow(BankApplicationState):
    id: str
    merchant_id: str
    case_id: str
    prepared_by: str
    prepared_at: datetime
    version: int


class BankApplicationRepo(Protocol):
    def add_application(self, row: BankApplicationRow) -> None: ...

    def get_application(self, merchant_id: str, application_id: str) -> BankApplicationRow | None: ...

    def applications_of_case(self, merchant_id: str, case_id: str) -> list[BankApplicationRow]:
        """Oldest first."""
        ...

    def save_application(self, application_id: str, version: int, values: BankApplicationState) -> bool:
        """Compare-and-set on the version; False when someone else changed it first."""
        ...

    def overdue(self, merchant_id: str, today: date, limit: int) -> list[BankApplicationRow]:
        """Submitted applications whose answer was due before ``today``, the longest overdue first."""
        ...


# ---- refund-cause summaries (退款原因周报 / 月报) ----


class SubscriptionRow(TypedDict):
    id: str
    merchant_id: str
    user_id: str
    cadence: str  # weekly | monthly
    store_ids: str  # JSON list; [] = every store
    email_enc: str
    email_masked: str
    language: str
    active: bool
    created_at: datetime
    updated_at: datetime


class DeliveryRow(TypedDict):
    subscription_id: str
    period_key: str  # 2026-11 or the Monday of the week (2026-11-23)
    merchant_id: str
    status: str  # claimed | sent | failed
    claimed_at: datetime
    sent_at: datetime | None
    attempts: int
    error: str
    message_id: str


@dataclass(frozen=True, slots=True)
class SummaryCase:
    """A refund case a summary names (the largest, the slowest, the abnormal, the still open)."""

    id: str
    refund_no: str
    store_id: str
    terminal_id: str
    reason: str
    status: str
    amount_fen: int
    created_at: datetime
    succeeded_at: datetime | None


# Which cases ``notable`` lists: the largest, the slowest paid, the failed / abnormal / unknown, the still open.
NOTABLE = ("largest", "slowest", "abnormal", "open")


class SummaryRepo(Protocol):
    def reason_counts(
        self, merchant_id: str, store_ids: tuple[str, ...], period: Period
    ) -> list[tuple[str, str, str, int]]:
        """(store, terminal, reason, refunds) of the cases requested in the local days of ``period``."""
        ...

    def notable(
        self, merchant_id: str, store_ids: tuple[str, ...], period: Period, kind: str, limit: int
    ) -> list[SummaryCase]: ...

    def put_subscription(self, row: SubscriptionRow) -> None:
        """Insert, or replace the user's subscription of the same cadence."""
        ...

    def subscriptions(self, merchant_id: str | None, cadence: str) -> list[SubscriptionRow]:
        """Active ones, of one merchant or (None) of all."""
        ...

    def subscription_of(
        self, merchant_id: str, user_id: str, cadence: str, *, active_only: bool = True
    ) -> SubscriptionRow | None: ...

    def end_subscription(self, merchant_id: str, user_id: str, cadence: str, now: datetime) -> bool: ...

    def claim_delivery(self, row: DeliveryRow, stale_before: datetime, max_attempts: int) -> bool:
        """Take the (subscription, period) delivery: insert it, or take over one that failed or whose claim
        went stale. False when it was sent, is being sent by someone else, or was given up."""
        ...

    def finish_delivery(self, subscription_id: str, period_key: str, ok: bool, error: str, now: datetime) -> None: ...

    def deliveries(self, merchant_id: str, period_key: str) -> list[DeliveryRow]: ...
