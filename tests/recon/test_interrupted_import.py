"""A settlement import killed midway (SIGKILL after some of its batches committed) is never taken for a finished
file: while its importer may still be alive the same file is refused as being imported, no run, count or
withdrawal reads it; once the importer has been silent long enough the next import clears what it staged
(audited, its lines handed over to any file that held them as shadows) and the same file imports whole, each
line counted once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from posrefund.adapters.db import tables
from posrefund.adapters.settlement import open_settlement_file
from posrefund.config import Settings
from posrefund.domain.errors import Conflict, Invalid
from posrefund.service import reconciliation
from posrefund.service.deps import Deps
from posrefund.service.reconciliation.integrity import ABANDONED_AFTER
from tests.conftest import FixedClock, World
from tests.recon.bills import (
    DAY,
    Tx,
    card_file,
    counting_lines,
    file_row,
    import_path,
    one_by_one,
    row_counts,
    write,
)
from tests.support.demo_serve import settings_environment

TXS = [Tx(n, 1_000 + n, 6) for n in range(1, 301)]
BATCH, KILL_AFTER = 40, 3  # three batches (120 lines) committed, the fourth never

# Imports the file in a process of its own, a few lines per batch, and kills that process with SIGKILL once its
# ``kill_after``-th batch has committed (the import's progress is told after each commit), while the next lines
# are being read: what was committed stays, exactly as a crash or `kill -9` leaves it. The file is read in blocks
# as columns; each of its lines is handed to the import as an item of its own (a block of one line), so a batch
# holds ``batch`` lines and not the file's one block.
CHILD = """
import json, os, signal, sys
from pathlib import Path
from posrefund import bootstrap
from posrefund.adapters.settlement import open_settlement_file
from posrefund.config import Settings
from posrefund.domain.roles import Actor, Role
from posrefund.service import reconciliation

from tests.recon.bills import one_by_one

conf = json.loads(sys.argv[1])
deps = bootstrap.build(Settings())
args = dict(open_settlement_file("card", Path(conf["path"])).import_arguments())
lines = args.pop("lines")

committed = []

def dying(lines_staged):
    committed.append(lines_staged)
    if len(committed) == conf["kill_after"]:
        os.kill(os.getpid(), signal.SIGKILL)

