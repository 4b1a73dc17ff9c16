"""Tables finance hands over for an import: CSV (UTF-8, with or without BOM, or GBK as Excel in China saves it)
or XLSX (the first sheet), read one row at a time so a file of a million rows never lives in memory.

Each row is ``(line number, {column: text})``: the header's names, every value as text (an XLSX number or date
cell turned into the text a CSV would hold), the line number the person sees in their spreadsheet."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

Row = tuple[int, dict[str, str]]


def is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm")


def csv_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file decodes as UTF-8, else ``gb18030`` (a superset of GBK)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as fh:
        try:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def count_rows(path: Path) -> int:
    """Data rows (the header not counted), for a progress bar's total."""
    if is_xlsx(path):
        book = load_workbook(path, read_only=True)
        try:
            return max((book.worksheets[0].max_row or 1) - 1, 0)
        finally:
            book.close()
    with open(path, "rb") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


def header_of(path: Path) -> list[str]:
    """The names of the table's columns (its first row), as ``read_rows`` reads them."""
    if is_xlsx(path):
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            first = next(book.worksheets[0].iter_rows(values_only=True), ())
            return [_cell(v).strip() for v in first]
        finally:
            book.close()
    with open(path, encoding=csv_encoding(path), newline="") as fh:
        return next(csv.reader(fh), [])


def read_rows(path: Path) -> Iterator[Row]:
    """The table's rows after its header, in order."""
    yield from (_xlsx_rows(path) if is_xlsx(path) else _csv_rows(path))


def _csv_rows(path: Path) -> Iterator[Row]:
    with open(path, encoding=csv_encoding(path), newline="") as fh:
        yield from enumerate(csv.DictReader(fh), start=2)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[Row]:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [_cell(v).strip() for v in next(rows, ())]
        for line, values in enumerate(rows, start=2):
            if all(v is None for v in values):
                continue
            yield line, {name: _cell(v) for name, v in zip(header, values, strict=False) if name}
    finally:
        book.close()


def plain_csv_header(path: Path, required: Iterable[str]) -> list[str] | None:
    """The header of a CSV that polars reads exactly as ``csv.DictReader`` does (UTF-8, no blank line, every
    line ending the same, unique names, the ``required`` ones among them); None when only the row-by-row reader
    can be trusted with it."""
    if is_xlsx(path):
        return None
    if not _plain_lines(path):
        return None
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    if not header or "" in header or len(set(header)) != len(header) or not set(required) <= set(header):
        return None
    return header


def _plain_lines(path: Path, block: int = 1 << 20) -> bool:
    """UTF-8, no blank line, and every CR the first half of a CRLF, read ``block`` bytes at a time.

    A CR that ends a block is judged with the block after it: a CRLF file's CR and LF fall on the two sides of a
    block's end about once in every line-length blocks, and judged alone that CR looked bare (a million-row CRLF
    export was then always read row by row, several times slower)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    before = b""  # the last bytes judged, for a blank line across two blocks
    held = b""  # a CR that ended the last block
    with open(path, "rb") as fh:
        try:
            for chunk in iter(lambda: fh.read(block), b""):
                decoder.decode(chunk)
                data = held + chunk
                held = b"\r" if data.endswith(b"\r") else b""
                data = data[: len(data) - len(held)]
                seen = before + data
                if b"\n\n" in seen or b"\n\r\n" in seen or data.count(b"\r") != data.count(b"\r\n"):
                    return False
                before = seen[-2:]
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return not held  # a CR at the very end ends no line
