"""Reconciliation in SQL: staged settlement lines matched against the ledger (sales, refunds) by set operations.

Nothing here loads a file or a ledger into Python objects: lines are staged in batches as the parser streams
them, and a run is a dozen ``INSERT … SELECT`` statements over indexed tables (the same statements on SQLite
and PostgreSQL), so a run over a million lines costs what the database's joins cost. Findings go through a
scratch table and are merged into ``recon_discrepancies`` by their natural key, so running the same
reconciliation again inserts, clears and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import BindParameter

from posrefund.adapters.db import tables as t
from posrefund.adapters.settlement.model import BadLine, SettlementLine
from posrefund.domain.reconciliation import SOURCE_CHANNELS, DiscrepancyClass, FeeRate, Source
from posrefund.ports import RunSpec

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
L, S, R, M, F, D = (
    t.settlement_lines.c,
    t.sales.c,
    t.refunds.c,
    t.recon_matches.c,
    t.recon_found.c,
    t.recon_discrepancies.c,
)
C = DiscrepancyClass
OFFLINE_METHODS = ("cash", "cheque", "transfer")


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


def local_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """The UTC instants that bound local (Asia/Shanghai) days ``date_from`` … ``date_to``, end exclusive."""
    start = datetime.combine(date_from, time(0), SHANGHAI).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC)
    return start, end


@dataclass(frozen=True)
class _Scope:
    """The run's two sides as SQL conditions: its lines and its ledger."""

    run_id: BindParameter[str]
    lines: ColumnElement[bool]
    sales: ColumnElement[bool]
    refunds: ColumnElement[bool]
    spec: RunSpec


