"""What a tabular import hands the service: a file read in batches, each split into the rows already known good
in bulk and the rest, which the service checks one at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from posrefund.domain.refund import RefundCase

RawRow = tuple[int, Mapping[str, str]]  # (line as the person sees it, {column: text})


@dataclass(frozen=True)
class FieldRules:
    """The values a sale's fields may take, as ``service/sales.check_fields`` checks them one row at a time:
    handed to a bulk reader so a whole column is judged at once by the very same values."""

    patterns: Mapping[str, str]  # field → the identifier pattern it must match whole
    wallet_channels: tuple[str, ...]  # a sale of these without a voucher no. is its order no.
    card_keys: tuple[str, ...]  # the fields a wallet sale may leave empty
    channels: frozenset[str]
    kinds: frozenset[str]
    settlement_statuses: frozenset[str]
    currencies: frozenset[str]
    max_amount_fen: int
    clock_skew_seconds: int  # how far ahead of now a sale's time may be


@dataclass(frozen=True)
class ImportScope:
    """Whose rows an import may hold: terminal no. → terminal id, and terminal id → store id (only the
    actor's own terminal when the actor is a terminal)."""

    terminals: Mapping[str, str]
    stores: Mapping[str, str]


@dataclass
class TableBatch:
    """One batch of an import file. ``clean``: the rows that passed every check in bulk, as a columnar table only
    the repository reads (``clean_rows`` of them, ``naive`` with a time written without its offset); ``rest``:
    every other row with its line, to be read and checked one at a time (and reported if bad)."""

    clean: Any
    clean_rows: int
    naive: int
    rest: Sequence[RawRow] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.clean_rows + len(self.rest)


@dataclass(frozen=True)
class SaleKeys:
    """How a refund made on the channel names its sale: a wallet sale's order no., a card sale's terminal,
    batch and voucher no., or its RRN (the first of these given, in that order of strength: RRN, voucher, order)."""

    order_no: str = ""
    terminal_id: str = ""
    batch_no: str = ""
    voucher_no: str = ""
    rrn: str = ""


@dataclass(frozen=True)
class RefundableSale:
    """What recording a refund of a sale needs to know of it."""

    sale_id: str
    store_id: str
    terminal_id: str
    channel: str
    currency: str
    refundable_fen: int  # the amount less what is refunded or held


class ExternalRefundRepo(Protocol):
    def sales_by_keys(self, merchant_id: str, keys: Sequence[SaleKeys]) -> dict[SaleKeys, RefundableSale]:
        """The one sale each key names (a key naming none, or several, is left out)."""
        ...

    def refunds_by_no(self, refund_nos: Sequence[str]) -> dict[str, tuple[str, str, int]]:
        """Refund no. → (merchant, sale, amount) of the refunds already holding one of them."""
        ...

    def add_refunds(self, cases: Sequence[RefundCase]) -> bool:
        """Insert the succeeded refunds and add them to their sales; False when a sale no longer holds them."""
        ...
