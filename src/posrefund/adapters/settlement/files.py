"""A settlement file on disk, made ready for the import: the parser its channel needs, the fingerprint that
recognises a file imported before, and a file-level format error said in the domain's words.

The CLI (``posrefund reconcile``), the API upload and the console upload all read files this one way, then hand
the parsed lines to ``service.reconciliation.import_file``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from posrefund.adapters.settlement.alipay import parse_alipay_bill
from posrefund.adapters.settlement.card import DEFAULT_CARD_MAPPING, CardMapping, parse_card_settlement
from posrefund.adapters.settlement.model import ParsedLine
from posrefund.adapters.settlement.reading import SettlementFormatError, file_fingerprint, screened
from posrefund.adapters.settlement.wechat import parse_wechat_bill
from posrefund.domain.errors import Invalid

_DETAIL_CHARS = 200


class ImportArguments(TypedDict):
    """What ``service.reconciliation.import_file`` needs to know of the file, as keyword arguments."""

    source: str
    filename: str
    fingerprint: str
    size: int
    lines: Iterator[ParsedLine]


@dataclass(frozen=True)
class SettlementFile:
    """One channel's settlement file, fingerprinted once; its lines are parsed lazily, on every ``lines()``
    afresh, so a retried import reads the file again instead of a spent iterator."""

    source: str
    path: Path
    filename: str
    fingerprint: str
    size: int
    parse: Callable[[Path], Iterator[ParsedLine]]

    def lines(self) -> Iterator[ParsedLine]:
        """The parsed lines; a file the parser cannot read at all (no header, a missing column) stops the
        import with ``recon.bad_file``, so the service's transaction changes nothing."""
        try:
            yield from screened(self.parse(self.path))
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


def parser_for(source: str, mapping: CardMapping | None = None) -> Callable[[Path], Iterator[ParsedLine]]:
    """The parser of one channel's file; ``mapping`` is the acquirer's column layout (card files only)."""
    if source == "card":
        card_mapping = mapping or DEFAULT_CARD_MAPPING
        return lambda path: parse_card_settlement(path, card_mapping)
    if source == "wechat":
        return parse_wechat_bill
    if source == "alipay":
        return parse_alipay_bill
    raise Invalid("recon.invalid_source", source=source)


def open_settlement_file(
    source: str, path: Path, *, filename: str | None = None, mapping: CardMapping | None = None
) -> SettlementFile:
    """Choose the parser (``recon.invalid_source`` for an unknown channel) and fingerprint the file."""
    return SettlementFile(
        source=source,
        path=path,
        filename=filename or path.name,
        fingerprint=file_fingerprint(path),
        size=path.stat().st_size,
        parse=parser_for(source, mapping),
    )