class ReconSql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    # ---- files and staging -------------------------------------------------------------------------------
    def file_by_fingerprint(self, merchant_id: str, fingerprint: str) -> dict[str, Any] | None:
        f = t.settlement_files.c
        r = self.c.execute(
            select(t.settlement_files).where(f.merchant_id == merchant_id, f.fingerprint == fingerprint)
        ).first()
        return _row(r) if r else None

    def get_file(self, merchant_id: str, file_id: str) -> dict[str, Any] | None:
        f = t.settlement_files.c
        r = self.c.execute(select(t.settlement_files).where(f.merchant_id == merchant_id, f.id == file_id)).first()
        return _row(r) if r else None

    def add_file(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(t.settlement_files).values(**row))

    def finish_file(self, file_id: str, line_count: int, bad_count: int, first: date | None, last: date | None) -> None:
        f = t.settlement_files.c
        self.c.execute(
            update(t.settlement_files)
            .where(f.id == file_id)
            .values(line_count=line_count, bad_count=bad_count, first_date=first, last_date=last)
        )

    def stage(
        self, file_id: str, merchant_id: str, items: Sequence[object]
    ) -> tuple[int, int, date | None, date | None]:
        """Write one batch of parsed lines (good and bad); returns counts and the batch's date span."""
        good: list[dict[str, Any]] = []
        bad: list[dict[str, Any]] = []
        first: date | None = None
        last: date | None = None
        for parsed in items:
            item = parsed
            if isinstance(item, SettlementLine) and _has_nul(item):
                item = BadLine(item.line_no, "NUL character in a field", "")  # no database text holds NUL
            if isinstance(item, BadLine):
                bad.append(
                    {
                        "file_id": file_id,
                        "line_no": item.line_no,
                        "reason": item.reason[:200],
                        "excerpt": item.text_excerpt[:200],
                    }
                )
                continue
            assert isinstance(item, SettlementLine)
            local = item.occurred_at.astimezone(SHANGHAI)
            day = local.date()
            first = day if first is None or day < first else first
            last = day if last is None or day > last else last
            good.append(
                {
                    "file_id": file_id,
                    "merchant_id": merchant_id,
                    "line_no": item.line_no,
                    "kind": item.kind,
                    "occurred_at": item.occurred_at,
                    "occurred_epoch": int(item.occurred_at.timestamp()),
                    "local_date": day,
                    "amount_fen": item.amount_fen,
                    "fee_fen": item.fee_fen,
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
            )
        if good:
            self.c.execute(insert(t.settlement_lines), good)
        if bad:
            self.c.execute(insert(t.settlement_bad_lines), bad)
        return len(good), len(bad), first, last

    def bad_lines(self, file_id: str, limit: int = 100) -> list[dict[str, Any]]:
        b = t.settlement_bad_lines.c
        q = select(b.line_no, b.reason, b.excerpt).where(b.file_id == file_id).order_by(b.line_no).limit(limit)
        return [_row(r) for r in self.c.execute(q)]

    def files_for(self, merchant_id: str, source: str, date_from: date, date_to: date) -> list[dict[str, Any]]:
        """The merchant's files of this channel with lines in the range: the default file set of a run."""
        f = t.settlement_files.c
        q = (
            select(t.settlement_files)
            .where(
                f.merchant_id == merchant_id,
                f.source == source,
                f.first_date <= date_to,
                f.last_date >= date_from,
            )
            .order_by(f.fingerprint)
        )
        return [_row(r) for r in self.c.execute(q)]

    def line(self, merchant_id: str, line_id: int) -> dict[str, Any] | None:
        r = self.c.execute(select(t.settlement_lines).where(L.id == line_id, L.merchant_id == merchant_id)).first()
        return _row(r) if r else None

    # ---- fee rates -----------------------------------------------------------------------------------------
    def put_fee_rate(self, merchant_id: str, rate: FeeRate, actor_id: str, now: datetime) -> None:
        fr = t.recon_fee_rates.c
        values = {
            "rate_bp": rate.rate_bp,
            "large_rate_bp": rate.large_rate_bp,
            "large_from_fen": rate.large_from_fen,
            "updated_by": actor_id,
            "updated_at": now,
        }
        done = self.c.execute(
            update(t.recon_fee_rates).where(fr.merchant_id == merchant_id, fr.channel == rate.channel).values(**values)
        )
        if done.rowcount == 0:
            self.c.execute(insert(t.recon_fee_rates).values(merchant_id=merchant_id, channel=rate.channel, **values))

    def fee_rates(self, merchant_id: str) -> list[FeeRate]:
        fr = t.recon_fee_rates.c
        rows = self.c.execute(select(t.recon_fee_rates).where(fr.merchant_id == merchant_id).order_by(fr.channel))
        return [FeeRate(r.channel, r.rate_bp, r.large_rate_bp, r.large_from_fen) for r in rows]

    # ---- runs ----------------------------------------------------------------------------------------------
    def run_by_key(self, merchant_id: str, key: str) -> dict[str, Any] | None:
        rr = t.recon_runs.c
        r = self.c.execute(select(t.recon_runs).where(rr.merchant_id == merchant_id, rr.run_key == key)).first()
        return _run(r) if r else None

    def get_run(self, merchant_id: str, run_id: str) -> dict[str, Any] | None:
        rr = t.recon_runs.c
        r = self.c.execute(select(t.recon_runs).where(rr.merchant_id == merchant_id, rr.id == run_id)).first()
        return _run(r) if r else None

    def add_run(self, row: dict[str, Any]) -> None:
        self.c.execute(
            insert(t.recon_runs).values(
                **{**row, "file_ids": json.dumps(row["file_ids"]), "totals": json.dumps(row["totals"], sort_keys=True)}
            )
        )

    def set_totals(self, run_id: str, totals: dict[str, Any], now: datetime) -> None:
        rr = t.recon_runs.c
        self.c.execute(
            update(t.recon_runs)
            .where(rr.id == run_id)
            .values(totals=json.dumps(totals, sort_keys=True), updated_at=now)
        )

    def reconcile(self, spec: RunSpec, now: datetime) -> dict[str, int]:
        """Match, classify, merge into the run's discrepancies; returns what changed and the match counts."""
        scope = self._scope(spec)
        self._match(scope)
        counts = self._match_counts(scope)
        self._find(scope)
        changed = self._merge(scope, now)
        self.c.execute(delete(t.recon_found).where(F.run_id == spec.run_id))
        self.c.execute(delete(t.recon_matches).where(M.run_id == spec.run_id))
        return {**counts, **changed}

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

    def _scope(self, spec: RunSpec) -> _Scope:
        channels = SOURCE_CHANNELS[Source(spec.source)]
        lines = and_(
            L.merchant_id == spec.merchant_id,
            L.file_id.in_(spec.file_ids),
            L.local_date >= spec.date_from,
            L.local_date <= spec.date_to,
        )
        sales = and_(
            S.merchant_id == spec.merchant_id,
            S.channel.in_(channels),
            S.paid_date >= spec.date_from,
            S.paid_date <= spec.date_to,
        )
        refunds = and_(R.merchant_id == spec.merchant_id, R.channel.in_(channels), R.method.not_in(OFFLINE_METHODS))
        return _Scope(bindparam("run_id", spec.run_id), lines, sales, refunds, spec)

    def _insert_matches(self, q: Select[Any]) -> None:
        self.c.execute(insert(t.recon_matches).from_select(["run_id", "line_id", "sale_id", "refund_id"], q))

    def _match(self, sc: _Scope) -> None:
        """Strongest key first: RRN (card) or our order no. (wallets); then, for card lines, voucher no. +
        terminal + amount; refunds by our refund_no, then by the channel's reference (card: the refund's RRN).
        Each side is matched at most once per pass (the lowest line id wins; a second line is a duplicate)."""
        run = literal(sc.spec.run_id)
        card = sc.spec.source == Source.CARD.value
        key = (L.rrn == S.rrn) if card else (L.merchant_order_no == S.order_no)
        nonempty = (L.rrn != "") if card else (L.merchant_order_no != "")
        self._insert_matches(
            select(run, func.min(L.id), S.id, literal(""))
            .select_from(t.sales.join(t.settlement_lines, and_(L.merchant_id == S.merchant_id, key)))
            .where(sc.sales, sc.lines, L.kind == "sale", nonempty)
            .group_by(S.id)
        )
        line_free = ~exists().where(M.run_id == sc.spec.run_id, M.line_id == L.id)
        if card:
            tm = t.terminals.c
            sale_free = ~exists().where(M.run_id == sc.spec.run_id, M.sale_id == S.id)
            self._insert_matches(
                select(run, func.min(L.id), S.id, literal(""))
                .select_from(
                    t.sales.join(t.terminals, tm.id == S.terminal_id).join(
                        t.settlement_lines,
                        and_(
                            L.merchant_id == S.merchant_id,
                            L.voucher_no == S.voucher_no,
                            L.terminal_no == tm.terminal_no,
                            L.amount_fen == S.amount_fen,
                        ),
                    )
                )
                .where(sc.sales, sc.lines, L.kind == "sale", L.voucher_no != "", sale_free, line_free)
                .group_by(S.id)
            )
        self._insert_matches(
            select(run, func.min(L.id), literal(""), R.id)
            .select_from(
                t.refunds.join(
                    t.settlement_lines, and_(L.merchant_id == R.merchant_id, L.merchant_refund_no == R.refund_no)
                )
            )
            .where(sc.refunds, sc.lines, L.kind.in_(("refund", "void")), L.merchant_refund_no != "")
            .group_by(R.id)
        )
        if card:
            refund_free = ~exists().where(M.run_id == sc.spec.run_id, M.refund_id == R.id)
            self._insert_matches(
                select(run, func.min(L.id), literal(""), R.id)
                .select_from(
                    t.refunds.join(
                        t.settlement_lines, and_(L.merchant_id == R.merchant_id, L.rrn == R.channel_refund_id)
                    )
                )
                .where(
                    sc.refunds,
                    sc.lines,
                    L.kind.in_(("refund", "void")),
                    R.channel_refund_id != "",
                    L.rrn != "",
                    refund_free,
                    line_free,
                )
                .group_by(R.id)
            )

    def _match_counts(self, sc: _Scope) -> dict[str, int]:
        run = sc.spec.run_id
        matched_sales = self.c.scalar(select(func.count()).where(M.run_id == run, M.sale_id != "")) or 0
        matched_refunds = self.c.scalar(select(func.count()).where(M.run_id == run, M.refund_id != "")) or 0
        return {"matched_sales": int(matched_sales), "matched_refunds": int(matched_refunds)}

    def _found(self, q: Select[Any]) -> None:
        cols = [
            "run_id",
            "class",
            "line_id",
            "sale_id",
            "refund_id",
            "other_line_id",
            "ours_fen",
            "theirs_fen",
            "ours_status",
            "theirs_status",
        ]
        self.c.execute(insert(t.recon_found).from_select(cols, q))

    def _find(self, sc: _Scope) -> None:
        run_id = sc.spec.run_id
        run = literal(run_id)
        none_fen = literal(None, type_=BigInteger)
        l1 = t.settlement_lines.alias("l1")
        lines1 = and_(
            l1.c.merchant_id == sc.spec.merchant_id,
            l1.c.file_id.in_(sc.spec.file_ids),
            l1.c.local_date >= sc.spec.date_from,
            l1.c.local_date <= sc.spec.date_to,
        )
        earlier_twin = (
            select(func.min(l1.c.id))
            .where(
                lines1,
                l1.c.kind == "sale",
                l1.c.payer_masked == L.payer_masked,
                l1.c.amount_fen == L.amount_fen,
                l1.c.terminal_no == L.terminal_no,
                l1.c.occurred_epoch >= L.occurred_epoch - sc.spec.window_seconds,
                or_(
                    l1.c.occurred_epoch < L.occurred_epoch,
                    and_(l1.c.occurred_epoch == L.occurred_epoch, l1.c.id < L.id),
                ),
            )
            .scalar_subquery()
        )
        dup = (
            select(L.id.label("line_id"), L.amount_fen.label("amount_fen"), earlier_twin.label("twin"))
            .where(sc.lines, L.kind == "sale", L.payer_masked != "")
            .subquery()
        )
        md = t.recon_matches.alias("md")
        self._found(
            select(
                run,
                literal(C.DUPLICATE_CHARGE.value),
                dup.c.line_id,
                func.coalesce(md.c.sale_id, ""),
                literal(""),
                dup.c.twin,
                none_fen,
                dup.c.amount_fen,
                literal(""),
                literal(""),
            )
            .select_from(dup.outerjoin(md, and_(md.c.run_id == run_id, md.c.line_id == dup.c.line_id)))
            .where(dup.c.twin.is_not(None))
        )
        line_unmatched = ~exists().where(M.run_id == run_id, M.line_id == L.id)
        not_duplicate = ~exists().where(F.run_id == run_id, F.line_id == L.id, F["class"] == C.DUPLICATE_CHARGE.value)
        self._found(
            select(
                run,
                literal(C.MISSING_HERE.value),
                L.id,
                literal(""),
                literal(""),
                literal(0),
                none_fen,
                L.amount_fen,
                literal(""),
                L.refund_status,
            ).where(
                sc.lines,
                line_unmatched,
                not_duplicate,
                or_(L.kind == "sale", L.refund_status == "SUCCESS"),
            )
        )
        rv = t.refunds.alias("rv")
        voided = exists().where(rv.c.sale_id == S.id, rv.c.method == "void", rv.c.status == "succeeded")
        sale_unmatched = ~exists().where(M.run_id == run_id, M.sale_id == S.id)
        self._found(
            select(
                run,
                literal(C.MISSING_AT_CHANNEL.value),
                literal(0),
                S.id,
                literal(""),
                literal(0),
                S.amount_fen,
                none_fen,
                literal("recorded"),
                literal(""),
            ).where(sc.sales, sale_unmatched, ~voided)
        )
        start, end = local_bounds(sc.spec.date_from, sc.spec.date_to)
        refund_unmatched = ~exists().where(M.run_id == run_id, M.refund_id == R.id)
        sale_seen = exists().where(M.run_id == run_id, M.sale_id == R.sale_id)
        self._found(
            select(
                run,
                literal(C.MISSING_AT_CHANNEL.value),
                literal(0),
                literal(""),
                R.id,
                literal(0),
                R.amount_fen,
                none_fen,
                R.status,
                literal(""),
            ).where(
                sc.refunds,
                R.status == "succeeded",
                R.method.in_(("refund", "void")),
                R.succeeded_at >= start,
                R.succeeded_at < end,
                refund_unmatched,
                # A same-day void may leave the acquirer's file together with its sale: expected then.
                or_(R.method != "void", sale_seen),
            )
        )
        sale_join = t.recon_matches.join(t.sales, S.id == M.sale_id).join(t.settlement_lines, L.id == M.line_id)
        self._found(
            select(
                run,
                literal(C.AMOUNT_MISMATCH.value),
                L.id,
                S.id,
                literal(""),
                literal(0),
                S.amount_fen,
                L.amount_fen,
                literal(""),
                literal(""),
            )
            .select_from(sale_join)
            .where(M.run_id == run_id, L.amount_fen != S.amount_fen)
        )
        fr = t.recon_fee_rates.c
        bp = case(
            (and_(fr.large_from_fen.is_not(None), L.amount_fen >= fr.large_from_fen), fr.large_rate_bp),
            else_=fr.rate_bp,
        )
        expected_fee = (L.amount_fen * bp + 5_000) // 10_000  # integer division on both databases
        self._found(
            select(
                run,
                literal(C.FEE_MISMATCH.value),
                L.id,
                S.id,
                literal(""),
                literal(0),
                expected_fee,
                L.fee_fen,
                literal(""),
                literal(""),
            )
            .select_from(
                sale_join.join(t.recon_fee_rates, and_(fr.merchant_id == S.merchant_id, fr.channel == S.channel))
            )
            .where(M.run_id == run_id, L.amount_fen == S.amount_fen, L.fee_fen != expected_fee)
        )
        refund_join = t.recon_matches.join(t.refunds, R.id == M.refund_id).join(t.settlement_lines, L.id == M.line_id)
        self._found(
            select(
                run,
                literal(C.AMOUNT_MISMATCH.value),
                L.id,
                literal(""),
                R.id,
                literal(0),
                R.amount_fen,
                L.amount_fen,
                R.status,
                L.refund_status,
            )
            .select_from(refund_join)
            .where(M.run_id == run_id, L.refund_status == "SUCCESS", L.amount_fen != R.amount_fen)
        )
        self._found(
            select(
                run,
                literal(C.REFUND_STATUS_MISMATCH.value),
                L.id,
                literal(""),
                R.id,
                literal(0),
                R.amount_fen,
                L.amount_fen,
                R.status,
                L.refund_status,
            )
            .select_from(refund_join)
            .where(
                M.run_id == run_id,
                or_(
                    and_(L.refund_status == "SUCCESS", R.status != "succeeded"),
                    and_(L.refund_status.not_in(("SUCCESS", "PROCESSING")), R.status == "succeeded"),
                ),
            )
        )

    def _merge(self, sc: _Scope, now: datetime) -> dict[str, int]:
        run_id = sc.spec.run_id
        same_key = and_(
            D.run_id == F.run_id,
            D["class"] == F["class"],
            D.line_id == F.line_id,
            D.sale_id == F.sale_id,
            D.refund_id == F.refund_id,
        )
        new = (
            select(
                F.run_id,
                literal(sc.spec.merchant_id),
                F["class"],
                F.line_id,
                F.sale_id,
                F.refund_id,
                func.min(F.other_line_id),
                func.min(F.ours_fen),
                func.min(F.theirs_fen),
                func.min(F.ours_status),
                func.min(F.theirs_status),
                literal(now, type_=t.UTCDateTime()),
            )
            .where(F.run_id == run_id, ~exists().where(same_key))
            .group_by(F.run_id, F["class"], F.line_id, F.sale_id, F.refund_id)
        )
        inserted = self.c.execute(
            insert(t.recon_discrepancies).from_select(
                [
                    "run_id",
                    "merchant_id",
                    "class",
                    "line_id",
                    "sale_id",
                    "refund_id",
                    "other_line_id",
                    "ours_fen",
                    "theirs_fen",
                    "ours_status",
                    "theirs_status",
                    "found_at",
                ],
                new,
            )
        ).rowcount
        still = exists().where(
            F.run_id == D.run_id,
            F["class"] == D["class"],
            F.line_id == D.line_id,
            F.sale_id == D.sale_id,
            F.refund_id == D.refund_id,
        )
        cleared = self.c.execute(
            update(t.recon_discrepancies)
            .where(D.run_id == run_id, D.cleared_at.is_(None), ~still)
            .values(cleared_at=now)
        ).rowcount
        reopened = self.c.execute(
            update(t.recon_discrepancies)
            .where(D.run_id == run_id, D.cleared_at.is_not(None), still)
            .values(cleared_at=None)
        ).rowcount
        return {"inserted": max(inserted, 0), "cleared": max(cleared, 0), "reopened": max(reopened, 0)}

    def line_totals(self, spec: RunSpec) -> dict[str, int]:
        sc = self._scope(spec)
        q = (
            select(
                L.kind, func.count(), func.coalesce(func.sum(L.amount_fen), 0), func.coalesce(func.sum(L.fee_fen), 0)
            )
            .where(sc.lines)
            .group_by(L.kind)
        )
        out: dict[str, int] = {}
        for kind, n, amount, fee in self.c.execute(q):
            out[f"lines_{kind}"] = int(n)
            out[f"lines_{kind}_fen"] = int(amount)
            out[f"lines_{kind}_fee_fen"] = int(fee)
        sales_q = select(func.count(), func.coalesce(func.sum(S.amount_fen), 0)).where(sc.sales)
        n, amount = self.c.execute(sales_q).one()
        out["ledger_sales"] = int(n)
        out["ledger_sales_fen"] = int(amount)
        return out

    def open_counts(self, run_id: str) -> dict[str, int]:
        q = select(D["class"], func.count()).where(D.run_id == run_id, D.cleared_at.is_(None)).group_by(D["class"])
        return {str(cls): int(n) for cls, n in self.c.execute(q)}

    # ---- discrepancies ------------------------------------------------------------------------------------
    def _discrepancy_query(self, merchant_id: str, run_id: str, cls: str | None, include_cleared: bool) -> Select[Any]:
        q = select(t.recon_discrepancies).where(D.merchant_id == merchant_id, D.run_id == run_id)
        if cls:
            q = q.where(D["class"] == cls)
        if not include_cleared:
            q = q.where(D.cleared_at.is_(None))
        return q

    def discrepancies(
        self, merchant_id: str, run_id: str, cls: str | None, limit: int, offset: int, include_cleared: bool = False
    ) -> tuple[list[dict[str, Any]], int]:
        base = self._discrepancy_query(merchant_id, run_id, cls, include_cleared)
        total = self.c.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = self.c.execute(base.order_by(D.id).limit(limit).offset(offset))
        return [_row(r) for r in rows], int(total)

    def discrepancy_page(
        self, merchant_id: str, run_id: str, cls: str | None, after_id: int, limit: int
    ) -> list[dict[str, Any]]:
        """One page of the run's open discrepancies after ``after_id``, with their line's references (keyset
        pagination, so an export of millions of rows streams page by page)."""
        q = (
            select(
                t.recon_discrepancies,
                L.line_no,
                L.kind,
                L.occurred_at,
                L.terminal_no,
                L.voucher_no,
                L.rrn,
                L.merchant_order_no,
                L.merchant_refund_no,
                L.payer_masked,
            )
            .select_from(t.recon_discrepancies.outerjoin(t.settlement_lines, L.id == D.line_id))
            .where(D.merchant_id == merchant_id, D.run_id == run_id, D.cleared_at.is_(None), D.id > after_id)
            .order_by(D.id)
            .limit(limit)
        )
        if cls:
            q = q.where(D["class"] == cls)
        return [_row(r) for r in self.c.execute(q)]

    def get_discrepancy(self, merchant_id: str, discrepancy_id: int) -> dict[str, Any] | None:
        r = self.c.execute(
            select(t.recon_discrepancies).where(D.merchant_id == merchant_id, D.id == discrepancy_id)
        ).first()
        return _row(r) if r else None

    def resolve_discrepancy(self, discrepancy_id: int, resolution: str, wrong_charge_id: str = "") -> bool:
        """Conditional: only an unresolved discrepancy is marked (a second click changes nothing)."""
        done = self.c.execute(
            update(t.recon_discrepancies)
            .where(D.id == discrepancy_id, D.resolution == "")
            .values(resolution=resolution, wrong_charge_id=wrong_charge_id)
        )
        return done.rowcount == 1

    # ---- wrong charges ------------------------------------------------------------------------------------
    def add_wrong_charge(self, row: dict[str, Any]) -> None:
        self.c.execute(insert(t.wrong_charges).values(**{**row, "evidence_ids": json.dumps(row["evidence_ids"])}))

    def get_wrong_charge(self, merchant_id: str, wc_id: str) -> dict[str, Any] | None:
        w = t.wrong_charges.c
        r = self.c.execute(select(t.wrong_charges).where(w.merchant_id == merchant_id, w.id == wc_id)).first()
        if r is None:
            return None
        row = _row(r)
        row["evidence_ids"] = json.loads(row["evidence_ids"])
        return row

    def save_wrong_charge(self, row: dict[str, Any]) -> bool:
        """Compare-and-set on the version; the row's version is bumped when it wins."""
        w = t.wrong_charges.c
        values = {k: v for k, v in row.items() if k not in ("id", "version")}
        values["evidence_ids"] = json.dumps(row["evidence_ids"])
        done = self.c.execute(
            update(t.wrong_charges)
            .where(w.id == row["id"], w.version == row["version"])
            .values(**values, version=row["version"] + 1)
        )
        if done.rowcount == 1:
            row["version"] += 1
            return True
        return False

    # ---- ledger reads for the demo file generator ---------------------------------------------------------
    def ledger_sales(
        self, merchant_id: str, channels: Sequence[str], date_from: date, date_to: date
    ) -> Iterator[dict[str, Any]]:
        tm = t.terminals.c
        q = (
            select(t.sales, tm.terminal_no)
            .select_from(t.sales.join(t.terminals, tm.id == S.terminal_id))
            .where(
                S.merchant_id == merchant_id, S.channel.in_(channels), S.paid_date >= date_from, S.paid_date <= date_to
            )
            .order_by(S.paid_at, S.id)
        )
        for r in self.c.execute(q):
            yield _row(r)

    def ledger_refunds(
        self, merchant_id: str, channels: Sequence[str], date_from: date, date_to: date
    ) -> Iterator[dict[str, Any]]:
        start, end = local_bounds(date_from, date_to)
        q = (
            select(t.refunds)
            .where(
                R.merchant_id == merchant_id,
                R.channel.in_(channels),
                R.method.not_in(OFFLINE_METHODS),
                R.status.in_(("processing", "succeeded", "abnormal", "failed")),
                func.coalesce(R.succeeded_at, R.sent_at, R.created_at) >= start,
                func.coalesce(R.succeeded_at, R.sent_at, R.created_at) < end,
            )
            .order_by(R.created_at, R.id)
        )
        for r in self.c.execute(q):
            yield _row(r)


def _has_nul(line: SettlementLine) -> bool:
    return any("\x00" in v for v in (getattr(line, f) for f in line.__slots__) if isinstance(v, str))


def _run(r: Any) -> dict[str, Any]:
    row = _row(r)
    row["file_ids"] = json.loads(row["file_ids"])
    row["totals"] = json.loads(row["totals"])
    return row
