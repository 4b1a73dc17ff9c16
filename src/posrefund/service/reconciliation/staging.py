"""Staging a settlement file's lines a batch per short transaction: a file of a million lines never lives in
memory, and never holds the database's write lock for longer than one batch (on SQLite a writer locks the whole
database: refunds asked for meanwhile get their turn between two batches instead of failing after the lock's
timeout). The file counts nowhere until it is finished, so no run reads it half staged; a file refused at the end
is taken out again (``SettlementFileRepo.discard_import``). Each batch marks the import alive: one whose process
died is known by its silence and cleared by the next import (``imports.clear_abandoned``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sized

from posrefund.ports import StagedBatch
from posrefund.service.deps import Deps


def stage_in_batches(
    deps: Deps,
    file_id: str,
    merchant_id: str,
    lines: Iterable[object],
    batch: int,
    progress: Callable[[int], None] | None,
) -> StagedBatch:
    """Stage the lines ``batch`` at a time, each batch its own transaction; what they came to. An item may be a
    block of lines (the settlement adapter reads a plain table as columns, a few megabytes at a time): it counts as
    the lines it holds, and is staged whole."""
    staged = StagedBatch()
    buf: list[object] = []
    held = 0

    def flush() -> None:
        nonlocal staged, held
        with deps.uow() as uow:
            staged += uow.settlement_files.stage(file_id, merchant_id, buf)
            uow.settlement_files.beat(file_id, deps.clock.now())
            uow.commit()
        if progress:
            progress(held)
        buf.clear()
        held = 0

    for item in lines:
        buf.append(item)
        held += len(item) if isinstance(item, Sized) else 1
        if held >= batch:
            flush()
    if buf:
        flush()
    return staged
