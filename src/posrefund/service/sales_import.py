"""Importing sales in bulk (导入消费记录): a POS export or a back-office table of hundreds of thousands of rows.

Every row is checked exactly as a sale recorded through the API (``sales.check_fields``), then the good rows are
written a batch at a time, one short transaction and one audit event per batch, in statements of thousands of
rows that skip a sale already recorded (its card keys, or a wallet sale's order no.): a file imported twice
counts its sales once, and the refunds served meanwhile never wait long for the database. A bad row is reported
with its line number and never stops the import.

A time written without its offset is the merchant's local time (``local_zone``, Asia/Shanghai unless configured):
the report counts those rows so the caller can say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import partial
from typing import Any, TypeVar

from posrefund.domain.errors import DomainError, Invalid, NotFound
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale, SaleKey, sale_key
from posrefund.domain.sale_items import SaleLine, parse_items_text
from posrefund.ports import ImportScope, SaleStamp, TableBatch
from posrefund.service.batch_writes import BatchWrites
from posrefund.service.deps import Deps
from posrefund.service.read_ahead import read_ahead
from posrefund.service.records import record
from posrefund.service.sales import SaleInput, build_sale, check_fields

BATCH = 20_000  # rows per transaction: a few tens of milliseconds of writing, then refunds get their turn
T = TypeVar("T")


@dataclass
class ImportReport:
    imported: int = 0
    duplicates: int = 0  # already recorded (or twice in the file): skipped
    errors: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    rows: int = 0
    naive_times: int = 0  # rows whose time had no offset (read in the merchant's zone); import_table counts them


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    buf: list[T] = []
    for item in items:
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def local_time(text: str, local_zone: tzinfo) -> tuple[datetime, bool]:
    """An ISO time; one without an offset is read in ``local_zone``. True when it had none."""
    at = datetime.fromisoformat(text.strip())
    if at.tzinfo is None:
        return at.replace(tzinfo=local_zone), True
    return at, False


def sale_input(rec: Mapping[str, str], terminals: Mapping[str, str], local_zone: tzinfo) -> tuple[SaleInput, bool]:
    """One row of an import (columns as ``POST /v1/sales``; ``terminal_id`` may be the 终端号; a wallet sale may
    leave voucher, batch and RRN empty; ``items`` the sale's item lines as ``parse_items_text`` reads them) as the
    sale it records, and whether its time was naive."""
    term = (rec.get("terminal_id") or "").strip()
    paid_at, naive = local_time(rec["paid_at"], local_zone)
    inp = SaleInput(
        terminal_id=terminals.get(term, term),
        voucher_no=(rec.get("voucher_no") or "").strip(),
        rrn=(rec.get("rrn") or "").strip(),
        batch_no=(rec.get("batch_no") or "").strip(),
        auth_code=(rec.get("auth_code") or "").strip(),
        order_no=(rec.get("order_no") or "").strip(),
        channel=rec["channel"].strip(),
        kind=(rec.get("kind") or "sale").strip(),
        amount_fen=int(rec["amount_fen"]),
        fee_fen=int(rec.get("fee_fen") or 0),
        currency=(rec.get("currency") or "CNY").strip(),
        paid_at=paid_at,
        payer_masked=(rec.get("payer_masked") or "").strip(),
        settlement_status=(rec.get("settlement_status") or "unsettled").strip(),
        items=parse_items_text(rec.get("items") or ""),
    )
    return inp, naive


def read_sales(
    records: Iterable[tuple[int, Mapping[str, str]]],
    terminals: Mapping[str, str],
    local_zone: tzinfo,
    naive: Callable[[], None] | None = None,
) -> Iterator[tuple[int, SaleInput | DomainError]]:
    """``(line, SaleInput)`` per row, or ``(line, Invalid)`` for a row that cannot be read; ``naive`` is told of
    each row whose time had no offset."""
    for line, rec in records:
        try:
            inp, was_naive = sale_input(rec, terminals, local_zone)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            yield line, Invalid("import.bad_line", detail=type(exc).__name__ + ": " + str(exc)[:80])
            continue
        if was_naive and naive is not None:
            naive()
        yield line, inp


def import_sales(
    deps: Deps,
    actor: Actor,
    rows: Iterable[tuple[int, SaleInput | DomainError]],
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> ImportReport:
    """Rows arrive already read, each with its line number; each batch is checked, then written in bulk."""
    actor.require("sale.import")
    report = ImportReport()
    merchant_id = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        stores = {str(t["id"]): str(t["store_id"]) for t in uow.merchants.list_terminals(merchant_id)}
    for chunk in chunks(rows, batch):
        now = deps.clock.now()
        checked, items = _checked(deps, actor, chunk, stores, now, report)
        sales = [sale for _, sale in checked]
        with deps.uow() as uow:
            inserted = uow.sales.add_sales(sales, now)
            if items:  # the item lines of the sales this batch recorded (not of one skipped as known)
                uow.sale_items.add_lines_of_recorded(items)
            record(uow, actor, merchant_id, "sale.imported", now, rows=len(chunk), imported=inserted)
            uow.commit()
        report.rows += len(chunk)
        report.imported += inserted
        report.duplicates += len(sales) - inserted
        if progress:
            progress(len(chunk))
    return report


def import_scope(deps: Deps, actor: Actor) -> ImportScope:
    """The terminals an import may name (by 终端号 or id) and their stores: the actor's own terminal only when
    the actor is a terminal."""
    actor.require("sale.import")
    with deps.uow(readonly=True) as uow:
        terminals = uow.merchants.list_terminals(actor.merchant_id or "")
    mine = [t for t in terminals if actor.terminal_id is None or str(t["id"]) == actor.terminal_id]
    return ImportScope(
        terminals={str(t["terminal_no"]): str(t["id"]) for t in terminals},
        stores={str(t["id"]): str(t["store_id"]) for t in mine},
    )


def import_table(
    deps: Deps,
    actor: Actor,
    scope: ImportScope,
    batches: Iterable[TableBatch],
    local_zone: tzinfo,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """A file read in batches by a bulk reader: its clean rows are written as they are, the rest read and
    checked one at a time (``read_sales``, ``check_fields``); each batch in one short transaction with its audit
    event, in the file's order."""
    actor.require("sale.import")
    report = ImportReport()
    merchant_id = actor.merchant_id or ""
    sold_by = actor.id if actor.terminal_id is None else ""

    def saw_naive() -> None:
        report.naive_times += 1

    def counted(batch: TableBatch, candidates: int) -> Callable[[int], None]:
        def done(inserted: int) -> None:
            report.rows += batch.rows
            report.imported += inserted
            report.duplicates += candidates - inserted
            if progress:
                progress(batch.rows)

        return done

    with BatchWrites[int](deps.uow.writers) as writes, read_ahead(batches) as ahead:
        for batch in ahead:
            now = deps.clock.now()
            report.naive_times += batch.naive
            rest = list(read_sales(batch.rest, scope.terminals, local_zone, saw_naive))
            checked, items = _checked(deps, actor, rest, scope.stores, now, report)
            stamp = SaleStamp(merchant_id, sold_by, now, sorted(deps.ids.new_ids("sal", batch.clean_rows)))
            write = partial(_write_batch, deps, actor, batch, checked, items, stamp, now)
            writes.submit(partial(_keys, batch, checked), write, counted(batch, batch.clean_rows + len(checked)))
    return report


def _keys(batch: TableBatch, checked: list[tuple[int, Sale]]) -> frozenset[SaleKey]:
    """The sales a batch writes, by the keys that make two rows one sale (clean rows and checked ones)."""
    mine = (sale_key(s.terminal_id, s.batch_no, s.voucher_no, s.order_no) for _, s in checked)
    return batch.keys() | {k for k in mine if k is not None}


def _write_batch(
    deps: Deps,
    actor: Actor,
    batch: TableBatch,
    checked: list[tuple[int, Sale]],
    items: dict[str, tuple[SaleLine, ...]],
    stamp: SaleStamp,
    now: datetime,
) -> int:
    """One batch in one transaction with its audit event; how many of its sales were new."""
    with deps.uow() as uow:
        inserted = uow.sales.add_sale_table(batch.clean, checked, stamp)
        if items:
            uow.sale_items.add_lines_of_recorded(items)
        record(uow, actor, stamp.merchant_id, "sale.imported", now, rows=batch.rows, imported=inserted)
        uow.commit()
    return inserted


def _checked(
    deps: Deps,
    actor: Actor,
    chunk: list[tuple[int, SaleInput | DomainError]],
    stores: Mapping[str, str],
    now: datetime,
    report: ImportReport,
) -> tuple[list[tuple[int, Sale]], dict[str, tuple[SaleLine, ...]]]:
    """The batch's sales that pass every check, each with its line, and the item lines of those that have some;
    the others go to the report with their line and code."""
    sales: list[tuple[int, Sale]] = []
    items: dict[str, tuple[SaleLine, ...]] = {}
    for line, item in chunk:
        try:
            if isinstance(item, DomainError):
                raise item
            check_fields(item, now)
            store_id = stores.get(item.terminal_id)
            if store_id is None or (actor.terminal_id is not None and actor.terminal_id != item.terminal_id):
                raise NotFound("terminal.not_found")
        except DomainError as err:
            report.errors.append((line, err.code, err.params))
            continue
        sale = build_sale(actor, item, store_id, deps.ids.new_id("sal"))
        sales.append((line, sale))
        if item.items:
            items[sale.id] = item.items
    return sales, items
