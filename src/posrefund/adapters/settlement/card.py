"""Acquirer card settlement CSV, with a column mapping a merchant can adapt to their acquirer in TOML.

Acquirers (银联商务, 拉卡拉, bank acquiring departments…) all send "a CSV with Chinese headers" but
never quite the same one, so the layout is data (``CardMapping``), not code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from posrefund.adapters.settlement.model import Kind, ParsedLine, SettlementLine, Tally
from posrefund.adapters.settlement.reading import (
    BinarySource,
    LineError,
    SettlementFormatError,
    bad_line,
    check_width,
    fen_field,
    iter_lines,
    mask_card_number,
    open_binary,
    parse_local_time,
    raw_hash,
    split_csv,
    split_csv_or_none,
    split_header,
    undecodable,
    yuan_to_fen,
)
from posrefund.domain.settlement_mapping import BUILT_IN, MAPPABLE_FIELDS, MappingSpec

# Columns read when the file has them: many acquirers print no 卡类型 (the fee check then accepts any card type).
OPTIONAL_FIELDS = frozenset({"card_type"})
# 卡类型 as acquirers print it → the card type fee contracts price (domain/fees.py).
CARD_TYPES = {"借记卡": "debit", "贷记卡": "credit", "准贷记卡": "credit", "信用卡": "credit", "外卡": "foreign"}
CARD_TYPES |= {"境外卡": "foreign", "debit": "debit", "credit": "credit", "foreign": "foreign"}
_TOP_KEYS = frozenset(
    {
        "mapping",
        "kinds",
        "encoding",
        "delimiter",
        "header_rows",
        "date_format",
        "time_format",
        "datetime_format",
        "amount_unit",
        "currency",
        "skip_prefixes",
        "sign",
    }
)
_KINDS: tuple[Kind, ...] = ("sale", "refund", "void")


@dataclass(frozen=True, slots=True)
class CardMapping:
    """How to read one acquirer's card settlement file.

    ``mapping`` is field → column header (in the last of ``header_rows`` header lines); either
    ``datetime`` or both ``date`` and ``time`` must be mapped. ``kinds`` lists the 交易类型 values
    meaning sale / refund / void. Lines starting with one of ``skip_prefixes`` (totals, comments) are skipped.
    """

    mapping: Mapping[str, str]
    kinds: Mapping[Kind, tuple[str, ...]]
    encoding: str = "utf-8"
    delimiter: str = ","
    header_rows: int = 1
    date_format: str = "%Y%m%d"
    time_format: str = "%H%M%S"
    datetime_format: str = "%Y-%m-%d %H:%M:%S"
    amount_unit: str = "yuan"
    currency: str = "CNY"
    skip_prefixes: tuple[str, ...] = field(default=("合计", "总计", "#"))
    sign: str = (
        "kind"  # "negative_is_refund": a minus sign on the amount makes a refund (see domain.settlement_mapping)
    )

    def __post_init__(self) -> None:
        unknown = set(self.mapping) - MAPPABLE_FIELDS
        if unknown:
            raise SettlementFormatError(f"unknown mapping fields: {', '.join(sorted(unknown))}")
        missing = ({"kind", "amount"} if self.sign == "kind" else {"amount"}) - set(self.mapping)
        if "datetime" not in self.mapping and not {"date", "time"} <= set(self.mapping):
            missing.add("datetime (or date and time)")
        if missing:
            raise SettlementFormatError(f"mapping lacks: {', '.join(sorted(missing))}")
        unknown_kinds = set(self.kinds) - set(_KINDS)
        if unknown_kinds:
            raise SettlementFormatError(f"unknown kinds: {', '.join(sorted(unknown_kinds))}")
        if self.amount_unit not in ("yuan", "fen"):
            raise SettlementFormatError("amount_unit must be 'yuan' or 'fen'")
        if self.header_rows < 1:
            raise SettlementFormatError("header_rows must be at least 1 (columns are found by header name)")
        if len(self.delimiter) != 1:
            raise SettlementFormatError("delimiter must be one character")


def card_mapping_of(spec: MappingSpec) -> CardMapping:
    """A stored layout (already checked by ``domain.settlement_mapping.spec_from_dict``) as the parser's mapping."""
    kinds = {cast(Kind, k): v for k, v in spec.kinds.items()}
    return CardMapping(
        mapping=dict(spec.columns),
        kinds=kinds,
        encoding=spec.encoding,
        delimiter=spec.delimiter,
        header_rows=spec.header_rows,
        date_format=spec.date_format,
        time_format=spec.time_format,
        datetime_format=spec.datetime_format,
        amount_unit=spec.amount_unit,
        currency=spec.currency,
        skip_prefixes=spec.skip_prefixes,
        sign=spec.sign,
    )


