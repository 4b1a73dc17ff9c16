"""The analytical engine of a reconciliation run: the run's settlement lines and ledger are read from the
operational database in bulk (a read transaction: refunds keep being written meanwhile), matched and classified
in DuckDB by the rules of ``rules`` (the fees by the merchant's contract, ``fees``), and the findings handed back
to be merged in one short write transaction.

DuckDB works in memory up to ``MEMORY_LIMIT`` and spills to a temporary folder beyond it, so a run of millions
of lines stays within a few hundred MiB. Its tables live in a database file in that folder, not in an in-memory
database: a file's blocks can leave memory when a statement needs room, an in-memory table's cannot (a million
lines in memory ran out of 160 MB in the fee step)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import duckdb
from sqlalchemy import Connection

from posrefund.adapters.db.recon_engine import rules
from posrefund.adapters.db.recon_engine.fees import find_fee_mismatches
from posrefund.adapters.db.recon_engine.load import load
from posrefund.domain.reconciliation import Source
from posrefund.ports import LineTotals, RunSpec

# Measured at 1,000,000 lines × 1,000,000 sales (the run's own peak above the process it runs in; its time):
# 128 MB 212 MB, 12.6 s; 160 MB 243 MB, 10.7 s; 192 MB 285 MB, 11.2 s; 256 MB 379 MB, 9.6 s.
MEMORY_LIMIT = "160MB"
THREADS = 2


class EngineFindings:
    """What the engine found for one run, held in its DuckDB database until ``close``: the match counts, the
    line totals, and the findings streamed in batches."""

    def __init__(self, duck: duckdb.DuckDBPyConnection, spill: str) -> None:
        self._duck, self._spill = duck, spill
        self.matched_sales, self.matched_refunds = self._one(
            "SELECT count(*) FILTER (WHERE sale_id <> ''), count(*) FILTER (WHERE refund_id <> '') FROM m"
        )
        self.line_totals = self._line_totals()

    def _one(self, sql: str) -> tuple[Any, ...]:
        row = self._duck.execute(sql).fetchone()
        assert row is not None
        return tuple(row)

    def _line_totals(self) -> LineTotals:
        out: dict[str, int] = {}
        for kind, n, amount, fee in self._duck.execute(
            "SELECT kind, count(*), coalesce(sum(amount), 0), coalesce(sum(fee), 0) FROM l GROUP BY kind"
        ).fetchall():
            out[f"lines_{kind}"], out[f"lines_{kind}_fen"], out[f"lines_{kind}_fee_fen"] = int(n), int(amount), int(fee)
        n, amount = self._one("SELECT count(*), coalesce(sum(amount), 0) FROM s")
        out["ledger_sales"], out["ledger_sales_fen"] = int(n), int(amount)
        return out  # type: ignore[return-value]  # the kinds are those the settlement parsers give a line

    def batches(self, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """The findings, ``size`` at a time, in the columns of ``rules.F_COLUMNS``."""
        cursor = self._duck.execute(rules.ALL_FINDINGS)
        while rows := cursor.fetchmany(size):
            yield rows

    def close(self) -> None:
        self._duck.close()
        shutil.rmtree(self._spill, ignore_errors=True)


def find(conn: Connection, spec: RunSpec) -> EngineFindings:
    """Load the run's two sides from ``conn`` and apply the rules; the findings stay in DuckDB until merged."""
    spill = tempfile.mkdtemp(prefix="posrefund-recon-")
    duck = duckdb.connect(
        os.path.join(spill, "run.duckdb"),  # blocks that can leave memory (see the module)
        config={"memory_limit": MEMORY_LIMIT, "threads": THREADS, "temp_directory": spill},
    )
    try:
        load(conn, duck, spec)
        card = spec.source == Source.CARD.value
        for statement in (*rules.matching(card), *rules.findings(card)):
            duck.execute(statement, {"window": spec.window_seconds} if "$window" in statement else None)
        find_fee_mismatches(conn, duck, spec.merchant_id)
        return EngineFindings(duck, spill)
    except BaseException:
        duck.close()
        shutil.rmtree(spill, ignore_errors=True)
        raise
