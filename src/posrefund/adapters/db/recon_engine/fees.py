"""The fee step of a run in the engine: DuckDB gives the matched sales of the right amount, each fee is judged
in Python by the merchant's contract (``repositories.fee_findings``, on domain/fees.py: the one computation the
fee-refund check uses too), and the fees it does not accept join the run's findings in DuckDB.

The rows are read a batch at a time, so a run of a million matched sales never holds them all in Python."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from sqlalchemy import Connection

from posrefund.adapters.db.recon_engine.load import FETCH, FINDINGS, append
from posrefund.adapters.db.recon_engine.rules import MATCHED_SALE_FEES
from posrefund.adapters.db.repositories.fee_findings import fee_contract, fee_mismatches
from posrefund.domain.reconciliation import DiscrepancyClass

_SCHEMA = pa.schema(FINDINGS)
_FEE = DiscrepancyClass.FEE_MISMATCH.value


def find_fee_mismatches(conn: Connection, duck: duckdb.DuckDBPyConnection, merchant_id: str) -> None:
    """Add a ``fee_mismatch`` finding to ``f`` for each matched sale whose fee the contract does not accept (the
    fee due as ours, the fee taken as theirs); nothing when the merchant has neither contract nor flat rates."""
    contract = fee_contract(conn, merchant_id)
    if not contract:
        return
    cursor = duck.cursor()  # its own cursor: the findings are appended on ``duck`` while this one reads
    cursor.execute(MATCHED_SALE_FEES)
    while rows := cursor.fetchmany(FETCH):
        found = [
            (_FEE, line_id, sale_id, "", 0, due, fee, "", "")
            for line_id, sale_id, due, fee in fee_mismatches(contract, rows)
        ]
        if found:
            append(duck, "f", _SCHEMA, found)
