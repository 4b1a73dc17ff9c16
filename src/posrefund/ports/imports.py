"""What a tabular import hands the service: a file read in batches, each split into the rows already known good
in bulk and the rest, which the service checks one at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
