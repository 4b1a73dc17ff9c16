"""Shared pieces of the settlement parsers: reading lines in constant memory, money, times, PAN masking."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import BinaryIO

from posrefund.adapters.settlement.model import BadLine, ParsedLine, SettlementLine
from posrefund.domain.pii import find_card_data, find_card_number, find_track_data, redact_card_numbers

# Mainland China has had no daylight saving since 1991, so a fixed +08:00 is exact for these files
# and needs no tzdata on the host.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

BinarySource = str | os.PathLike[str] | BinaryIO

_YUAN = re.compile(r"^([+-]?)[¥￥]?([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2})0*)?$")
_NON_DIGIT = re.compile(r"\D")
_EXCERPT_CHARS = 80
_CHUNK = 1 << 16


class SettlementFormatError(ValueError):
    """The file (or mapping) as a whole cannot be parsed, e.g. an expected column header is missing."""


class LineError(ValueError):
    """One line cannot be parsed; turned into a ``BadLine`` by the parser."""


class ShortLine(LineError):
    """A line with fewer fields than the header: its end is missing (a file cut in the middle of a line, or a
    line broken in two); the import refuses the whole file for it."""


@lru_cache(maxsize=1 << 16)
def yuan_to_fen(text: str) -> int:
    """``"¥1,234.56"`` → ``123456``, ``"-0.50"`` → ``-50``; decimal-string arithmetic, never float. A day's file
    repeats the same few thousand amounts (and "0.00" in most coupon and refund columns), so answers are
    remembered: parsing a million lines costs a few hundred thousand conversions, not nine million."""
    compact = text.strip().replace(" ", "")
    match = _YUAN.match(compact)
    if not match or (match.group(1) and match.group(2)):
        raise LineError(f"bad amount {text!r}")
    sign = -1 if "-" in (match.group(1) + match.group(2)) else 1
    whole = int(match.group(3).replace(",", ""))
    cents = int((match.group(4) or "0").ljust(2, "0"))
    return sign * (whole * 100 + cents)


def fen_field(text: str) -> int:
    """An amount already in fen (some acquirers print ``000000001234``)."""
    compact = text.strip()
    if not re.fullmatch(r"[+-]?\d+", compact):
        raise LineError(f"bad amount {text!r}")
    return int(compact)


@lru_cache(maxsize=64)
def time_pattern(fmt: str) -> re.Pattern[str] | None:
    """A regex for formats made only of %Y %m %d %H %M %S and literals; strptime is too slow for millions of lines.

    A field directly next to another (``%Y%m%d``) must have its full width; otherwise one digit will do.
    """
    parts = re.split(r"(%.)", fmt)
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(re.escape(part))
        elif part[1] not in "YmdHMS":
            return None
        else:
            compact = (i + 2 < len(parts) and parts[i + 1] == "") or (i > 1 and parts[i - 1] == "")
            width = "4" if part == "%Y" else "2" if compact else "1,2"
            out.append(f"(?P<{part[1]}>\\d{{{width}}})")
    pattern = re.compile("".join(out))
    return pattern if {"Y", "m", "d"} <= set(pattern.groupindex) else None


def parse_local_time(text: str, fmt: str) -> datetime:
    """A wall-clock time in the file, read as Asia/Shanghai and returned timezone-aware."""
    value = text.strip()
    pattern = time_pattern(fmt)
    try:
        if pattern is None:
            return datetime.strptime(value, fmt).replace(tzinfo=SHANGHAI)
        match = pattern.fullmatch(value)
        if match:
            f = match.groupdict()
            hour, minute, second = (int(f.get(k) or 0) for k in "HMS")
            return datetime(int(f["Y"]), int(f["m"]), int(f["d"]), hour, minute, second, tzinfo=SHANGHAI)
    except ValueError:
        pass
    raise LineError(f"bad time {text!r} (expected {fmt})")


def mask_card_number(value: str) -> str:
    """Keep first 6 / last 4 of a full PAN so the file's card column can be stored; other values pass through."""
    text = value.strip()
    if len(text) < 13:
        return text
    digits = _NON_DIGIT.sub("", text)
    if find_card_number(text) or ("*" not in text and len(digits) >= 13):
        return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
    return text


def excerpt(text: str) -> str:
    """The start of a refused line for the report, with anything card-like replaced."""
    return redact_card_numbers(text)[:_EXCERPT_CHARS]  # redact first: a cut PAN would no longer be recognised


