"""The reconciliation engine reads the run's lines and ledger in a read transaction: while it works, another
writer (a refund request) takes SQLite's write lock at once instead of waiting for the run and then failing
with "database is locked"."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from posrefund.adapters.db import recon_engine
from posrefund.config import Settings
from posrefund.service import reconciliation
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.recon.helpers import build_set, import_and_run
from tests.recon.test_reconcile_faults import FAULTS


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_writer_gets_the_lock_while_the_engine_reads(
    deps: Deps, engine: Engine, world: World, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finance = world.a.actors["finance"]
    path, truth = build_set(deps, engine, world.a, tmp_path, "wechat", 1_500, 60, FAULTS)
    db_file = settings.database_url.removeprefix("sqlite:///")
    real_find = recon_engine.find
    writes: list[str] = []

    def find_while_a_refund_is_written(conn: Any, spec: Any) -> Any:
        other = sqlite3.connect(db_file, timeout=0.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" after 0.5 s if the run held the lock
            other.execute("ROLLBACK")
            writes.append("got the lock")
        finally:
            other.close()
        return real_find(conn, spec)

    monkeypatch.setattr(recon_engine, "find", find_while_a_refund_is_written)
    _report, run = import_and_run(deps, finance, path, "wechat")
    assert writes == ["got the lock"]
    assert run["totals"]["open_discrepancies"] == len(truth.expected)
    again = reconciliation.reconcile(deps, finance, source="wechat", date_from=run["date_from"], date_to=run["date_to"])
    assert (again["changed"], writes) == (False, ["got the lock", "got the lock"])
