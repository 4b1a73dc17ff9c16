"""The reconciliation path the DuckDB engine replaced, kept as the oracle the engine's findings are compared with
(tests/recon/test_engine_agrees.py): matching a run's settlement lines to the ledger, strongest key first, into the
``recon_matches`` scratch table (a temporary table of the oracle's own since migration 0030 dropped the
engine's), as SQL on the operational database.

Sales by RRN (card) or our order no. (wallets); then, for card lines, by voucher no. + terminal + amount; refunds
by our refund_no, then by the channel's reference (card: the refund's RRN), then void lines by the sale they
name. Each side is matched at most once
per pass (the lowest line id wins; a second line is a duplicate). The statements run in this order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    Select,
    String,
    Table,
    and_,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.recon_scope import L, R, RunScope, S
from posrefund.domain.reconciliation import Source

_REFUND_KINDS = ("refund", "void")
# The oracle's matches: a temporary table made inside the caller's transaction (rolled back with it).
recon_matches = Table(
    "recon_matches",
    MetaData(),
    Column("run_id", String(40), nullable=False),
    Column("line_id", BigInteger, nullable=False),
    Column("sale_id", String(40), nullable=False, server_default=""),
    Column("refund_id", String(40), nullable=False, server_default=""),
    prefixes=["TEMPORARY"],
)
M = recon_matches.c
# The settlement line indexes the replaced path's statements were planned with: migration 0033 dropped them from
# the product (no product query reads lines by payer or order no. since matching moved to DuckDB), so the oracle
# makes them inside its transaction, rolled back with it. Without them its self-joins scan (150 s a test).
_ORACLE_INDEXES = {
    "ix_oracle_lines_order": ("merchant_id", "merchant_order_no"),
    "ix_oracle_lines_payer": ("merchant_id", "payer_masked", "amount_fen", "terminal_no", "occurred_epoch"),
}


def match(conn: Connection, sc: RunScope) -> None:
    """Fill the run's matches: sales first, then refunds; the second key of each only for what is still free."""
    card = sc.spec.source == Source.CARD.value
    recon_matches.create(conn, checkfirst=True)
    for name, columns in _ORACLE_INDEXES.items():  # plain DDL: an Index object would join the product's metadata
        conn.exec_driver_sql(f"CREATE INDEX {name} ON settlement_lines ({', '.join(columns)})")
    _insert(conn, _sales_by_reference(sc, card))
    if card:
        _insert(conn, _card_sales_by_voucher(sc))
    _insert(conn, _refunds_by_refund_no(sc))
    if card:
        _insert(conn, _card_refunds_by_channel_reference(sc))
    _insert(conn, _voids_by_the_sale_they_name(sc, card))


def match_counts(conn: Connection, sc: RunScope) -> dict[str, int]:
    run = sc.spec.run_id
    matched_sales = conn.scalar(select(func.count()).where(M.run_id == run, M.sale_id != "")) or 0
    matched_refunds = conn.scalar(select(func.count()).where(M.run_id == run, M.refund_id != "")) or 0
    return {"matched_sales": int(matched_sales), "matched_refunds": int(matched_refunds)}


def _insert(conn: Connection, q: Select[Any]) -> None:
    conn.execute(insert(recon_matches).from_select(["run_id", "line_id", "sale_id", "refund_id"], q))


def _line_free(sc: RunScope) -> Any:
    return ~exists().where(M.run_id == sc.spec.run_id, M.line_id == L.id)


def _sales_by_reference(sc: RunScope, card: bool) -> Select[Any]:
    """Card lines by RRN, wallet lines by our order no."""
    key = (L.rrn == S.rrn) if card else (L.merchant_order_no == S.order_no)
    nonempty = (L.rrn != "") if card else (L.merchant_order_no != "")
    return (
        select(literal(sc.spec.run_id), func.min(L.id), S.id, literal(""))
        .select_from(t.sales.join(t.settlement_lines, and_(L.merchant_id == S.merchant_id, key)))
        .where(sc.sales, sc.lines, L.kind == "sale", nonempty)
        .group_by(S.id)
    )


def _card_sales_by_voucher(sc: RunScope) -> Select[Any]:
    """Card sales not matched by RRN: voucher no. on the same terminal for the same amount."""
    tm = t.terminals.c
    sale_free = ~exists().where(M.run_id == sc.spec.run_id, M.sale_id == S.id)
    return (
        select(literal(sc.spec.run_id), func.min(L.id), S.id, literal(""))
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
        .where(sc.sales, sc.lines, L.kind == "sale", L.voucher_no != "", sale_free, _line_free(sc))
        .group_by(S.id)
    )


def _refunds_by_refund_no(sc: RunScope) -> Select[Any]:
    return (
        select(literal(sc.spec.run_id), func.min(L.id), literal(""), R.id)
        .select_from(
            t.refunds.join(
                t.settlement_lines, and_(L.merchant_id == R.merchant_id, L.merchant_refund_no == R.refund_no)
            )
        )
        .where(sc.refunds, sc.lines, L.kind.in_(_REFUND_KINDS), L.merchant_refund_no != "")
        .group_by(R.id)
    )


def _card_refunds_by_channel_reference(sc: RunScope) -> Select[Any]:
    """Card refunds not matched by our refund no.: the line's RRN is the channel's reference of the refund."""
    refund_free = ~exists().where(M.run_id == sc.spec.run_id, M.refund_id == R.id)
    return (
        select(literal(sc.spec.run_id), func.min(L.id), literal(""), R.id)
        .select_from(
            t.refunds.join(t.settlement_lines, and_(L.merchant_id == R.merchant_id, L.rrn == R.channel_refund_id))
        )
        .where(
            sc.refunds,
            sc.lines,
            L.kind.in_(_REFUND_KINDS),
            R.channel_refund_id != "",
            L.rrn != "",
            refund_free,
            _line_free(sc),
        )
        .group_by(R.id)
    )


def _voids_by_the_sale_they_name(sc: RunScope, card: bool) -> Select[Any]:
    """Void lines still free ↔ our refunds still free (a void, or a refund where the channel voided) of the
    sale the line names, for the same amount: acquirers that print the voided sale's RRN or voucher no. on
    the 消费撤销 line, WeChat's REVOKED order (our order no.). Each line and each refund at most once."""
    tm = t.terminals.c
    refund_free = ~exists().where(M.run_id == sc.spec.run_id, M.refund_id == R.id)
    sale: Any
    if card:
        names = or_(
            and_(L.rrn != "", L.rrn == S.rrn),
            and_(L.voucher_no != "", L.voucher_no == S.voucher_no, L.terminal_no == tm.terminal_no),
        )
        sale = t.sales.join(t.terminals, tm.id == S.terminal_id)
    else:
        names, sale = and_(L.merchant_order_no != "", L.merchant_order_no == S.order_no), t.sales
    pairs = (
        select(L.id.label("line_id"), func.min(R.id).label("refund_id"))
        .select_from(
            t.refunds.join(sale, S.id == R.sale_id).join(
                t.settlement_lines, and_(L.merchant_id == R.merchant_id, L.amount_fen == R.amount_fen, names)
            )
        )
        .where(sc.refunds, sc.lines, L.kind == "void", refund_free, _line_free(sc))
        .group_by(L.id)
        .subquery()
    )
    return select(literal(sc.spec.run_id), func.min(pairs.c.line_id), literal(""), pairs.c.refund_id).group_by(
        pairs.c.refund_id
    )
