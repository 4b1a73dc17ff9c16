"""Importing the refunds the channel made without posrefund (渠道侧退款导入): a 退货 keyed at the terminal, a refund
made in the WeChat Pay or Alipay merchant platform. Reconciliation must know them, or every such line of the
settlement file is a ``missing_here``; and the sale must know them, or posrefund could refund the same money a
second time.

Each row names its sale as a refund request does (a wallet sale's order no.; a card sale's terminal, batch and
voucher no., or its RRN) and is recorded as a refund case already ``succeeded`` on the channel's word, by the
importing finance user, with the channel's references (our refund no. as the channel knows it, the channel's
refund id). The sale's refunded amount grows by it, under the same guard as every refund (never beyond the sale).

The whole file is checked first and every bad row reported with its line and code; then the file is written in
one transaction or not at all (a sale refunded meanwhile beyond what is left refuses the whole file: nothing is
half-imported). A refund no. already recorded for the same sale and amount is a duplicate, skipped: the same file
imported twice records its refunds once. One audit event per import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from posrefund.domain.errors import Conflict, DomainError, Invalid
from posrefund.domain.identifiers import BATCH_NO, ORDER_NO, RRN, VOUCHER_NO, is_identifier
from posrefund.domain.money import SUPPORTED_CURRENCIES
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.policy import Reason
from posrefund.domain.reconciliation import SOURCE_CHANNELS
from posrefund.domain.refund import MAX_NOTE, RefundCase, RefundStatus
from posrefund.domain.roles import Actor
from posrefund.ports import RefundableSale, RefundRules, RefundStamp, RefundValues, SaleKeys, TableBatch
from posrefund.service.deps import Deps
from posrefund.service.records import record
from posrefund.service.sales import CLOCK_SKEW, MAX_AMOUNT_FEN
from posrefund.service.sales_import import local_time

NOTE = "渠道侧退款导入 / refund made on the channel, imported"
_KINDS = ("refund", "void")
# The channels a settlement file reports on: a cash or cheque refund is no channel's to make.
_CHANNELS = frozenset(c for channels in SOURCE_CHANNELS.values() for c in channels)


@dataclass(frozen=True)
class RefundRow:
    """One row of a refunds file, read."""

    refund_no: str  # 商户退款单号 / out_refund_no: the number the channel holds the refund under
    channel: str
    keys: SaleKeys
    amount_fen: int
    currency: str
    refunded_at: datetime
    channel_refund_id: str  # the channel's own refund id (a card refund's RRN)
    kind: str
    note: str


@dataclass
class RefundImportReport:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0  # already recorded with the same sale and amount: skipped
    errors: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    naive_times: int = 0
    refund_ids: list[str] = field(default_factory=list)


def read_refund(rec: Mapping[str, str], terminals: Mapping[str, str], zone: tzinfo) -> tuple[RefundRow, bool]:
    """A row as read (ValueError, KeyError… when it cannot be), and whether its time had no offset."""

    def text(name: str, default: str = "") -> str:
        return (rec.get(name) or default).strip()

    at, naive = local_time(rec["refunded_at"], zone)
    term = text("terminal_id")
    keys = SaleKeys(
        order_no=text("order_no"),
        terminal_id=terminals.get(term, term),
        batch_no=text("batch_no"),
        voucher_no=text("voucher_no"),
        rrn=text("rrn"),
    )
    row = RefundRow(
        refund_no=text("refund_no"),
        channel=text("channel"),
        keys=keys,
        amount_fen=int(rec["amount_fen"]),
        currency=text("currency", "CNY"),
        refunded_at=at,
        channel_refund_id=text("channel_refund_id"),
        kind=text("kind", "refund"),
        note=text("note"),
    )
    return row, naive


def check_refund(row: RefundRow, now: datetime) -> None:
    """What a row must hold before its sale is looked for: the same patterns as everywhere else."""
    bad = _bad_field(row)
    if bad:
        raise Invalid("refund_import.invalid_field", field=bad)
    if not 0 < row.amount_fen <= MAX_AMOUNT_FEN:
        raise Invalid("refund_import.invalid_field", field="amount_fen")
    if row.currency not in SUPPORTED_CURRENCIES:
        raise Invalid("money.unsupported_currency", currency=row.currency)
    if row.refunded_at > now + CLOCK_SKEW:
        raise Invalid("refund_import.invalid_field", field="refunded_at")
    refuse_card_data(row.note, "note")


def _bad_field(row: RefundRow) -> str:
    k = row.keys
    checks = (
        ("refund_no", bool(row.refund_no) and is_identifier(ORDER_NO, row.refund_no)),
        ("channel", row.channel in _CHANNELS),
        ("kind", row.kind in _KINDS),
        ("order_no", is_identifier(ORDER_NO, k.order_no)),
        ("voucher_no", not k.voucher_no or is_identifier(VOUCHER_NO, k.voucher_no)),
        ("batch_no", not k.batch_no or is_identifier(BATCH_NO, k.batch_no)),
        ("rrn", not k.rrn or is_identifier(RRN, k.rrn)),
        ("channel_refund_id", is_identifier(ORDER_NO, row.channel_refund_id)),
        ("sale", bool(k.order_no or k.rrn or (k.terminal_id and k.voucher_no))),
        ("note", len(row.note) <= MAX_NOTE),
    )
    return next((name for name, ok in checks if not ok), "")


REFUND_RULES = RefundRules(
    order_no=ORDER_NO,
    voucher_no=VOUCHER_NO,
    batch_no=BATCH_NO,
    rrn=RRN,
    channels=_CHANNELS,
    kinds=_KINDS,
    currencies=SUPPORTED_CURRENCIES,
    max_amount_fen=MAX_AMOUNT_FEN,
    max_note=MAX_NOTE,
    clock_skew_seconds=int(CLOCK_SKEW.total_seconds()),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def refund_terminals(deps: Deps, actor: Actor) -> dict[str, str]:
    """Terminal no. (终端号) → terminal id, for a file that names a card sale's terminal by its number."""
    actor.require("recon.import")
    with deps.uow(readonly=True) as uow:
        return {str(t["terminal_no"]): str(t["id"]) for t in uow.merchants.list_terminals(actor.merchant_id or "")}


