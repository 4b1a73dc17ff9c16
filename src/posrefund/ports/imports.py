"""What a tabular import hands the service: a file read in batches, each split into the rows already known good
in bulk and the rest, which the service checks one at a time."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from posrefund.domain.refund import RefundCase
from posrefund.domain.sale import SaleKey

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
    """One batch of an import file (a refunds file is read as one batch: it is imported all or nothing).
    ``clean``: the rows that passed every check in bulk, as a columnar table only
    the repository reads (``clean_rows`` of them, ``naive`` with a time written without its offset); ``rest``:
    every other row with its line, to be read and checked one at a time (and reported if bad)."""

    clean: Any
    clean_rows: int
    naive: int
    rest: Sequence[RawRow] = field(default_factory=list)
    # The clean rows' ``sale_key``s, made when asked (only writers side by side need them: two batches holding
    # one sale take turns).
    keys: Callable[[], frozenset[SaleKey]] = frozenset

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


@dataclass(frozen=True)
class RefundRules:
    """The values a refunds file's fields may take, as ``refund_imports.check_refund`` checks them one row at a
    time: handed to the bulk reader so a whole column is judged at once by the very same values."""

    order_no: str  # the identifier patterns, matched whole
    voucher_no: str
    batch_no: str
    rrn: str
    channels: frozenset[str]
    kinds: tuple[str, ...]
    currencies: frozenset[str]
    max_amount_fen: int
    max_note: int
    clock_skew_seconds: int


# A refund row as plain values, the columns of a refunds file's ``TableBatch.clean`` in this order (the time in µs
# since the epoch): line, refund_no, channel, order_no, terminal_id, batch_no, voucher_no, rrn, amount_fen,
# currency, refunded_us, channel_refund_id, kind, note.
RefundValues = tuple[int, str, str, str, str, str, str, str, int, str, int, str, str, str]


@dataclass
class RefundPlan:
    """What the repository made of a file's refunds, matched to their sales in one join: ``new`` the refunds to
    record (a table only the repository reads, ``count`` of them), ``duplicates`` those already recorded for the
    same sale and amount. ``cleared`` is False when any row is not plainly good (no sale or several, another
    channel or currency, a refund no. another refund holds, more than the sale holds): the service then reads
    every row one at a time (``rows``) to say which and why."""

    new: Any
    count: int
    duplicates: int
    amount_fen: int
    cleared: bool
    rows: Sequence[RefundValues] = ()


@dataclass(frozen=True)
class RefundStamp:
    """What the refunds of a file get from the service: who recorded them, when, their note, one id each."""

    merchant_id: str
    requested_by: str
    requested_role: str
    updated_at: datetime
    note: str  # the case's note; a row's own note follows it after ": "
    max_note: int
    ids: Sequence[str]


class ExternalRefundRepo(Protocol):
    def plan_refunds(self, merchant_id: str, clean: Any, checked: Sequence[RefundValues]) -> RefundPlan:
        """The file's refunds (the bulk reader's ``clean`` table and the rows checked one at a time) matched to
        their sales and to the refunds already recorded, in one join each."""
        ...

    def add_refund_table(self, plan: RefundPlan, stamp: RefundStamp) -> bool:
        """Insert the plan's new refunds as succeeded cases and add them to their sales; False when a sale no
        longer holds them."""
        ...

    def sales_by_keys(self, merchant_id: str, keys: Sequence[SaleKeys]) -> dict[SaleKeys, RefundableSale]:
        """The one sale each key names (a key naming none, or several, is left out)."""
        ...

    def refunds_by_no(self, refund_nos: Sequence[str]) -> dict[str, tuple[str, str, int]]:
        """Refund no. → (merchant, sale, amount) of the refunds already holding one of them."""
        ...

    def add_refunds(self, cases: Sequence[RefundCase]) -> bool:
        """Insert the succeeded refunds and add them to their sales; False when a sale no longer holds them."""
        ...