# The layout the card parser has always read: the built-in "standard" one.
DEFAULT_CARD_MAPPING = card_mapping_of(BUILT_IN["standard"])


def card_mapping_from_dict(data: Mapping[str, Any]) -> CardMapping:
    """Build a mapping from parsed TOML, refusing unknown keys so a typo does not silently drop a column."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SettlementFormatError(f"unknown keys: {', '.join(sorted(unknown))}")
    mapping = data.get("mapping")
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise SettlementFormatError("'mapping' must be a table of field = \"column header\"")
    raw_kinds = data.get("kinds", {})
    if not isinstance(raw_kinds, dict):
        raise SettlementFormatError("'kinds' must be a table of kind = [values]")
    kinds: dict[Kind, tuple[str, ...]] = {}
    for name, values in raw_kinds.items():
        if name not in _KINDS:
            raise SettlementFormatError(f"unknown kinds: {name}")
        listed = [values] if isinstance(values, str) else values
        if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
            raise SettlementFormatError(f"kinds.{name} must be a list of strings")
        kinds[name] = tuple(listed)
    options: dict[str, Any] = {k: v for k, v in data.items() if k not in ("mapping", "kinds")}
    if "skip_prefixes" in options:
        options["skip_prefixes"] = tuple(options["skip_prefixes"])
    defaults = DEFAULT_CARD_MAPPING
    try:
        return CardMapping(mapping=dict(mapping), kinds=kinds or dict(defaults.kinds), **options)
    except TypeError as exc:
        raise SettlementFormatError(str(exc)) from None


def load_card_mapping(path: str | Path) -> CardMapping:
    """Read a merchant's TOML mapping file (see docs/settlement.md for the format)."""
    with open(path, "rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise SettlementFormatError(f"{path}: {exc}") from None
    return card_mapping_from_dict(data)


def parse_card_settlement(
    source: BinarySource, mapping: CardMapping = DEFAULT_CARD_MAPPING, tally: Tally | None = None
) -> Iterator[ParsedLine]:
    """Yield one ``SettlementLine`` or ``BadLine`` per data line of an acquirer card file, streaming.

    Raises ``SettlementFormatError`` before any line if a mapped column is missing from the header. ``tally`` is
    given the footer's totals (the line starting with a ``skip_prefixes`` word other than ``#``, e.g. 合计: the
    amount and fee columns as printed) and what the lines add up to.
    """
    table = CardTable(mapping, tally if tally is not None else Tally(""))
    with open_binary(source) as fh:
        for line_no, raw, text in iter_lines(fh, mapping.encoding):
            item = table.read(line_no, raw, text, mapping.encoding)
            if item is not None:
                yield item
    table.finish()


class CardTable:
    """``parse_card_settlement`` one physical line at a time (the block reader, ``card_columns.py``, hands it the
    lines it does not read as columns): the header seen so far, the footer and the lines' totals in ``tally``."""

    def __init__(self, mapping: CardMapping, tally: Tally) -> None:
        self.mapping, self.tally = mapping, tally
        self.kind_of = {value: kind for kind, values in mapping.kinds.items() for value in values}
        self.footers = tuple(p for p in mapping.skip_prefixes if not p.startswith("#"))
        tally.summary = "/".join(self.footers)
        self.columns: dict[str, int] = {}  # mapped field → its column
        self.width = 0

    def read(self, line_no: int, raw: bytes, text: str | None, encoding: str) -> ParsedLine | None:
        """The line's item, or None for the header rows, blank, footer and comment lines."""
        mapping = self.mapping
        if text is None:
            return undecodable(line_no, raw, encoding)
        if line_no <= mapping.header_rows:
            if line_no == mapping.header_rows:
                self.columns, self.width = _header_columns(split_header(text, mapping.delimiter), mapping)
            return None
        if not text.strip() or text.lstrip().startswith(mapping.skip_prefixes):
            if self.footers and text.lstrip().startswith(self.footers) and not self.tally.summary_line:
                row = split_csv_or_none(text, mapping.delimiter)
                _footer(self.tally, row, self.width, self.columns, mapping, line_no)
            return None
        try:
            row = split_csv(text, mapping.delimiter)
            line = _card_line(row, self.width, self.columns, self.kind_of, mapping, line_no, raw)
        except LineError as exc:
            return bad_line(line_no, exc, text)
        for name, value in _printed(row, self.columns, mapping).items():
            self.tally.add(name, value)
        return line

    def finish(self) -> None:
        if not self.columns:
            raise SettlementFormatError("file has no header row")


def _printed(row: list[str], columns: dict[str, int], mapping: CardMapping) -> dict[str, int]:
    """The amount and fee of a row as printed (signed as the file signs them), by the footer's names."""
    to_fen = yuan_to_fen if mapping.amount_unit == "yuan" else fen_field
    out = {}
    for fld in ("amount", "fee"):
        if fld in columns:
            text = row[columns[fld]].strip()
            out[mapping.mapping[fld]] = to_fen(text) if text else 0
    return out


def _footer(
    totals: Tally, row: list[str] | None, width: int, columns: dict[str, int], mapping: CardMapping, line_no: int
) -> None:
    """The footer's amount and fee totals, in the same columns as the lines'; a footer that is not whole (fewer
    fields, a total that is not a number) vouches for nothing, as if it were missing."""
    if row is None or len(row) != width:
        return
    try:
        claimed = _printed(row, columns, mapping)
    except LineError:
        return
    totals.claim(line_no, claimed)


def _header_columns(header: list[str], mapping: CardMapping) -> tuple[dict[str, int], int]:
    index = {name.strip(): i for i, name in enumerate(header)}
    missing = [c for fld, c in mapping.mapping.items() if c not in index and fld not in OPTIONAL_FIELDS]
    if missing:
        raise SettlementFormatError(f"columns not in header: {', '.join(missing)}")
    return {fld: index[column] for fld, column in mapping.mapping.items() if column in index}, len(header)


def _card_line(
    row: list[str],
    width: int,
    columns: dict[str, int],
    kind_of: dict[str, Kind],
    mapping: CardMapping,
    line_no: int,
    raw: bytes,
) -> SettlementLine:
    check_width(row, width)

    values = {fld: row[i].strip() for fld, i in columns.items()}
    get = values.get

    kind_text = get("kind", "")
    to_fen = yuan_to_fen if mapping.amount_unit == "yuan" else fen_field
    kind = kind_of.get(kind_text) or _signed_kind(mapping, kind_text, get("amount", ""), to_fen)
    if "datetime" in columns:
        occurred_at = parse_local_time(get("datetime", ""), mapping.datetime_format)
    else:
        occurred_at = parse_local_time(
            f"{get('date', '')} {get('time', '')}", f"{mapping.date_format} {mapping.time_format}"
        )
    amount = abs(to_fen(get("amount", "")))
    if amount == 0:
        raise LineError("amount is zero")
    fee_text = get("fee", "")
    return SettlementLine(
        source="card",
        kind=kind,
        line_no=line_no,
        occurred_at=occurred_at,
        amount_fen=amount,
        fee_fen=to_fen(fee_text) if fee_text else 0,
        currency=get("currency", "") or mapping.currency,
        merchant_no=get("merchant_no", ""),
        terminal_no=get("terminal_no", ""),
        voucher_no=get("voucher_no", ""),
        rrn=get("rrn", ""),
        channel_trade_no=get("channel_trade_no", ""),
        merchant_order_no=get("merchant_order_no", ""),
        channel_refund_no="",
        merchant_refund_no=get("merchant_refund_no", ""),
        refund_status="SUCCESS" if kind == "refund" else "",
        payer_masked=mask_card_number(get("card_no", "")),
        raw_hash=raw_hash(raw),
        batch_no=get("batch_no", ""),
        auth_code=get("auth_code", ""),
        card_type=CARD_TYPES.get(get("card_type", ""), ""),
    )


def _signed_kind(mapping: CardMapping, kind_text: str, amount: str, to_fen: Callable[[str], int]) -> Kind:
    """A layout that signs refunds with a minus (no type, or a type not listed): the sign decides."""
    if mapping.sign != "negative_is_refund" or kind_text:
        raise LineError(f"unknown transaction type {kind_text!r}")
    return "refund" if to_fen(amount) < 0 else "sale"