# The text a line keeps once imported: every field a channel fills, the masked payer included.
_KEPT_FIELDS = (
    "terminal_no",
    "voucher_no",
    "rrn",
    "merchant_order_no",
    "merchant_refund_no",
    "refund_status",
    "payer_masked",
    "batch_no",
    "auth_code",
)
# Long numbers the channel itself issues (its merchant no., its trade and refund nos., 15–32 digits): a
# card-like one would quarantine every line of a merchant, or a random few percent of a day's lines, so
# they are searched for track data only, which has sentinels no such number has.
_CHANNEL_NUMBERS = ("merchant_no", "channel_trade_no", "channel_refund_no")


def _card_data_in(line: SettlementLine) -> tuple[str, str] | None:
    """(code, field) of the first kept field of ``line`` holding card data."""
    for name in _KEPT_FIELDS:
        if code := find_card_data(getattr(line, name)):
            return code, name
    for name in _CHANNEL_NUMBERS:
        if find_track_data(getattr(line, name)):
            return "track_data_detected", name
    return None


def screened(lines: Iterator[ParsedLine]) -> Iterator[ParsedLine]:
    """Every parsed line, with card data kept out of what is stored: a line holding a PAN, track data or a
    CVV in a kept field (only the card column is masked by the parsers) becomes a bad line naming the
    field, and a bad line's reason (which may quote a value) is redacted like its excerpt."""
    for line in lines:
        yield screen(line)


def screen(line: ParsedLine) -> ParsedLine:
    """One line of ``screened``."""
    if isinstance(line, BadLine):
        return replace(line, reason=redact_card_numbers(line.reason))
    hit = _card_data_in(line)
    return line if hit is None else BadLine(line.line_no, f"{hit[0]} in {hit[1]}", "")


def split_csv(text: str, delimiter: str = ",") -> list[str]:
    """One physical line as CSV fields (quoted fields spanning lines are not supported by these formats).
    A line the csv module refuses (e.g. a bare carriage return inside it) is a bad line, not a crash."""
    try:
        return next(csv.reader((text,), delimiter=delimiter), [])
    except csv.Error as exc:
        raise LineError(f"unreadable CSV line ({exc})") from None


def split_csv_or_none(text: str, delimiter: str = ",") -> list[str] | None:
    """One line as CSV fields, or None when it is not CSV (for a summary line, where that means "not whole")."""
    try:
        return split_csv(text, delimiter)
    except LineError:
        return None


def split_header(text: str, delimiter: str = ",") -> list[str]:
    """The header line's fields; a header that is not CSV makes the whole file unreadable."""
    try:
        return split_csv(text, delimiter)
    except LineError as exc:
        raise SettlementFormatError(f"header: {exc}") from None


def named_columns(text: str, required: tuple[str, ...], bill: str) -> dict[str, int]:
    """Column positions by header name, for layouts that add or move columns over the years; a header
    without a ``required`` column is not ``bill``'s, and the whole file is refused."""
    header = [name.strip() for name in split_header(text)]
    missing = [name for name in required if name not in header]
    if missing:
        raise SettlementFormatError(f"not {bill} header, missing: {', '.join(missing)}")
    return {name: i for i, name in enumerate(header)}


def undecodable(line_no: int, raw: bytes, encoding: str) -> BadLine:
    """A line that is not in the file's encoding: reported with what can be read of it, never a crash."""
    return BadLine(line_no, f"not valid {encoding}", excerpt(raw.decode(encoding, "replace")))


