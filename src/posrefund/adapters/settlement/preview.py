"""The first lines of a settlement file read with a layout, before anything is imported (映射预览): each line's
fields as the layout finds them, what they become (kind, time, amount in fen), and per column why one cannot
be read, so finance fixes the layout instead of importing a file of bad lines.

Errors are codes with their parameters (``recon.preview_*``); the API and the console say them in Chinese or
English from the message catalogue. Every value shown has card numbers masked.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from posrefund.adapters.settlement.card import CardMapping
from posrefund.adapters.settlement.reading import (
    LineError,
    fen_field,
    mask_card_number,
    parse_local_time,
    split_csv_or_none,
    yuan_to_fen,
)
from posrefund.domain.errors import Invalid
from posrefund.domain.pii import redact_card_numbers

PREVIEW_LINES = 10
_MAX_PREVIEW_BYTES = 256 * 1024


@dataclass
class PreviewLine:
    line_no: int
    values: dict[str, str]
    parsed: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Preview:
    encoding: str
    header: list[str]
    missing: dict[str, str]  # field → the column the layout names that the header lacks
    lines: list[PreviewLine]


def _decoded(data: bytes, encoding: str) -> tuple[str, str]:
    """The start of the file as text: UTF-8 when it reads as UTF-8 (a GBK export saved again), else the layout's
    encoding; neither: ``recon.preview_undecodable``, nothing else is tried."""
    head = data[:_MAX_PREVIEW_BYTES]
    for candidate in dict.fromkeys(("utf-8", encoding)):
        try:
            text = head.decode(candidate)
        except UnicodeDecodeError as exc:
            if candidate != "utf-8" and exc.start >= len(head) - 4 and len(data) > len(head):
                text = head[: exc.start].decode(candidate)  # a character cut by the preview's own limit
            else:
                continue
        return text.removeprefix("\ufeff"), candidate
    raise Invalid("recon.preview_undecodable", encoding=encoding)


def preview_card_file(data: bytes, mapping: CardMapping, limit: int = PREVIEW_LINES) -> Preview:
    """Read the header rows and the first ``limit`` data lines of ``data`` with ``mapping``."""
    text, encoding = _decoded(data, mapping.encoding)
    rows = io.StringIO(text).read().splitlines()
    if len(rows) < mapping.header_rows:
        raise Invalid("recon.preview_no_header", rows=mapping.header_rows)
    header = [h.strip() for h in (split_csv_or_none(rows[mapping.header_rows - 1], mapping.delimiter) or [])]
    index = {name: i for i, name in enumerate(header)}
    missing = {fld: column for fld, column in mapping.mapping.items() if column not in index}
    columns = {fld: index[column] for fld, column in mapping.mapping.items() if column in index}
    lines: list[PreviewLine] = []
    for line_no, row_text in enumerate(rows[mapping.header_rows :], start=mapping.header_rows + 1):
        if len(lines) >= limit:
            break
        if not row_text.strip() or row_text.lstrip().startswith(mapping.skip_prefixes):
            continue
        lines.append(_line(line_no, row_text, columns, len(header), mapping))
    return Preview(encoding=encoding, header=[redact_card_numbers(h) for h in header], missing=missing, lines=lines)


def _line(line_no: int, text: str, columns: dict[str, int], width: int, mapping: CardMapping) -> PreviewLine:
    row = split_csv_or_none(text, mapping.delimiter)
    if row is None or len(row) != width:
        found = -1 if row is None else len(row)
        return PreviewLine(line_no, {}, errors={"*": ("recon.preview_bad_width", {"expected": width, "found": found})})
    values = {fld: row[i].strip() for fld, i in columns.items()}
    line = PreviewLine(line_no, {k: _shown(k, v) for k, v in values.items()})
    to_fen: Callable[[str], int] = yuan_to_fen if mapping.amount_unit == "yuan" else fen_field
    _try(line, "amount", lambda: _amount(values.get("amount", ""), to_fen), {"value": line.values.get("amount", "")})
    if "fee" in values:
        _try(line, "fee", lambda: to_fen(values["fee"]) if values["fee"] else 0, {"value": line.values["fee"]})
    _try(line, "kind", lambda: _kind(values, mapping, to_fen), {"value": line.values.get("kind", "")})
    if "datetime" in columns:
        stamp, fmt, where = values.get("datetime", ""), mapping.datetime_format, "datetime"
    else:
        stamp = f"{values.get('date', '')} {values.get('time', '')}"
        fmt, where = f"{mapping.date_format} {mapping.time_format}", "date"
    _try(
        line,
        where,
        lambda: parse_local_time(stamp, fmt).isoformat(),
        {"value": redact_card_numbers(stamp), "format": fmt},
        into="occurred_at",
    )
    return line


def _shown(fld: str, value: str) -> str:
    return mask_card_number(value) if fld == "card_no" else redact_card_numbers(value)


def _amount(text: str, to_fen: Callable[[str], int]) -> int:
    amount = abs(to_fen(text))
    if amount == 0:
        raise LineError("zero")
    return amount


def _kind(values: dict[str, str], mapping: CardMapping, to_fen: Callable[[str], int]) -> str:
    kind_text = values.get("kind", "")
    for kind, names in mapping.kinds.items():
        if kind_text in names:
            return kind
    if mapping.sign == "negative_is_refund" and not kind_text:
        return "refund" if to_fen(values.get("amount", "")) < 0 else "sale"
    raise LineError(kind_text)


_CODE = {"amount": "recon.preview_bad_amount", "fee": "recon.preview_bad_amount", "kind": "recon.preview_bad_kind"}


def _try(line: PreviewLine, fld: str, read: Callable[[], Any], params: dict[str, Any], into: str | None = None) -> None:
    """One field read into ``parsed``, or its error (code, parameters) under the field's name."""
    try:
        line.parsed[into or fld] = read()
    except LineError:
        line.errors[fld] = (_CODE.get(fld, "recon.preview_bad_time"), {"field": fld, **params})
