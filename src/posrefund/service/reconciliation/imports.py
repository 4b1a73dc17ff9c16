"""Importing a settlement file (导入对账单): staged in batches so a file of millions of lines never lives in
memory; the same content again (in any copy) is recognised by its fingerprint and answered with the file it
already is; a line another file already holds counts once; a file of another merchant or with lines outside the
dates asked for is refused (see ``integrity``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.reconciliation import (
    Source,
)
from posrefund.domain.refund import RefundStatus
from posrefund.domain.roles import Actor
from posrefund.ports import BadLineRow, NewSettlementFileRow, SettlementFileRow, StagedBatch, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.reconciliation.integrity import ABANDONED_AFTER, check_request, duplicate_notice, file_state
from posrefund.service.reconciliation.staging import stage_in_batches
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
    duplicate: bool  # the same content was imported before: nothing was staged again
    lines: int = 0
    bad_lines: int = 0
    first_date: date | None = None
    last_date: date | None = None
    bad: list[BadLineRow] = field(default_factory=list)
    overlap_lines: int = 0  # lines an earlier file already holds: kept, counted once (there)
    notice: dict[str, Any] | None = None  # for a duplicate: ``recon.file_duplicate`` and which file it is


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
    date_from: date | None = None,
    date_to: date | None = None,
) -> ImportReport:
    """Stage a parsed settlement file, all or nothing, at least ``batch`` lines per short transaction (refunds are
    served between them; a refused file is taken out again; a block of lines the adapter read as columns is
    staged whole).
    ``progress`` is told how many lines each batch held (the CLI drives a progress bar with it). With
    ``date_from`` / ``date_to`` every line must be dated within them (``recon.file_out_of_range``)."""
    actor.require("recon.import")
    src = source_of(source)
    refuse_card_data(filename, "filename")
    if "\x00" in filename or "\x00" in fingerprint:
        raise Invalid("request.invalid_character", field="filename")
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        clear_abandoned(uow, actor, merchant_id, now)
        earlier = uow.settlement_files.file_by_fingerprint(merchant_id, fingerprint)
        if earlier is not None and earlier["heartbeat_at"] is not None:
            raise Conflict("recon.file_importing", file_id=earlier["id"])
        if earlier is not None and earlier["withdrawn_at"] is None:
            return _report(uow, earlier, duplicate=True)
        row = _file_row(deps, actor, src.value, earlier, (fingerprint, filename, size), now)
        file_id = row["id"]
        if earlier is None:
            uow.settlement_files.add_file(row)
        else:
            uow.settlement_files.reopen_file(file_id, now)
        uow.commit()  # unfinished: no run, statement or count reads it until ``_finish``
    try:
        staged = stage_in_batches(deps, file_id, merchant_id, lines, batch, progress)
        return _finish(deps, actor, row, staged, (date_from, date_to), again=earlier is not None)
    except BaseException:
        with deps.uow() as uow:  # all of the file or nothing: what was staged goes, the row is as it was
            uow.settlement_files.discard_import(merchant_id, file_id)
            uow.commit()
        raise


def clear_abandoned(uow: UnitOfWork, actor: Actor, merchant_id: str, now: datetime) -> None:
    """Take out the imports of the merchant whose importer died midway (killed, the machine lost): their lines
    count nowhere and would hold the place of the same lines in other files; each one cleared is audited. The
    same content can then be imported whole."""
    for row in uow.settlement_files.abandoned_imports(merchant_id, now - ABANDONED_AFTER):
        removed = uow.settlement_files.discard_import(merchant_id, str(row["id"]))
        record(
            uow,
            actor,
            merchant_id,
            "settlement.import_abandoned",
            now,
            file_id=row["id"],
            source=row["source"],
            fingerprint=row["fingerprint"],
            started_at=row["imported_at"].isoformat(),
            last_batch_at=row["heartbeat_at"].isoformat() if row["heartbeat_at"] else None,
            lines_removed=removed,
        )


def _finish(
    deps: Deps,
    actor: Actor,
    row: NewSettlementFileRow,
    staged: StagedBatch,
    dates: tuple[date | None, date | None],
    *,
    again: bool,
) -> ImportReport:
    """The file checked as a whole (whose it is, its dates), given its counts and dates, and audited."""
    file_id, merchant_id, source = str(row["id"]), str(row["merchant_id"]), str(row["source"])
    with deps.uow() as uow:
        check_request(uow, merchant_id, source, file_id, dates)
        uow.settlement_files.finish_file(row, staged, deps.clock.now())
        uow.settlement_files.refresh_statistics()
        record(
            uow,
            actor,
            merchant_id,
            "settlement.imported",
            row["imported_at"],
            file_id=file_id,
            source=source,
            fingerprint=row["fingerprint"],
            lines=staged.good,
            bad_lines=staged.bad,
            overlap_lines=staged.overlap,
            again_after_withdrawal=again,
        )
        stored = uow.settlement_files.get_file(merchant_id, file_id)
        assert stored is not None
        report = _report(uow, stored, duplicate=False)
        uow.commit()
    return report


def _file_row(
    deps: Deps,
    actor: Actor,
    source: str,
    earlier: SettlementFileRow | None,
    content: tuple[str, str, int],
    now: datetime,
) -> NewSettlementFileRow:
    """The file's row as the import starts: a withdrawn file imported again keeps its id."""
    fingerprint, filename, size = content
    return {
        "id": earlier["id"] if earlier else deps.ids.new_id("stf"),
        "merchant_id": actor.merchant_id or "",
        "source": source,
        "fingerprint": fingerprint,
        "filename": filename[:200],
        "size": size,
        "line_count": 0,
        "bad_count": 0,
        "imported_by": actor.id,
        "imported_at": now,
    }


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
        overlap_lines=int(row["overlap_count"]),
        notice=duplicate_notice(row) if duplicate else None,
    )


def get_file(deps: Deps, actor: Actor, file_id: str, bad_limit: int = 100) -> dict[str, Any]:
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        row = uow.settlement_files.get_file(actor.merchant_id or "", file_id)
        if row is None:
            raise NotFound("recon.file_not_found")
        bad = uow.settlement_files.bad_lines(file_id, limit=max(1, min(bad_limit, 1_000)))
    return {**row, "state": file_state(row, deps.clock.now()), "bad": bad}


# ---- fee rates ---------------------------------------------------------------------------------------------
