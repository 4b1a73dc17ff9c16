"""Importing a settlement file (导入对账单): staged in batches so a file of millions of lines never lives in
memory; the same file again is recognised by its fingerprint and answered as a replay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from posrefund.domain.errors import Invalid, NotFound
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.reconciliation import (
    Source,
)
from posrefund.domain.refund import RefundStatus
from posrefund.domain.roles import Actor
from posrefund.ports import BadLineRow, SettlementFileRow, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.records import record

S = RefundStatus
BATCH = 5_000
PAGE_MAX = 500


def source_of(value: str) -> Source:
    try:
        return Source(value)
    except ValueError:
        raise Invalid("recon.invalid_source", source=value) from None


@dataclass
class ImportReport:
    file_id: str
    fingerprint: str
    duplicate: bool  # the same file (same bytes) was imported before: nothing was staged again
    lines: int = 0
    bad_lines: int = 0
    first_date: date | None = None
    last_date: date | None = None
    bad: list[BadLineRow] = field(default_factory=list)


def import_file(
    deps: Deps,
    actor: Actor,
    *,
    source: str,
    filename: str,
    fingerprint: str,
    size: int,
    lines: Iterable[object],
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> ImportReport:
    """Stage a parsed settlement file in one transaction (all or nothing), ``batch`` lines per statement.
    ``progress`` is told how many lines each batch held (the CLI drives a progress bar with it)."""
    actor.require("recon.import")
    src = source_of(source)
    refuse_card_data(filename, "filename")
    if "\x00" in filename or "\x00" in fingerprint:
        raise Invalid("request.invalid_character", field="filename")
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        earlier = uow.settlement_files.file_by_fingerprint(merchant_id, fingerprint)
        if earlier is not None:
            return _report(uow, earlier, duplicate=True)
        file_id = deps.ids.new_id("stf")
        uow.settlement_files.add_file(
            {
                "id": file_id,
                "merchant_id": merchant_id,
                "source": src.value,
                "fingerprint": fingerprint,
                "filename": filename[:200],
                "size": size,
                "line_count": 0,
                "bad_count": 0,
                "imported_by": actor.id,
                "imported_at": now,
            }
        )
        staged = _stage(uow, file_id, merchant_id, lines, batch, progress)
        uow.settlement_files.finish_file(file_id, staged.good, staged.bad, staged.first, staged.last)
        uow.settlement_files.refresh_statistics()
        record(
            uow,
            actor,
            merchant_id,
            "settlement.imported",
            now,
            file_id=file_id,
            source=src.value,
            fingerprint=fingerprint,
            lines=staged.good,
            bad_lines=staged.bad,
        )
        stored = uow.settlement_files.get_file(merchant_id, file_id)
        assert stored is not None
        report = _report(uow, stored, duplicate=False)
        uow.commit()
    return report


@dataclass
class _Staged:
    """What the batches staged so far add up to: good and bad lines, and the first and last business date."""

    good: int = 0
    bad: int = 0
    first: date | None = None
    last: date | None = None

    def add(self, good: int, bad: int, first: date | None, last: date | None) -> None:
        self.good, self.bad = self.good + good, self.bad + bad
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last


def _stage(
    uow: UnitOfWork,
    file_id: str,
    merchant_id: str,
    lines: Iterable[object],
    batch: int,
    progress: Callable[[int], None] | None,
) -> _Staged:
    """Stage the lines ``batch`` at a time, so a file of millions of lines never lives in memory."""
    staged = _Staged()
    buf: list[object] = []

    def flush() -> None:
        staged.add(*uow.settlement_files.stage(file_id, merchant_id, buf))
        if progress:
            progress(len(buf))
        buf.clear()

    for item in lines:
        buf.append(item)
        if len(buf) >= batch:
            flush()
    if buf:
        flush()
    return staged


def _report(uow: UnitOfWork, row: SettlementFileRow, duplicate: bool) -> ImportReport:
    return ImportReport(
        file_id=str(row["id"]),
        fingerprint=str(row["fingerprint"]),
        duplicate=duplicate,
        lines=int(row["line_count"]),
        bad_lines=int(row["bad_count"]),
        first_date=row["first_date"],
        last_date=row["last_date"],
        bad=uow.settlement_files.bad_lines(str(row["id"]), limit=20),
    )


def get_file(deps: Deps, actor: Actor, file_id: str, bad_limit: int = 100) -> dict[str, Any]:
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        row = uow.settlement_files.get_file(actor.merchant_id or "", file_id)
        if row is None:
            raise NotFound("recon.file_not_found")
        return {**row, "bad": uow.settlement_files.bad_lines(file_id, limit=max(1, min(bad_limit, 1_000)))}


# ---- fee rates ---------------------------------------------------------------------------------------------
