"""Keeping the refund reports' daily aggregates: a change to a case or a sale marks its day (an append-only
row, in the same transaction), and a rebuild recomputes each marked day of a merchant from the cases and sales
themselves. A day is always rebuilt whole, so a rebuild is right however many changes, in whatever order,
marked it; a change committed while a rebuild runs keeps its mark and is rebuilt again the next time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, func, insert, literal, select

from posrefund.adapters.db import tables
from posrefund.adapters.db.prebuilt import Prebuilt
from posrefund.domain.reports import COUNT_FIELDS, STORED, WAIT_COLUMNS, CaseFacts, tally

# Report days are days in China (no daylight saving time there, so one fixed offset converts them both ways).
REPORT_TZ = ZoneInfo("Asia/Shanghai")
MARK_DAY = Prebuilt(insert(tables.report_changes), held=True)
_R = tables.refunds.c
_S = tables.sales.c
_RD = tables.report_refund_days
_SD = tables.report_sale_days
_CH = tables.report_changes.c
FACT_COLUMNS = (
    _R.store_id,
    _R.terminal_id,
    _R.requested_by,
    _R.channel,
    _R.reason,
    _R.rerouted_by,
    _R.status,
    _R.currency,
    _R.amount_fen,
    _R.created_at,
    _R.succeeded_at,
)


def local_day(moment: datetime) -> date:
    return moment.astimezone(REPORT_TZ).date()


def day_start(day: date) -> datetime:
    """The first instant of a local day, in UTC."""
    return datetime.combine(day, time(), REPORT_TZ).astimezone(UTC)


def mark_day(conn: Connection, merchant_id: str, day: date) -> None:
    """The aggregates of this merchant's day are out of date (a case requested that day, or a sale paid that
    day, changed): one more row, never an update, so concurrent writers never wait on each other here."""
    MARK_DAY.run(conn, {"merchant_id": merchant_id, "day": day})


def facts_of(rows: Iterable[Any]) -> Iterator[CaseFacts]:
    for r in rows:
        yield CaseFacts(*r)


def changed_merchants(conn: Connection) -> list[str]:
    return [str(row[0]) for row in conn.execute(select(_CH.merchant_id).distinct())]


def catch_up(conn: Connection, merchant_id: str) -> int:
    """Take the merchant's marks and rebuild their days, in the caller's transaction. The merchant's row is
    locked first (not against its cases' inserts: ``FOR NO KEY UPDATE``), so two rebuilds of one merchant take
    turns instead of inserting the same aggregate rows twice."""
    lock = select(tables.merchants.c.id).where(tables.merchants.c.id == merchant_id).with_for_update(key_share=True)
    conn.execute(lock)
    taken = conn.execute(delete(tables.report_changes).where(_CH.merchant_id == merchant_id).returning(_CH.day))
    days = sorted({row[0] for row in taken})
    for day in days:
        rebuild_day(conn, merchant_id, day)
    return len(days)


def rebuild_day(conn: Connection, merchant_id: str, day: date) -> None:
    conn.execute(delete(_RD).where(_RD.c.merchant_id == merchant_id, _RD.c.dimension.in_(STORED), _RD.c.day == day))
    rows = conn.execute(
        select(*FACT_COLUMNS).where(
            _R.merchant_id == merchant_id,
            _R.created_at >= day_start(day),
            _R.created_at < day_start(day + timedelta(days=1)),
        )
    )
    cells = tally(facts_of(rows))
    if cells:
        names = ("currency", "store_id", "channel", "dimension", "value")
        conn.execute(
            insert(_RD),
            [
                {
                    "merchant_id": merchant_id,
                    "day": day,
                    **dict(zip(names, key, strict=True)),
                    **dict(zip((*COUNT_FIELDS, *WAIT_COLUMNS), cell.values(), strict=True)),
                }
                for key, cell in cells.items()
            ],
        )
    conn.execute(delete(_SD).where(_SD.c.merchant_id == merchant_id, _SD.c.day == day))
    keys = (_S.currency, _S.store_id, _S.channel, _S.terminal_id)
    sums = (
        select(literal(merchant_id), literal(day), *keys, func.count(), func.sum(_S.amount_fen))
        .where(_S.merchant_id == merchant_id, _S.paid_date == day)
        .group_by(*keys)
    )
    target = ("merchant_id", "day", "currency", "store_id", "channel", "terminal_id", "sales", "sales_fen")
    conn.execute(insert(_SD).from_select(target, sums))


def mark_days(conn: Connection, merchant_id: str, first: date, last: date) -> int:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if days:
        conn.execute(insert(tables.report_changes), [{"merchant_id": merchant_id, "day": d} for d in days])
    return len(days)
