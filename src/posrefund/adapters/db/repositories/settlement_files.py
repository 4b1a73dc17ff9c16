"""Imported settlement files and their lines, staged batch by batch as the parser streams them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import and_, exists, func, insert, or_, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.recon_scope import SHANGHAI, L
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.adapters.settlement.model import BadLine, SettlementLine
from posrefund.ports import BadLineRow, NewSettlementFileRow, RefundLineQuery, SettlementFileRow, SettlementLineRow

_F, _B = t.settlement_files.c, t.settlement_bad_lines.c


class SettlementFileSql(Repository):
    def file_by_fingerprint(self, merchant_id: str, fingerprint: str) -> SettlementFileRow | None:
        q = select(t.settlement_files).where(_F.merchant_id == merchant_id, _F.fingerprint == fingerprint)
        return cast(SettlementFileRow | None, first_row(self.c, q))

    def get_file(self, merchant_id: str, file_id: str) -> SettlementFileRow | None:
        q = select(t.settlement_files).where(_F.merchant_id == merchant_id, _F.id == file_id)
        return cast(SettlementFileRow | None, first_row(self.c, q))

    def add_file(self, row: NewSettlementFileRow) -> None:
        self.c.execute(insert(t.settlement_files).values(**row))

    def finish_file(self, file_id: str, line_count: int, bad_count: int, first: date | None, last: date | None) -> None:
        self.c.execute(
            update(t.settlement_files)
            .where(_F.id == file_id)
            .values(line_count=line_count, bad_count=bad_count, first_date=first, last_date=last)
        )

    def stage(
        self, file_id: str, merchant_id: str, items: Sequence[object]
    ) -> tuple[int, int, date | None, date | None]:
        """Write one batch of parsed lines (good and bad); returns counts and the batch's date span."""
        good: list[dict[str, Any]] = []
        bad: list[dict[str, Any]] = []
        for parsed in items:
            item = parsed
            if isinstance(item, SettlementLine) and _has_nul(item):
                item = BadLine(item.line_no, "NUL character in a field", "")  # no database text holds NUL
            if isinstance(item, BadLine):
                bad.append(_bad_row(file_id, item))
            else:
                assert isinstance(item, SettlementLine)
                good.append(_line_row(file_id, merchant_id, item))
        if good:
            self.c.execute(insert(t.settlement_lines), good)
        if bad:
            self.c.execute(insert(t.settlement_bad_lines), bad)
        days = [row["local_date"] for row in good]
        return len(good), len(bad), min(days, default=None), max(days, default=None)

    def refresh_statistics(self) -> None:
        """Let the query planner see the staged table's shape (a freshly filled table has no statistics; a
        planner that guesses drives the joins from the wrong side). SQLite samples at most a few hundred rows
        per index; PostgreSQL samples its default."""
        if self.c.dialect.name == "sqlite":
            self.c.exec_driver_sql("PRAGMA analysis_limit=400")
            self.c.exec_driver_sql("ANALYZE")
        else:
            for name in ("settlement_lines", "sales", "refunds"):
                self.c.exec_driver_sql(f"ANALYZE {name}")

    def bad_lines(self, file_id: str, limit: int = 100) -> list[BadLineRow]:
        q = select(_B.line_no, _B.reason, _B.excerpt).where(_B.file_id == file_id).order_by(_B.line_no).limit(limit)
        return cast(list[BadLineRow], all_rows(self.c, q))

    def files_for(self, merchant_id: str, source: str, date_from: date, date_to: date) -> list[SettlementFileRow]:
        """The merchant's files of this channel with lines in the range: the default file set of a run."""
        q = (
            select(t.settlement_files)
            .where(
                _F.merchant_id == merchant_id,
                _F.source == source,
                _F.first_date <= date_to,
                _F.last_date >= date_from,
            )
            .order_by(_F.fingerprint)
        )
        return cast(list[SettlementFileRow], all_rows(self.c, q))

    def files(self, merchant_id: str, limit: int) -> list[SettlementFileRow]:
        """The merchant's latest imported files, newest first (the console's list)."""
        q = (
            select(t.settlement_files)
            .where(_F.merchant_id == merchant_id)
            .order_by(_F.imported_at.desc(), _F.id.desc())
            .limit(limit)
        )
        return cast(list[SettlementFileRow], all_rows(self.c, q))

    def line(self, merchant_id: str, line_id: int) -> SettlementLineRow | None:
        q = select(t.settlement_lines).where(L.id == line_id, L.merchant_id == merchant_id)
        return cast(SettlementLineRow | None, first_row(self.c, q))

    def acquirer_merchant_nos(self, merchant_id: str, file_ids: Sequence[str]) -> tuple[set[str], int]:
        """The acquirer merchant numbers these files' lines carry, and how many of their sale lines have the
        RRN of one of this merchant's sales: together, the proof that the files are this merchant's."""
        in_files = and_(L.merchant_id == merchant_id, L.file_id.in_(list(file_ids)))
        numbers = {str(r[0]) for r in self.c.execute(select(L.merchant_no).where(in_files).distinct())}
        sale = t.sales.c
        ours = (
            select(func.count())
            .select_from(t.settlement_lines.join(t.sales, and_(sale.merchant_id == merchant_id, sale.rrn == L.rrn)))
            .where(in_files, L.kind == "sale", L.rrn != "")
        )
        return numbers, int(self.c.execute(ours).scalar_one())

    def refund_line(self, query: RefundLineQuery) -> SettlementLineRow | None:
        """The first refund line of the terminal and amount that names our refund no. or the original sale's
        RRN or voucher no., and no other refund's number or channel reference."""
        keys = [L.merchant_refund_no == query.refund_no]
        keys += [L.rrn == query.sale_rrn] if query.sale_rrn else []
        keys += [L.rrn == query.channel_refund_id] if query.channel_refund_id else []
        keys += [L.voucher_no == query.sale_voucher_no] if query.sale_voucher_no else []
        other = t.refunds.c
        q = select(t.settlement_lines).where(
            L.merchant_id == query.merchant_id,
            L.kind == "refund",
            L.local_date >= query.date_from,
            L.local_date <= query.date_to,
            L.terminal_no == query.terminal_no,
            L.amount_fen == query.amount_fen,
            or_(*keys),
            L.id.not_in(sorted(query.skip)),
        )
        if query.free_only:
            q = q.where(
                L.merchant_refund_no.in_(("", query.refund_no)),
                ~exists().where(
                    other.merchant_id == query.merchant_id,
                    other.id != query.refund_id,
                    other.channel_refund_id == L.rrn,
                    other.channel_refund_id != "",
                ),
            )
        if query.file_ids is not None:
            q = q.where(L.file_id.in_(query.file_ids))
        return cast(SettlementLineRow | None, first_row(self.c, q.order_by(L.local_date, L.id)))


