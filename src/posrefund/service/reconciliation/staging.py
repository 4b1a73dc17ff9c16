"""Staging a settlement file's lines a batch per short transaction: a file of a million lines never lives in
memory, and never holds the database's write lock for longer than one batch (on SQLite a writer locks the whole
database: refunds asked for meanwhile get their turn between two batches instead of failing after the lock's
timeout). The file has no dates until it is finished, so no run reads it half staged; a file refused at the end
is taken out again (``SettlementFileRepo.discard_import``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

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
    """Stage the lines ``batch`` at a time, each batch its own transaction; what they came to."""
    staged = StagedBatch()
    buf: list[object] = []

    def flush() -> None:
        nonlocal staged
        with deps.uow() as uow:
            staged += uow.settlement_files.stage(file_id, merchant_id, buf)
            uow.commit()
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