actor = Actor(conf["actor"], Role.FINANCE, conf["merchant"])
reconciliation.import_file(deps, actor, **args, lines=one_by_one(lines), batch=conf["batch"], progress=dying)
"""


def killed_import(settings: Settings, world: World, engine: Engine, path: Path) -> dict[str, Any]:
    """Import ``path`` in a process killed midway (``CHILD``); the file row it left and how many lines are staged.
    The trace is unfinished and was alive at its last batch."""
    finance = world.a.actors["finance"]
    conf = {"path": str(path), "kill_after": KILL_AFTER, "batch": BATCH, "actor": finance.id, "merchant": world.a.id}
    env = os.environ | settings_environment(settings)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(conf)], check=False, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    with engine.connect() as c:
        row = c.execute(select(tables.settlement_files)).mappings().one()
        lines = c.execute(select(func.count()).select_from(tables.settlement_lines)).scalar_one()
    assert row["heartbeat_at"] is not None
    return {**row, "lines": lines}


def test_a_killed_import_is_refused_while_it_may_run_then_cleared_and_the_file_imports_whole(
    deps: Deps, world: World, engine: Engine, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    path = write(tmp_path, "acquirer.csv", card_file(TXS))
    trace = killed_import(settings, world, engine, path)
    assert trace["lines"] == 3 * BATCH  # what the three committed batches staged, and no more
    assert (trace["finished_at"], trace["first_date"]) == (None, None)
    heartbeat = trace["heartbeat_at"]

    # Its importer may still be alive: the same file is refused (409), nothing is changed, nothing reads it.
    clock.at = heartbeat + ABANDONED_AFTER / 2
    before = row_counts(engine)
    with pytest.raises(Conflict) as caught:
        import_path(deps, finance, "card", path)
    assert (caught.value.code, caught.value.params) == ("recon.file_importing", {"file_id": trace["id"]})
    assert row_counts(engine) == before
    assert reconciliation.get_file(deps, finance, str(trace["id"]))["state"] == "importing"
    with pytest.raises(Conflict) as named:
        reconciliation.reconcile(deps, finance, source="card", date_from=DAY, date_to=DAY, file_ids=[str(trace["id"])])
    assert named.value.code == "recon.file_importing"
    with pytest.raises(Conflict) as withdrawing:
        reconciliation.withdraw_file(deps, finance, str(trace["id"]), "重复")
    assert withdrawing.value.code == "recon.file_importing"
    with pytest.raises(Invalid) as unnamed:  # a run of the day does not take it for a file of the day
        reconciliation.reconcile(deps, finance, source="card", date_from=DAY, date_to=DAY)
    assert unnamed.value.code == "recon.no_files"
    assert row_counts(engine) == before

    # Silent past the limit: interrupted; the next import clears it (audited) and the file imports whole.
    clock.at = heartbeat + ABANDONED_AFTER + (ABANDONED_AFTER / 60)
    assert reconciliation.get_file(deps, finance, str(trace["id"]))["state"] == "interrupted"
    again = import_path(deps, finance, "card", path)
    assert (again.duplicate, again.lines, again.bad_lines, again.overlap_lines) == (False, 300, 0, 0)
    assert counting_lines(engine, again.file_id) == 300
    stored = file_row(engine, again.file_id)
    assert (stored["finished_at"], stored["heartbeat_at"], stored["first_date"]) == (clock.at, None, DAY)
    assert reconciliation.get_file(deps, finance, again.file_id)["state"] == "imported"
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(tables.settlement_lines)).scalar_one() == 300
    events = tables.audit_events.c
    with engine.connect() as c:
        cleared = c.execute(select(events.actor_id, events.data).where(events.action == "settlement.import_abandoned"))
        (who, data), *more = cleared.all()
    assert more == [] and who == finance.id
    recorded = data if isinstance(data, dict) else json.loads(data)
    assert (recorded["file_id"], recorded["lines_removed"]) == (trace["id"], 3 * BATCH)
    # And now it is the file it is: the same content again is a duplicate.
    assert import_path(deps, finance, "card", path).duplicate


def test_lines_a_killed_import_held_pass_to_the_file_that_shadowed_them(
    deps: Deps, world: World, engine: Engine, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    killed = write(tmp_path, "first.csv", card_file(TXS))
    heartbeat = killed_import(settings, world, engine, killed)["heartbeat_at"]
    # Another file with the same first 200 lines, imported while the killed import may still be running: its
    # copies of the 120 staged lines are kept as shadows of them.
    clock.at = heartbeat + ABANDONED_AFTER / 2
    second = import_path(deps, finance, "card", write(tmp_path, "second.csv", card_file(TXS[:200])))
    assert (second.lines, second.overlap_lines) == (200, 3 * BATCH)
    assert counting_lines(engine, second.file_id) == 200 - 3 * BATCH
    # Once the killed import is cleared, they count in the second file: every line once, none lost.
    clock.at = heartbeat + 2 * ABANDONED_AFTER
    whole = import_path(deps, finance, "card", killed)
    assert (whole.lines, whole.overlap_lines) == (300, 200)
    assert counting_lines(engine, second.file_id) == 200
    assert file_row(engine, second.file_id)["overlap_count"] == 0
    assert counting_lines(engine, whole.file_id) == 100


def test_sqlite_reads_the_next_batch_only_after_this_one_committed_postgresql_reads_ahead(
    deps: Deps, world: World, backend: str, tmp_path: Path
) -> None:
    """On SQLite the reading between two batches is the refunds' window on the one write lock: the file is read
    one batch at a time, after the batch before has committed. On PostgreSQL the next batch is read while the
    server writes this one."""
    path = write(tmp_path, "acquirer.csv", card_file(TXS[:200]))
    args = dict(open_settlement_file("card", path).import_arguments())
    pulled: list[object] = []

    def counted(items: Any) -> Any:
        for item in one_by_one(items):
            pulled.append(item)
            yield item

    read_at_commit: list[int] = []
    report = reconciliation.import_file(
        deps,
        world.a.actors["finance"],
        **{**args, "lines": counted(args["lines"])},
        batch=BATCH,
        progress=lambda _lines: read_at_commit.append(len(pulled)),
    )
    assert report.lines == 200
    committed = [BATCH * k for k in range(1, 6)]
    if backend == "sqlite":
        assert read_at_commit == committed
    else:
        assert all(read >= done for read, done in zip(read_at_commit, committed, strict=True))
        assert any(read > done for read, done in zip(read_at_commit, committed, strict=True))
