"""Settlement files from a path to the service: pick the parser, fingerprint the file, map a file-level format
error to a 4xx-style ``Invalid``. Shared by the CLI (``posrefund reconcile``) and the API upload."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from posrefund.adapters.settlement import (
    DEFAULT_CARD_MAPPING,
    CardMapping,
    ParsedLine,
    SettlementFormatError,
    file_fingerprint,
    parse_alipay_bill,
    parse_card_settlement,
    parse_wechat_bill,
)
from posrefund.domain.errors import Invalid
from posrefund.domain.roles import Actor
from posrefund.service import reconciliation
from posrefund.service.deps import Deps
from posrefund.service.reconciliation import ImportReport


def parsed_lines(source: str, path: Path, mapping: CardMapping | None = None) -> Iterator[ParsedLine]:
    if source == "card":
        return parse_card_settlement(path, mapping or DEFAULT_CARD_MAPPING)
    if source == "wechat":
        return parse_wechat_bill(path)
    if source == "alipay":
        return parse_alipay_bill(path)
    raise Invalid("recon.invalid_source", source=source)


def import_path(
    deps: Deps,
    actor: Actor,
    source: str,
    path: Path,
    *,
    filename: str | None = None,
    mapping: CardMapping | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import one settlement file; a file the parser cannot read at all (no header, a missing column)
    changes nothing and answers ``recon.bad_file``."""
    actor.require("recon.import")
    lines = parsed_lines(source, path, mapping)
    try:
        return reconciliation.import_file(
            deps,
            actor,
            source=source,
            filename=filename or path.name,
            fingerprint=file_fingerprint(path),
            size=path.stat().st_size,
            lines=lines,
            progress=progress,
        )
    except SettlementFormatError as exc:
        raise Invalid("recon.bad_file", detail=str(exc)[:200]) from None
