"""Shared pieces of the settlement parsers: reading lines in constant memory, money, times, PAN masking."""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import BinaryIO

from posrefund.adapters.settlement.model import BadLine, ParsedLine
from posrefund.domain.pii import find_card_data, find_card_number, redact_card_numbers

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


def yuan_to_fen(text: str) -> int:
    """``"¥1,234.56"`` → ``123456``, ``"-0.50"`` → ``-50``; decimal-string arithmetic, never float."""
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
def _fast_time_pattern(fmt: str) -> re.Pattern[str] | None:
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
    pattern = _fast_time_pattern(fmt)
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
    "merchant_no",
    "terminal_no",
    "voucher_no",
    "rrn",
    "channel_trade_no",
    "merchant_order_no",
    "channel_refund_no",
    "merchant_refund_no",
    "refund_status",
    "payer_masked",
    "batch_no",
    "auth_code",
)


def screened(lines: Iterator[ParsedLine]) -> Iterator[ParsedLine]:
    """Every parsed line, with card data kept out of what is stored: a line holding a PAN, track data or a
    CVV in any kept field (only the card column is masked by the parsers) becomes a bad line naming the
    field, and a bad line's reason (which may quote a value) is redacted like its excerpt."""
    for line in lines:
        if isinstance(line, BadLine):
            yield BadLine(line.line_no, redact_card_numbers(line.reason), line.text_excerpt)
            continue
        hit = next(((name, code) for name in _KEPT_FIELDS if (code := find_card_data(getattr(line, name)))), None)
        if hit is None:
            yield line
        else:
            yield BadLine(line.line_no, f"{hit[1]} in {hit[0]}", "")


def split_csv(text: str, delimiter: str = ",") -> list[str]:
    """One physical line as CSV fields (quoted fields spanning lines are not supported by these formats).
    A line the csv module refuses (e.g. a bare carriage return inside it) is a bad line, not a crash."""
    try:
        return next(csv.reader((text,), delimiter=delimiter), [])
    except csv.Error as exc:
        raise LineError(f"unreadable CSV line ({exc})") from None


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


def iter_lines(fh: BinaryIO, encoding: str) -> Iterator[tuple[int, bytes, str | None]]:
    """``(line_no, raw, text)`` per physical line, ``text`` None if it does not decode.

    Splitting bytes on ``\\n`` is safe for UTF-8 and GBK (no multibyte sequence contains 0x0A);
    ``raw`` excludes the line ending so CRLF and LF copies of a file hash the same.
    """
    for line_no, line in enumerate(fh, start=1):
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


def file_fingerprint(source: BinarySource) -> str:
    """SHA-256 of a whole file, read in chunks, so the same settlement file imported twice is recognised."""
    digest = hashlib.sha256()
    with open_binary(source) as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
