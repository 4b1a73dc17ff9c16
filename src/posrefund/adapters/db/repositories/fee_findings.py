"""The fee check of a reconciliation run: every matched sale of the right amount whose fee is not what the
merchant's fee contract says for its day, channel and card type (domain/fees.py: the same rules the fee-refund
check applies, one computation). A merchant without a contract is checked against its flat rates per channel,
read as a contract in force on every day."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.fee_contracts import FeeContractSql
from posrefund.adapters.db.repositories.recon_scope import L, M, RunScope, S
from posrefund.domain.fees import FeePeriod, fee_accepted, fee_due, flat_contract
from posrefund.domain.reconciliation import DiscrepancyClass as C
from posrefund.domain.reconciliation import FeeRate


def insert_fee_mismatches(conn: Connection, sc: RunScope, columns: list[str]) -> None:
    """Read the run's matched sales, judge each fee in Python, write the findings in one statement. A coupon the
    merchant funds is not settled, so it is not charged for: the fee's base is what the channel settled."""
    contract = _contract(conn, sc.spec.merchant_id)
    if not contract:
        return
    rows = conn.execute(
        select(L.id, S.id, S.channel, L.card_type, L.local_date, L.settled_fen, L.fee_fen)
        .select_from(t.recon_matches.join(t.sales, S.id == M.sale_id).join(t.settlement_lines, L.id == M.line_id))
        .where(M.run_id == sc.spec.run_id, L.amount_fen == S.amount_fen)
        .order_by(L.id)
    )
    found: list[dict[str, Any]] = []
    for line_id, sale_id, channel, card_type, day, base, fee in rows:
        if fee_accepted(contract, channel, card_type, day, base, fee):
            continue
        due = fee_due(contract, channel, card_type, day, base).fee_fen
        found.append(_row(sc.spec.run_id, line_id, sale_id, due, fee, columns))
    if found:
        conn.execute(insert(t.recon_found), found)


def _contract(conn: Connection, merchant_id: str) -> list[FeePeriod]:
    periods = FeeContractSql(conn).periods(merchant_id)
    if periods:
        return periods
    fr = t.recon_fee_rates.c
    flat = conn.execute(select(t.recon_fee_rates).where(fr.merchant_id == merchant_id))
    return flat_contract([FeeRate(r.channel, r.rate_bp, r.large_rate_bp, r.large_from_fen) for r in flat])


def _row(run_id: str, line_id: int, sale_id: str, due: int | None, fee: int, columns: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {"line_id": 0, "sale_id": "", "refund_id": "", "other_line_id": 0}
    values |= {"ours_status": "", "theirs_status": "", "ours_fen": None, "theirs_fen": None}
    values |= {"run_id": run_id, "class": C.FEE_MISMATCH.value, "line_id": line_id, "sale_id": sale_id}
    values |= {"ours_fen": due, "theirs_fen": fee}
    return {k: values[k] for k in columns}