def read_refunds(
    deps: Deps, actor: Actor, records: Iterable[tuple[int, Mapping[str, str]]], zone: tzinfo
) -> tuple[list[tuple[int, RefundRow]], RefundImportReport]:
    """Every row read and checked on its own; the bad ones in the report."""
    terminals = refund_terminals(deps, actor)
    now = deps.clock.now()
    report = RefundImportReport()
    good: list[tuple[int, RefundRow]] = []
    for line, rec in records:
        report.rows += 1
        try:
            try:
                row, naive = read_refund(rec, terminals, zone)
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                raise Invalid("import.bad_line", detail=type(exc).__name__ + ": " + str(exc)[:80]) from None
            check_refund(row, now)
        except DomainError as err:
            report.errors.append((line, err.code, err.params))
            continue
        report.naive_times += naive
        good.append((line, row))
    return good, report


def import_refunds(
    deps: Deps,
    actor: Actor,
    records: Iterable[tuple[int, Mapping[str, str]]],
    zone: tzinfo,
    source: str = "",
    progress: Callable[[int], None] | None = None,
) -> RefundImportReport:
    """A file read one row at a time (``tabular.read_rows``): every row is checked on its own (see
    ``import_refund_table``)."""
    table = TableBatch(clean=None, clean_rows=0, naive=0, rest=list(records))
    return import_refund_table(deps, actor, table, zone, source, progress)


def import_refund_table(
    deps: Deps,
    actor: Actor,
    table: TableBatch,
    zone: tzinfo,
    source: str = "",
    progress: Callable[[int], None] | None = None,
) -> RefundImportReport:
    """Check the whole file, then record all of its new refunds in one transaction, or none when a row is bad.
    The rows a bulk reader cleared and the rest, once checked one at a time, are matched to their sales in one
    join; a file that is not plainly good is judged again row by row, so each bad row is named with its code."""
    checked, report = read_refunds(deps, actor, table.rest, zone)
    report.rows += table.clean_rows
    report.naive_times += table.naive
    merchant_id = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        plan = uow.external_refunds.plan_refunds(merchant_id, table.clean, [_values(ln, row) for ln, row in checked])
    if progress:
        progress(report.rows)
    if not plan.cleared:
        return _import_rows(deps, actor, [(v[0], _row_of(v)) for v in plan.rows], report, source)
    if report.errors or plan.count == 0:
        report.duplicates = 0 if report.errors else plan.duplicates
        return report
    now = deps.clock.now()
    stamp = RefundStamp(
        merchant_id, actor.id, actor.role.value, now, NOTE, MAX_NOTE, deps.ids.new_ids("rfd", plan.count)
    )
    with deps.uow() as uow:
        if not uow.external_refunds.add_refund_table(plan, stamp):
            raise Conflict("refund_import.over_refund", line=0)  # refunded meanwhile: the whole file waits
        _audit(uow, actor, now, source, report.rows, plan.count, plan.duplicates, plan.amount_fen)
        uow.commit()
    report.imported = plan.count
    report.duplicates = plan.duplicates
    report.refund_ids = list(stamp.ids)
    return report


def _values(line: int, row: RefundRow) -> RefundValues:
    k = row.keys
    at = (row.refunded_at - _EPOCH) // _MICRO
    return (line, row.refund_no, row.channel, k.order_no, k.terminal_id, k.batch_no, k.voucher_no, k.rrn,
            row.amount_fen, row.currency, at, row.channel_refund_id, row.kind, row.note)  # fmt: skip


