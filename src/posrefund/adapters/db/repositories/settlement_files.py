"""Imported settlement files and their lines, staged batch by batch as the parser streams them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories import settlement_staging as staging
from posrefund.adapters.db.repositories.recon_runs import run_row
from posrefund.adapters.db.repositories.recon_scope import L
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.adapters.settlement.model import BadLine
from posrefund.domain.errors import Conflict
from posrefund.ports import (
    BadLineRow,
    InUse,
    NewSettlementFileRow,
    ReconRunRow,
    RefundLineQuery,
    SettlementFileRow,
    SettlementLineRow,
    StagedBatch,
)

_F, _B = t.settlement_files.c, t.settlement_bad_lines.c


class SettlementFileSql(Repository):
    def file_by_fingerprint(self, merchant_id: str, fingerprint: str) -> SettlementFileRow | None:
        q = select(t.settlement_files).where(_F.merchant_id == merchant_id, _F.fingerprint == fingerprint)
        return cast(SettlementFileRow | None, first_row(self.c, q))

    def get_file(self, merchant_id: str, file_id: str) -> SettlementFileRow | None:
        q = select(t.settlement_files).where(_F.merchant_id == merchant_id, _F.id == file_id)
        return cast(SettlementFileRow | None, first_row(self.c, q))

    def add_file(self, row: NewSettlementFileRow) -> None:
        """A file's first import starts: unfinished, its importer alive as of now. The same file started by
        another import a moment before is refused (``recon.file_importing``), not a fault."""
        try:
            self.c.execute(insert(t.settlement_files).values(**row, heartbeat_at=row["imported_at"]))
        except IntegrityError:
            raise Conflict("recon.file_importing", file_id=row["id"]) from None

    def beat(self, file_id: str, now: datetime) -> None:
        """The import is still running (it wrote a batch just now)."""
        self.c.execute(update(t.settlement_files).where(_F.id == file_id).values(heartbeat_at=now))

    def finish_file(self, row: NewSettlementFileRow, staged: StagedBatch, now: datetime) -> None:
        """The import is done: the file counts from now on, as imported by whom and when the import began (a
        withdrawn file imported again is no longer withdrawn)."""
        self.c.execute(
            update(t.settlement_files)
            .where(_F.id == row["id"])
            .values(
                {
                    **row,
                    "line_count": staged.good,
                    "bad_count": staged.bad,
                    "overlap_count": staged.overlap,
                    "first_date": staged.first,
                    "last_date": staged.last,
                    "finished_at": now,
                    "heartbeat_at": None,
                    "withdrawn_at": None,
                    "withdrawn_by": "",
                    "withdraw_reason": "",
                }
            )
        )

    def stage(self, file_id: str, merchant_id: str, items: Sequence[object]) -> StagedBatch:
        """Write one batch of parsed lines (good and bad, single or in blocks read as columns); returns counts and
        the batch's date span. A line an earlier file already holds (same channel keys) is kept as that file's
        shadow and counts once; the same keys twice in this file, or an earlier line of those keys with another
        amount, refuse the file. The good lines go in one statement (``settlement_staging``)."""
        good, bad = staging.batch_of(items)
        rows, overlap = staging.numbered(self.c, file_id, merchant_id, staging.staged(good, file_id, merchant_id))
        if rows.height:
            staging.write(self.c, rows)
        if bad:
            self.c.execute(insert(t.settlement_bad_lines), [_bad_row(file_id, item) for item in bad])
        first, last = rows["local_date"].min(), rows["local_date"].max()
        return StagedBatch(rows.height, len(bad), overlap, first, last)  # type: ignore[arg-type]

    def other_merchant_line(self, file_id: str, merchant_no: str) -> tuple[int, str] | None:
        """The first line of the file that names another merchant number than ``merchant_no``."""
        q = (
            select(L.line_no, L.merchant_no)
            .where(L.file_id == file_id, L.merchant_no != merchant_no)
            .order_by(L.line_no)
            .limit(1)
        )
        row = self.c.execute(q).first()
        return (int(row[0]), str(row[1])) if row else None

    def line_outside(self, file_id: str, date_from: date, date_to: date) -> tuple[int, date] | None:
        """The first line of the file whose settlement date is outside ``date_from`` … ``date_to``."""
        q = (
            select(L.line_no, L.local_date)
            .where(L.file_id == file_id, or_(L.local_date < date_from, L.local_date > date_to))
            .order_by(L.line_no)
            .limit(1)
        )
        row = self.c.execute(q).first()
        return (int(row[0]), row[1]) if row else None

    def reopen_file(self, file_id: str, now: datetime) -> None:
        """A withdrawn file imported again: it stays withdrawn (its lines count nowhere) until the import
        finishes; its importer alive as of now."""
        self.c.execute(update(t.settlement_files).where(_F.id == file_id).values(heartbeat_at=now))

    def abandoned_imports(self, merchant_id: str, alive_after: datetime) -> list[SettlementFileRow]:
        """The merchant's imports whose importer is gone: no batch written since ``alive_after`` (or, from before
        imports kept a heartbeat, never finished)."""
        q = select(t.settlement_files).where(
            _F.merchant_id == merchant_id,
            or_(_F.heartbeat_at < alive_after, and_(_F.heartbeat_at.is_(None), _F.finished_at.is_(None))),
        )
        return cast(list[SettlementFileRow], all_rows(self.c, q))

    def discard_import(self, merchant_id: str, file_id: str) -> int:
        """Undo an import that did not finish (refused, failed or killed): each line it staged that counted for
        its keys passes to another file's copy of it, its lines and bad lines go, and its row goes too, or is
        left as it was before (a withdrawn file imported again keeps its row, withdrawn). Lines taken out."""
        gone = self._hand_over_lines(merchant_id, file_id)
        self.c.execute(delete(t.settlement_bad_lines).where(_B.file_id == file_id))
        self.c.execute(delete(t.settlement_files).where(_F.id == file_id, _F.finished_at.is_(None)))
        self.c.execute(update(t.settlement_files).where(_F.id == file_id).values(heartbeat_at=None))
        return gone

    def line_in_use(self, merchant_id: str, file_id: str) -> InUse | None:
        """The first handled discrepancy or wrong-charge case resting on a line of the file."""
        d, wc = t.recon_discrepancies.c, t.wrong_charges.c
        ours = select(L.id).where(L.file_id == file_id)
        line_no = select(L.line_no).where(L.id == d.line_id).scalar_subquery()
        q = select(d.id, line_no).where(d.merchant_id == merchant_id, d.resolution != "", d.line_id.in_(ours))
        if row := self.c.execute(q.limit(1)).first():
            return InUse("discrepancy", str(row[0]), int(row[1]))
        line_no = select(L.line_no).where(L.id == wc.line_id).scalar_subquery()
        q = select(wc.id, line_no).where(wc.merchant_id == merchant_id, wc.line_id.in_(ours))
        if row := self.c.execute(q.limit(1)).first():
            return InUse("wrong_charge", str(row[0]), int(row[1]))
        return None

    def withdraw_file(self, merchant_id: str, file_id: str, actor_id: str, reason: str, now: datetime) -> int:
        """Take the file's lines out of every reconciliation (``_hand_over_lines``); its bad lines are deleted and
        the file is marked withdrawn (the row stays, for the audit trail and so its content is recognised). Lines
        deleted."""
        gone = self._hand_over_lines(merchant_id, file_id)
        self.c.execute(delete(t.settlement_bad_lines).where(_B.file_id == file_id))
        self.c.execute(
            update(t.settlement_files)
            .where(_F.id == file_id)
            .values(withdrawn_at=now, withdrawn_by=actor_id, withdraw_reason=reason)
        )
        return gone

    def _hand_over_lines(self, merchant_id: str, file_id: str) -> int:
        """Delete the file's lines: each line it counted for passes to the earliest other file holding a shadow
        of it (that file's overlap count follows). Lines deleted."""
        mine = and_(L.merchant_id == merchant_id, L.file_id == file_id)
        gone = self.c.execute(delete(t.settlement_lines).where(mine, L.shadow != "")).rowcount
        self.c.execute(update(t.settlement_lines).where(mine).values(shadow=file_id))  # frees each key's place
        other, own = t.settlement_lines.alias("other").c, t.settlement_lines.alias("own").c
        same_line = (
            select(own.id)
            .where(
                own.merchant_id == merchant_id,
                own.file_id == file_id,
                own.line_key == other.line_key,
                own.occurrence == other.occurrence,
            )
            .exists()
        )
        heirs = (
            select(func.min(other.id))
            .where(other.merchant_id == merchant_id, other.file_id != file_id, other.shadow != "", same_line)
            .group_by(other.line_key, other.occurrence)
        )
        heir_files = [str(r[0]) for r in self.c.execute(select(L.file_id).where(L.id.in_(heirs)).distinct())]
        self.c.execute(update(t.settlement_lines).where(L.id.in_(heirs)).values(shadow=""))
        for heir in heir_files:
            shadows = select(func.count()).select_from(t.settlement_lines).where(L.file_id == heir, L.shadow != "")
            self.c.execute(
                update(t.settlement_files).where(_F.id == heir).values(overlap_count=shadows.scalar_subquery())
            )
        gone += self.c.execute(delete(t.settlement_lines).where(mine)).rowcount
        return int(gone)

    def mark_runs_stale(self, merchant_id: str, file_id: str, reason: str, now: datetime) -> list[ReconRunRow]:
        """The merchant's runs that read the file, marked stale (their findings rest on lines that no longer
        count): the runs, as they were."""
        rr = t.recon_runs.c
        q = select(t.recon_runs).where(
            rr.merchant_id == merchant_id, rr.file_ids.contains(f'"{file_id}"', autoescape=True)
        )
        runs = [run_row(r) for r in self.c.execute(q)]
        if runs:
            ids = [run["id"] for run in runs]
            self.c.execute(update(t.recon_runs).where(rr.id.in_(ids)).values(stale_at=now, stale_reason=reason))
        return runs

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
                _F.finished_at.is_not(None),
                _F.withdrawn_at.is_(None),
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
        in_files = and_(L.merchant_id == merchant_id, L.file_id.in_(list(file_ids)), L.shadow == "")
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
            L.shadow == "",
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


def _bad_row(file_id: str, item: BadLine) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "line_no": item.line_no,
        "reason": item.reason[:200],
        "excerpt": item.text_excerpt[:200],
    }
