"""A settlement file on disk, made ready for the import: the parser its channel needs, the text encoding it is
in, the fingerprint that recognises a file imported before (in any copy), the check that it is whole and adds
up, and a file-level format error said in the domain's words.

The CLI (``posrefund reconcile``), the API upload and the console upload all read files this one way, then hand
the parsed lines to ``service.reconciliation.import_file``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypedDict

from posrefund.adapters.settlement.alipay import parse_alipay_bill
from posrefund.adapters.settlement.blocks import LineBlock
from posrefund.adapters.settlement.card import DEFAULT_CARD_MAPPING, CardMapping
from posrefund.adapters.settlement.card_columns import read_card_blocks
from posrefund.adapters.settlement.model import ParsedLine, Tally
from posrefund.adapters.settlement.reading import SettlementFormatError, file_fingerprint, screened, text_encoding
from posrefund.adapters.settlement.totals import checked
from posrefund.adapters.settlement.wechat_columns import read_wechat_blocks
from posrefund.domain.errors import Invalid

_DETAIL_CHARS = 200


class ImportArguments(TypedDict):
    """What ``service.reconciliation.import_file`` needs to know of the file, as keyword arguments."""

    source: str
    filename: str
    fingerprint: str
    size: int
    lines: Iterator[ParsedLine | LineBlock]


@dataclass(frozen=True)
class SettlementFile:
    """One channel's settlement file, fingerprinted once; its lines are parsed lazily, on every ``lines()``
    afresh, so a retried import reads the file again instead of a spent iterator."""

    source: str
    path: Path
    filename: str
    fingerprint: str
    size: int
    encoding: str
    parse: Parse

    def lines(self) -> Iterator[ParsedLine | LineBlock]:
        """The parsed lines; a file the parser cannot read at all (no header, a missing column) stops the
        import with ``recon.bad_file``, one cut short or whose summary its lines do not add up to with
        ``recon.file_truncated`` / ``file_line_cut`` / ``file_totals_mismatch`` (see ``totals.checked``), so the
        service's transaction changes nothing."""
        tally = Tally("")
        try:
            yield from checked(self.parse(self.path, tally, self.encoding), tally)
        except SettlementFormatError as exc:
            raise Invalid("recon.bad_file", detail=str(exc)[:_DETAIL_CHARS]) from None

    def import_arguments(self) -> ImportArguments:
        return {
            "source": self.source,
            "filename": self.filename,
            "fingerprint": self.fingerprint,
            "size": self.size,
            "lines": self.lines(),
        }


# A channel's parser: the file, the tally its summary and lines go to, the file's text encoding; its lines come
# screened for card data (``reading.screened``), one at a time or in blocks read as columns (``blocks.py``).
Parse = Callable[[Path, Tally, str], Iterator[ParsedLine | LineBlock]]


def parser_for(source: str, mapping: CardMapping | None = None) -> tuple[Parse, str]:
    """The parser of one channel's file and the encoding the channel writes it in; ``mapping`` is the acquirer's
    column layout (card files only)."""
    if source == "card":
        card_mapping = mapping or DEFAULT_CARD_MAPPING
        return (
            lambda path, tally, encoding: read_card_blocks(
                path, encoding, replace(card_mapping, encoding=encoding), tally
            ),
            card_mapping.encoding,
        )
    if source == "wechat":
        return lambda path, tally, encoding: read_wechat_blocks(path, encoding, tally), "utf-8"
    if source == "alipay":
        return lambda path, tally, encoding: screened(parse_alipay_bill(path, encoding, tally)), "gbk"
    raise Invalid("recon.invalid_source", source=source)


def open_settlement_file(
    source: str, path: Path, *, filename: str | None = None, mapping: CardMapping | None = None
) -> SettlementFile:
    """Choose the parser (``recon.invalid_source`` for an unknown channel), see which encoding the file is in
    (a GBK bill saved again as UTF-8 is read as UTF-8) and fingerprint its text."""
    parse, declared = parser_for(source, mapping)
    encoding = text_encoding(path, declared)
    return SettlementFile(
        source=source,
        path=path,
        filename=filename or path.name,
        fingerprint=file_fingerprint(path, encoding),
        size=path.stat().st_size,
        encoding=encoding,
        parse=parse,
    )
