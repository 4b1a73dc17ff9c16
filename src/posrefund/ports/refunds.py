"""Sales, the refund cases made of them, and the evidence attached to cases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from typing_extensions import TypedDict as PortableTypedDict

from posrefund.domain.policy import RefundPolicy
from posrefund.domain.refund import RefundCase
from posrefund.domain.sale import Sale
from posrefund.domain.sale_items import ItemRefund, SaleLine


class ConcurrentUpdate(Exception):
    """A case changed since it was read (compare-and-set on its version failed): reload and try again."""


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer's contact as stored: ciphertexts, a blind index and the masked forms."""

    phone_enc: str | None = None
    phone_index: str | None = None
    phone_masked: str = ""
    name_enc: str | None = None
    name_masked: str = ""
    id_no_enc: str | None = None
    id_no_masked: str = ""


@dataclass(frozen=True, slots=True)
class SaleStamp:
    """What an import's rows read in bulk get from the service: whose sales they are, who recorded them, when,
    and one new id per clean row (in the table's order)."""

    merchant_id: str
    sold_by: str
    created_at: datetime
    ids: Sequence[str]


@dataclass(frozen=True, slots=True)
class SaleQuery:
    voucher_no: str | None = None
    order_no: str | None = None
    last4: str | None = None
    amount_fen: int | None = None
    local_date: date | None = None
    limit: int = 50
    terminal_id: str | None = None  # a terminal's key finds its own terminal's sales only


@dataclass(frozen=True, slots=True)
class RefundQuery:
    status: str | None = None
    store_id: str | None = None
    terminal_id: str | None = None
    sale_id: str | None = None
    phone_index: str | None = None
    requested_by: str | None = None  # one operator's own requests ("my refunds")
    refund_no: str | None = None  # the public number, or any number the case was sent under
    phone_last4: str | None = None  # the customer's phone as masked: its last four digits
    created_from: datetime | None = None
    created_to: datetime | None = None
    oldest_first: bool = False
    limit: int = 50
    offset: int = 0
    after: tuple[datetime, str] | None = None  # the (created_at, id) the page starts after: keyset paging


class SaleRepo(Protocol):
    def add_sale(self, sale: Sale, created_at: datetime) -> bool: ...
    def add_sales(self, sales: Sequence[Sale], created_at: datetime) -> int: ...
    def add_sale_table(self, clean: Any, checked: Sequence[tuple[int, Sale]], stamp: SaleStamp) -> int: ...
    def get_sale(self, merchant_id: str, sale_id: str) -> Sale | None: ...
    def get_sale_and_policy(self, merchant_id: str, sale_id: str) -> tuple[Sale, RefundPolicy | None] | None:
        """The sale and its merchant's stored refund policy (None: none stored), read together."""
        ...

    def find_sales(self, merchant_id: str, query: SaleQuery) -> list[Sale]: ...
    def reserve(self, sale_id: str, amount_fen: int, max_refunds: int) -> bool: ...
    def release(self, sale_id: str, amount_fen: int) -> None: ...
    def settle_refund(self, sale_id: str, amount_fen: int) -> None: ...
    def void_sale(self, merchant_id: str, sale_id: str) -> bool:
        """Mark the sale voided unless a refund of it is reserved or made; False then (or when unknown)."""
        ...


class SaleItemRepo(Protocol):
    """A sale's item lines (商品明细) and the units of them each refund case holds or refunded."""

    def add_lines(self, sale_id: str, lines: Sequence[SaleLine]) -> None: ...
    def add_lines_of_recorded(self, lines: Mapping[str, Sequence[SaleLine]]) -> None: ...
    def lines(self, sale_id: str) -> list[SaleLine]: ...
    def hold(self, sale_id: str, priced: Sequence[ItemRefund]) -> bool: ...
    def add_refund_items(self, case_id: str, sale_id: str, priced: Sequence[ItemRefund]) -> None: ...
    def refund_items(self, case_id: str) -> list[ItemRefund]: ...
    def settle(self, case_id: str, *, refunded: bool) -> None: ...


class RefundRepo(Protocol):
    def add_case(self, case: RefundCase, customer: CustomerRecord) -> None: ...
    def get_case(self, merchant_id: str, case_id: str) -> RefundCase | None: ...
    def save_case(self, case: RefundCase, fence: int | None = None) -> None: ...
    def next_fence(self, case_id: str) -> int: ...
    def set_payee(self, case_id: str, payee_masked: str) -> None:
        """Where the money of a refund paid away from its route goes (masked); "" is the payer."""
        ...

    def renew_lease(self, case_id: str, fence: int, until: datetime) -> bool: ...
    def case_merchant(self, case_id: str) -> str | None: ...
    def customer(self, case_id: str) -> CustomerRecord: ...
    def get_by_refund_no(self, refund_no: str) -> RefundCase | None: ...
    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]: ...
    def due_on_channels(self, now: datetime, limit: int) -> list[tuple[str, str, str]]: ...
    def unknown_cases(self, merchant_id: str, channels: Sequence[str]) -> list[RefundCase]: ...
    def last_sent_for_sale(self, sale_id: str, other_than: str) -> datetime | None: ...
    def find_cases(self, merchant_id: str, query: RefundQuery) -> list[RefundCase]: ...
    def count_cases(self, merchant_id: str, query: RefundQuery) -> int: ...
    def customers_masked(self, case_ids: Sequence[str]) -> dict[str, CustomerRecord]: ...


class EvidenceFacts(PortableTypedDict):
    """What an uploaded piece of evidence is, the same where it is stored and where the API shows it; the
    bytes are in the content-addressed store under ``sha256``."""

    id: str
    merchant_id: str
    sha256: str
    content_type: str
    size: int
    filename: str
    kind: str
    uploaded_by: str


class EvidenceRow(EvidenceFacts):
    """An uploaded piece of evidence as stored, with when it came."""

    created_at: datetime


class EvidenceRepo(Protocol):
    def add_evidence(self, row: EvidenceRow) -> None: ...
    def evidence_rows(self, merchant_id: str, ids: Iterable[str]) -> list[EvidenceRow]: ...
