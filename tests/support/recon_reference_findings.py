"""The reconciliation path the DuckDB engine replaced, kept as the oracle the engine's findings are compared with
(tests/recon/test_engine_agrees.py): what a run finds, one kind of finding a statement, into the ``recon_found``
scratch table, as SQL on the operational database.

Each step is one ``INSERT … SELECT``; they run in this order (a line already found as a duplicate charge is not
also reported missing here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Connection, Select, and_, case, exists, func, insert, literal, or_, select

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.discrepancies import FINDING_COLUMNS
from posrefund.adapters.db.repositories.fee_findings import fee_contract, fee_mismatches
from posrefund.adapters.db.repositories.recon_scope import F, L, R, RunScope, S, line_status, lines_of, local_bounds
from posrefund.domain.reconciliation import DiscrepancyClass as C
from posrefund.domain.reconciliation import Source
from tests.support.recon_reference_matching import M, recon_matches


def find(conn: Connection, sc: RunScope) -> None:
    """Every kind of finding of the run, after its matches are in ``recon_matches``."""
    for step in (
        _duplicate_charges,
        _missing_here,
        _sales_missing_at_channel,
        _refunds_missing_at_channel,
        _sale_amount_mismatches,
    ):
        conn.execute(insert(t.recon_found).from_select(FINDING_COLUMNS, step(sc)))
    insert_fee_mismatches(conn, sc, FINDING_COLUMNS)
    for step in (_refund_amount_mismatches, _refund_status_mismatches):
        conn.execute(insert(t.recon_found).from_select(FINDING_COLUMNS, step(sc)))


def _finding(sc: RunScope, cls: C, **columns: Any) -> Select[Any]:
    """A select of ``FINDING_COLUMNS``: what a kind of finding names, and "none" (0, "", NULL) for the rest."""
    none_fen = literal(None, type_=BigInteger)
    row = {
        "line_id": literal(0),
        "sale_id": literal(""),
        "refund_id": literal(""),
        "other_line_id": literal(0),
        "ours_fen": none_fen,
        "theirs_fen": none_fen,
        "ours_status": literal(""),
        "theirs_status": literal(""),
        **columns,
    }
    return select(literal(sc.spec.run_id), literal(cls.value), *(row[name] for name in FINDING_COLUMNS[2:]))


def _duplicate_charges(sc: RunScope) -> Select[Any]:
    """A sale line that matched nothing of ours while another sale line of the run is the same charge: the
    channel charged one sale twice. Its twin is the line that matched our sale, else the earliest of them;
    the twin is reported as what it is (matched, or missing here), this line only as the duplicate."""
    l1 = t.settlement_lines.alias("l1")
    m1 = recon_matches.alias("m1")
    twin_first = or_(
        exists().where(m1.c.run_id == sc.spec.run_id, m1.c.line_id == l1.c.id),
        l1.c.occurred_epoch < L.occurred_epoch,
        and_(l1.c.occurred_epoch == L.occurred_epoch, l1.c.id < L.id),
    )

    def twin(*same: Any) -> Any:
        where = (lines_of(l1.c, sc.spec), l1.c.kind == "sale", l1.c.id != L.id, twin_first, *same)
        return select(func.min(l1.c.id)).where(*where).scalar_subquery()

    first_twin = func.coalesce(*_twins(sc, l1, twin)).label("twin")
    dup = (
        select(L.id.label("line_id"), L.amount_fen.label("amount_fen"), first_twin)
        .where(sc.lines, L.kind == "sale", ~exists().where(M.run_id == sc.spec.run_id, M.line_id == L.id))
        .subquery()
    )
    md = recon_matches.alias("md")
    return (
        _finding(
            sc,
            C.DUPLICATE_CHARGE,
            line_id=dup.c.line_id,
            sale_id=func.coalesce(md.c.sale_id, ""),
            other_line_id=dup.c.twin,
            theirs_fen=dup.c.amount_fen,
        )
        .select_from(dup.outerjoin(md, and_(md.c.run_id == sc.spec.run_id, md.c.line_id == dup.c.twin)))
        .where(dup.c.twin.is_not(None))
    )


def _twins(sc: RunScope, l1: Any, twin: Any) -> list[Any]:
    """The keys that make two sale lines one charge, strongest first (each an indexed lookup). Card: the same
    RRN (the acquirer lists one transaction twice), or the same voucher no. on the same terminal for the same
    amount within the run's window (the terminal's one sale captured twice; voucher nos. recur in later
    batches). Wallets: our order no. (one order paid twice, or one transaction listed twice), or, on a line
    without our order no., the channel's own trade no."""
    if sc.spec.source == Source.CARD.value:
        return [
            twin(L.rrn != "", l1.c.rrn == L.rrn),
            twin(
                L.voucher_no != "",
                l1.c.voucher_no == L.voucher_no,
                l1.c.terminal_no == L.terminal_no,
                l1.c.amount_fen == L.amount_fen,
                l1.c.occurred_epoch >= L.occurred_epoch - sc.spec.window_seconds,
                l1.c.occurred_epoch <= L.occurred_epoch + sc.spec.window_seconds,
            ),
        ]
    return [
        twin(L.merchant_order_no != "", l1.c.merchant_order_no == L.merchant_order_no),
        twin(L.merchant_order_no == "", L.channel_trade_no != "", l1.c.channel_trade_no == L.channel_trade_no),
    ]