def _row_of(v: RefundValues) -> RefundRow:
    keys = SaleKeys(order_no=v[3], terminal_id=v[4], batch_no=v[5], voucher_no=v[6], rrn=v[7])
    at = _EPOCH + v[10] * _MICRO
    return RefundRow(v[1], v[2], keys, v[8], v[9], at, v[11], v[12], v[13])


def _audit(
    uow: Any, actor: Actor, now: datetime, source: str, rows: int, imported: int, duplicates: int, amount_fen: int
) -> None:
    record(
        uow,
        actor,
        actor.merchant_id or "",
        "refund.channel_imported",
        now,
        source=source[:200],
        rows=rows,
        imported=imported,
        duplicates=duplicates,
        amount_fen=amount_fen,
    )


def _import_rows(
    deps: Deps, actor: Actor, good: list[tuple[int, RefundRow]], report: RefundImportReport, source: str
) -> RefundImportReport:
    """The file judged one row at a time, as it was before the bulk match: each row's sale looked for, the
    refunds already recorded, the sale's amount left; every bad row reported with its line and code."""
    merchant_id = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        sales = uow.external_refunds.sales_by_keys(merchant_id, [row.keys for _, row in good])
        known = uow.external_refunds.refunds_by_no([row.refund_no for _, row in good])
    cases = _cases(deps, actor, good, sales, known, report)
    report.errors.sort(key=lambda error: error[0])  # in the file's order, whichever check found them
    if report.errors or not cases:
        return report
    now = deps.clock.now()
    with deps.uow() as uow:
        if not uow.external_refunds.add_refunds(cases):
            raise Conflict("refund_import.over_refund", line=0)  # refunded meanwhile: the whole file waits
        _audit(uow, actor, now, source, report.rows, len(cases), report.duplicates, sum(c.amount_fen for c in cases))
        uow.commit()
    report.imported = len(cases)
    report.refund_ids = [c.id for c in cases]
    return report


def _cases(
    deps: Deps,
    actor: Actor,
    good: list[tuple[int, RefundRow]],
    sales: Mapping[SaleKeys, RefundableSale],
    known: Mapping[str, tuple[str, str, int]],
    report: RefundImportReport,
) -> list[RefundCase]:
    """The new refunds as cases; a row whose sale is not found, would overdraw it, or whose refund no. another
    refund holds goes to the report."""
    left: dict[str, int] = {}
    seen: dict[str, tuple[str, int]] = {}
    out: list[RefundCase] = []
    for line, row in good:
        sale = sales.get(row.keys)
        try:
            if sale is None or sale.channel != row.channel:
                raise Invalid("refund_import.sale_not_found")
            if row.currency != sale.currency:
                raise Invalid("refund_import.currency_mismatch", currency=row.currency, sale_currency=sale.currency)
            same = known.get(row.refund_no) or (
                (actor.merchant_id or "", *seen[row.refund_no]) if row.refund_no in seen else None
            )
            if same is not None:
                if same != (actor.merchant_id or "", sale.sale_id, row.amount_fen):
                    raise Conflict("refund_import.refund_no_taken", refund_no=row.refund_no)
                report.duplicates += 1
                continue
            remaining = left.setdefault(sale.sale_id, sale.refundable_fen)
            if row.amount_fen > remaining:
                raise Conflict("refund_import.over_refund", line=line, refundable_fen=remaining)
        except DomainError as err:
            report.errors.append((line, err.code, err.params))
            continue
        left[sale.sale_id] = remaining - row.amount_fen
        seen[row.refund_no] = (sale.sale_id, row.amount_fen)
        out.append(_case(deps, actor, row, sale))
    return out


def _case(deps: Deps, actor: Actor, row: RefundRow, sale: RefundableSale) -> RefundCase:
    """A refund the channel already made: succeeded at its time, recorded by the importing user."""
    now = deps.clock.now()
    return RefundCase(
        id=deps.ids.new_id("rfd"),
        merchant_id=actor.merchant_id or "",
        store_id=sale.store_id,
        terminal_id=sale.terminal_id,
        sale_id=sale.sale_id,
        refund_no=row.refund_no,
        amount_fen=row.amount_fen,
        currency=row.currency,
        reason=Reason.OTHER,
        note=(NOTE + (": " + row.note if row.note else ""))[:MAX_NOTE],
        status=RefundStatus.SUCCEEDED,
        requested_by=actor.id,
        requested_role=actor.role.value,
        created_at=row.refunded_at,
        updated_at=now,
        required_approvals=0,
        channel=row.channel,
        method=row.kind,
        submitted=True,
        channel_refund_id=row.channel_refund_id,
        sent_at=row.refunded_at,
        succeeded_at=row.refunded_at,
    )
