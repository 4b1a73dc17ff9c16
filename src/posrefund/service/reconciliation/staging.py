"""Staging a settlement file's lines a batch per short transaction: a file of a million lines never lives in
memory, and never holds the database's write lock for longer than one batch (on SQLite a writer locks the whole
database: refunds asked for meanwhile get their turn between two batches instead of failing after the lock's
timeout). The file counts nowhere until it is finished, so no run reads it half staged; a file refused at the end
is taken out again (``SettlementFileRepo.discard_import``). Each batch marks the import alive: one whose process
died is known by its silence and cleared by the next import (``imports.clear_abandoned``).

Where the database takes writers side by side (PostgreSQL), the file's next lines are read and parsed while a
batch is written (``read_ahead``): the server writes while we parse (a 300,000-line bill 8.5–8.8 → 7.4 s). On
SQLite they are not: there the reading between two batches is the window in which the refunds asked meanwhile
take the database's one write lock; read ahead, the batches followed each other without a gap, and refund
requests waited up to 2 s (p99 1.3–2.2 s against 0.3 s) for a 26 % faster import."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import nullcontext

from posrefund.ports import StagedBatch
from posrefund.service.deps import Deps
from posrefund.service.read_ahead import read_ahead


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
    batches = _batches(lines, batch)
    with read_ahead(batches) if deps.uow.writers > 1 else nullcontext(batches) as ahead:
        for items, held in ahead:
            with deps.uow() as uow:
                staged += uow.settlement_files.stage(file_id, merchant_id, items)
                uow.settlement_files.beat(file_id, deps.clock.now())
                uow.commit()
            if progress:
                progress(held)
    return staged


def _batches(lines: Iterable[object], batch: int) -> Iterator[tuple[list[object], int]]:
    """The items in lists of at least ``batch`` lines (the last one shorter), each with the lines it holds."""
    items: list[object] = []
    held = 0
    for item in lines:
        items.append(item)
        held += len(item) if isinstance(item, Sized) else 1
        if held >= batch:
            yield items, held
            items, held = [], 0
    if items:
        yield items, held