def _has_nul(line: SettlementLine) -> bool:
    return any("\x00" in v for v in (getattr(line, f) for f in line.__slots__) if isinstance(v, str))


def _bad_row(file_id: str, item: BadLine) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "line_no": item.line_no,
        "reason": item.reason[:200],
        "excerpt": item.text_excerpt[:200],
    }


def _line_row(file_id: str, merchant_id: str, item: SettlementLine) -> dict[str, Any]:
    """A staged line: texts cut to their columns, the local settlement date and the epoch second added."""
    return {
        "file_id": file_id,
        "merchant_id": merchant_id,
        "line_no": item.line_no,
        "kind": item.kind,
        "occurred_at": item.occurred_at,
        "occurred_epoch": int(item.occurred_at.timestamp()),
        "local_date": item.occurred_at.astimezone(SHANGHAI).date(),
        "amount_fen": item.amount_fen,
        "fee_fen": item.fee_fen,
        "settled_fen": item.amount_fen if item.settled_fen is None else item.settled_fen,
        "currency": item.currency,
        "merchant_no": item.merchant_no[:32],
        "terminal_no": item.terminal_no[:32],
        "voucher_no": item.voucher_no[:16],
        "rrn": item.rrn[:32],
        "channel_trade_no": item.channel_trade_no[:64],
        "merchant_order_no": item.merchant_order_no[:64],
        "channel_refund_no": item.channel_refund_no[:64],
        "merchant_refund_no": item.merchant_refund_no[:64],
        "refund_status": item.refund_status[:16],
        "payer_masked": item.payer_masked[:64],
        "batch_no": item.batch_no[:12],
        "raw_hash": item.raw_hash,
    }