def _missing_here(sc: RunScope) -> Select[Any]:
    """A settled sale line, or a done refund or void line, with nothing of ours behind it (and not the
    second charge of a sale: that is its duplicate charge alone)."""
    run_id = sc.spec.run_id
    line_unmatched = ~exists().where(M.run_id == run_id, M.line_id == L.id)
    not_duplicate = ~exists().where(F.run_id == run_id, F.line_id == L.id, F["class"] == C.DUPLICATE_CHARGE.value)
    status = line_status()
    return _finding(sc, C.MISSING_HERE, line_id=L.id, theirs_fen=L.amount_fen, theirs_status=status).where(
        sc.lines, line_unmatched, not_duplicate, or_(L.kind == "sale", status == "SUCCESS")
    )


def _sales_missing_at_channel(sc: RunScope) -> Select[Any]:
    """A sale of ours in no line (unless a successful void, or the channel's word, cancelled it); the sale of a
    hold's completion is a completion the channel does not have."""
    rv = t.refunds.alias("rv")
    voided = or_(
        exists().where(rv.c.sale_id == S.id, rv.c.method == "void", rv.c.status == "succeeded"),
        S.settlement_status == "voided",
    )
    sale_unmatched = ~exists().where(M.run_id == sc.spec.run_id, M.sale_id == S.id)
    h, o = t.fund_holds.c, t.fund_hold_operations.c
    hold = or_(
        exists().where(h.merchant_id == S.merchant_id, h.sale_id == S.id),
        exists().where(o.merchant_id == S.merchant_id, o.step == "complete", o.operation_no == S.order_no),
    )
    cls = case((hold, literal(C.COMPLETION_MISSING_AT_CHANNEL.value)), else_=literal(C.MISSING_AT_CHANNEL.value))
    found = _finding(sc, C.MISSING_AT_CHANNEL, sale_id=S.id, ours_fen=S.amount_fen, ours_status=literal("recorded"))
    return found.with_only_columns(found.selected_columns[0], cls, *found.selected_columns[2:]).where(
        sc.sales, sale_unmatched, ~voided
    )


def _refunds_missing_at_channel(sc: RunScope) -> Select[Any]:
    """A refund of ours that succeeded in the run's days and is in no line."""
    run_id = sc.spec.run_id
    start, end = local_bounds(sc.spec.date_from, sc.spec.date_to)
    refund_unmatched = ~exists().where(M.run_id == run_id, M.refund_id == R.id)
    sale_seen = exists().where(M.run_id == run_id, M.sale_id == R.sale_id)
    return _finding(sc, C.MISSING_AT_CHANNEL, refund_id=R.id, ours_fen=R.amount_fen, ours_status=R.status).where(
        sc.refunds,
        R.status == "succeeded",
        R.method.in_(("refund", "void")),
        R.succeeded_at >= start,
        R.succeeded_at < end,
        refund_unmatched,
        # A same-day void may leave the acquirer's file together with its sale: expected then.
        or_(R.method != "void", sale_seen),
    )


def _matched_sales() -> Any:
    return recon_matches.join(t.sales, S.id == M.sale_id).join(t.settlement_lines, L.id == M.line_id)


def _matched_refunds() -> Any:
    return recon_matches.join(t.refunds, R.id == M.refund_id).join(t.settlement_lines, L.id == M.line_id)


def _sale_amount_mismatches(sc: RunScope) -> Select[Any]:
    return (
        _finding(sc, C.AMOUNT_MISMATCH, line_id=L.id, sale_id=S.id, ours_fen=S.amount_fen, theirs_fen=L.amount_fen)
        .select_from(_matched_sales())
        .where(M.run_id == sc.spec.run_id, L.amount_fen != S.amount_fen)
    )


def _refund_finding(sc: RunScope, cls: C) -> Select[Any]:
    """A matched refund and its line, both amounts and both statuses."""
    return _finding(
        sc,
        cls,
        line_id=L.id,
        refund_id=R.id,
        ours_fen=R.amount_fen,
        theirs_fen=L.amount_fen,
        ours_status=R.status,
        theirs_status=line_status(),
    ).select_from(_matched_refunds())


def _refund_amount_mismatches(sc: RunScope) -> Select[Any]:
    return _refund_finding(sc, C.AMOUNT_MISMATCH).where(
        M.run_id == sc.spec.run_id, line_status() == "SUCCESS", L.amount_fen != R.amount_fen
    )


def _refund_status_mismatches(sc: RunScope) -> Select[Any]:
    """The channel says done and we do not, or the channel says failed and we say succeeded. A refund the
    channel still shows PROCESSING is no finding, whatever our status: the next day's file tells."""
    status = line_status()
    return _refund_finding(sc, C.REFUND_STATUS_MISMATCH).where(
        M.run_id == sc.spec.run_id,
        or_(
            and_(status == "SUCCESS", R.status != "succeeded"),
            and_(status.not_in(("SUCCESS", "PROCESSING")), R.status == "succeeded"),
        ),
    )


def insert_fee_mismatches(conn: Connection, sc: RunScope, columns: list[str]) -> None:
    """The matched sales of the right amount read from ``recon_matches``, each fee judged by the contract."""
    contract = fee_contract(conn, sc.spec.merchant_id)
    if not contract:
        return
    rows = conn.execute(
        select(L.id, S.id, S.channel, L.card_type, L.local_date, L.settled_fen, L.fee_fen)
        .select_from(recon_matches.join(t.sales, S.id == M.sale_id).join(t.settlement_lines, L.id == M.line_id))
        .where(M.run_id == sc.spec.run_id, L.amount_fen == S.amount_fen)
        .order_by(L.id)
    )
    run_id, fee_class = sc.spec.run_id, C.FEE_MISMATCH.value
    found = [
        dict(zip(columns, (run_id, fee_class, line_id, sale_id, "", 0, due, fee, "", ""), strict=True))
        for line_id, sale_id, due, fee in fee_mismatches(contract, (tuple(r) for r in rows))
    ]
    if found:
        conn.execute(insert(t.recon_found), found)