@contextmanager
def open_binary(source: BinarySource) -> Iterator[BinaryIO]:
    """Accept a path or an already open binary file; only close what we opened."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            yield fh
    else:
        yield source


def physical_lines(fh: BinaryIO) -> Iterator[bytes]:
    """The file's lines with their endings, whether those are CRLF, LF or a lone CR (an old copy's), read in
    chunks. Splitting bytes on CR and LF is safe for UTF-8 and GBK: no multibyte sequence holds 0x0A or 0x0D."""
    pending = b""
    while chunk := fh.read(_CHUNK):
        parts = (pending + chunk).splitlines(keepends=True)
        # The last part may be unfinished, or a CR whose LF is in the next chunk.
        pending = parts.pop() if parts and not parts[-1].endswith(b"\n") else b""
        yield from parts
    if pending:
        yield pending


def iter_lines(fh: BinaryIO, encoding: str) -> Iterator[tuple[int, bytes, str | None]]:
    """``(line_no, raw, text)`` per physical line, ``text`` None if it does not decode.

    ``raw`` excludes the line ending (and a UTF-8 BOM on the first line) so CRLF, LF and CR copies of a file
    hash the same.
    """
    for line_no, line in enumerate(physical_lines(fh), start=1):
        raw = line.rstrip(b"\r\n")
        if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text: str | None = raw.decode(encoding)
        except UnicodeDecodeError:
            text = None
        yield line_no, raw, text


def raw_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def file_fingerprint(source: BinarySource, encoding: str = "utf-8") -> str:
    """SHA-256 of the file's text, so a file imported before is recognised in any copy: the text decoded
    (``encoding``; a byte it cannot decode is kept as that byte), without a BOM, lines joined by LF whatever
    ended them, trailing line ends dropped. The same bill downloaded again, saved with CRLF, or re-encoded from
    GBK to UTF-8 has the same fingerprint."""
    digest = hashlib.sha256()
    with open_binary(source) as fh:
        # Universal newlines turn CRLF and a lone CR into LF, also across chunk boundaries.
        text = io.TextIOWrapper(fh, encoding=encoding, errors="surrogateescape", newline=None)
        first, held = True, 0  # line ends held back: only those followed by more text count
        while chunk := text.read(_CHUNK):
            if first:
                chunk, first = chunk.removeprefix("\ufeff"), False
            body = chunk.rstrip("\n")
            if body:
                digest.update(("\n" * held + body).encode("utf-8", "surrogateescape"))
                held = len(chunk) - len(body)
            else:
                held += len(chunk)
        text.detach()  # the caller's file stays open
    return digest.hexdigest()


def text_encoding(source: BinarySource, declared: str) -> str:
    """``utf-8`` when the whole file decodes as UTF-8, else ``declared``: a GBK bill someone saved as UTF-8 is
    read as what it now is. (GBK text with any Chinese in it practically never decodes as UTF-8.)"""
    if declared.lower().replace("-", "") in ("utf8", "utf8sig"):
        return declared
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open_binary(source) as fh:
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return declared
    return "utf-8"


# A bill's data line as a settlement line: (fields, column of each header name, line number, raw bytes).
LineReader = Callable[[list[str], dict[str, int], int, bytes], SettlementLine]


def read_named_table(
    source: BinarySource,
    encoding: str,
    required: tuple[str, ...],
    bill: str,
    aside: Callable[[str, bool, int], bool],
    line_of: LineReader,
) -> Iterator[ParsedLine]:
    """The reading a PSP's CSV bill needs, streaming: the first row not set ``aside`` is the header (columns
    found by name, see :func:`named_columns`), each later one a ``SettlementLine`` or a ``BadLine``.

    ``aside(text, header_seen, line_no)`` is the format's own say on a line that is not a transaction (a comment
    that names the account, a summary after the table): true passes over it. Blank lines are always passed over.
    """
    table = NamedTable(required, bill, aside, line_of)
    with open_binary(source) as fh:
        for line_no, raw, text in iter_lines(fh, encoding):
            item = table.read(line_no, raw, text, encoding)
            if item is not None:
                yield item
    table.finish()


class NamedTable:
    """``read_named_table`` one physical line at a time (the block reader, ``blocks.py``, hands it the lines it
    does not read as columns): the header seen so far and what each line is."""

    def __init__(
        self, required: tuple[str, ...], bill: str, aside: Callable[[str, bool, int], bool], line_of: LineReader
    ) -> None:
        self.required, self.bill, self.aside, self.line_of = required, bill, aside, line_of
        self.columns: dict[str, int] = {}

    @property
    def width(self) -> int:
        return len(self.columns)

    def read(self, line_no: int, raw: bytes, text: str | None, encoding: str) -> ParsedLine | None:
        """The line's item, or None for the header and the lines passed over."""
        if text is None:
            return undecodable(line_no, raw, encoding)
        if self.aside(text, bool(self.columns), line_no) or not text.strip():
            return None
        if not self.columns:
            self.columns = named_columns(text, self.required, self.bill)
            return None
        try:
            return self.line_of(split_csv(text), self.columns, line_no, raw)
        except LineError as exc:
            return bad_line(line_no, exc, text)

    def finish(self) -> None:
        if not self.columns:
            raise SettlementFormatError("file has no header row")


def check_width(row: list[str], width: int) -> None:
    """A data row has as many fields as the header: fewer is a line cut short, more a line that is not CSV."""
    if len(row) != width:
        error = ShortLine if len(row) < width else LineError
        raise error(f"expected {width} columns, found {len(row)}")


def bad_line(line_no: int, exc: LineError, text: str) -> BadLine:
    """The refused line for the report; a line cut short is marked so, the import refuses the file for it."""
    return BadLine(line_no, str(exc), excerpt(text), cut_short=isinstance(exc, ShortLine))


def field_reader(row: list[str], columns: dict[str, int], clean: Callable[[str], str]) -> Callable[[str], str]:
    """A data row's field by header name ("" for a column this layout lacks), cleaned of the format's
    padding; a row with more or fewer fields than the header is refused."""
    check_width(row, len(columns))

    def get(name: str) -> str:
        i = columns.get(name)
        return clean(row[i]) if i is not None else ""

    return get
