"""What the reconciliation desk keeps: acquirer layouts per merchant, and the cashier's end-of-shift till checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypedDict

from typing_extensions import TypedDict as PortableTypedDict


class MappingRow(TypedDict):
    """A stored acquirer layout; ``spec`` is ``domain.settlement_mapping.MappingSpec.as_dict()``."""

    merchant_id: str
    name: str
    channel: str
    spec: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    version: int


class SettlementMappingRepo(Protocol):
    def get_mapping(self, merchant_id: str, name: str) -> MappingRow | None: ...
    def mappings(self, merchant_id: str) -> list[MappingRow]: ...
    def add_mapping(self, row: MappingRow) -> None: ...
    def save_mapping(self, row: MappingRow) -> bool: ...  # compare-and-set on ``version`` (row holds the new one)


class ShiftCash(TypedDict):
    """The cash a terminal's drawer took and paid out between two instants, with the transactions that did."""

    sales_fen: int
    refunds_fen: int
    sale_ids: list[str]
    refund_ids: list[str]


class TillFacts(PortableTypedDict):
    """A till check's fields that are not instants (the API's answer adds those as ISO text)."""

    id: str
    merchant_id: str
    terminal_id: str
    cashier_id: str
    float_fen: int
    counted_fen: int
    denominations: dict[str, int]
    cash_sales_fen: int
    cash_refunds_fen: int
    expected_fen: int
    difference_fen: int
    tolerance_fen: int
    transactions: dict[str, list[str]]
    status: str
    investigation: str
    investigation_note: str
    counted_by: str
    signed_off_by: str
    sign_off_note: str
    version: int


class TillRow(TillFacts):
    opened_at: datetime
    closed_at: datetime
    counted_at: datetime
    signed_off_at: datetime | None


class TillRepo(Protocol):
    def shift_cash(self, merchant_id: str, terminal_id: str, opened_at: datetime, closed_at: datetime) -> ShiftCash: ...
    def overlapping(self, terminal_id: str, opened_at: datetime, closed_at: datetime) -> str | None: ...
    def add_till(self, row: TillRow) -> None: ...
    def get_till(self, merchant_id: str, till_id: str) -> TillRow | None: ...
    def tills(self, merchant_id: str, limit: int) -> list[TillRow]: ...
    def save_till(self, row: TillRow) -> bool: ...  # compare-and-set on ``version`` (row holds the new one)
    def tolerance(self, merchant_id: str) -> int | None: ...
    def put_tolerance(self, merchant_id: str, tolerance_fen: int, actor_id: str, now: datetime) -> None: ...
