"""Events chained after their commit are as tamper-evident as before: ``posrefund audit verify`` first chains
what waits, then names every changed, removed and cut event and every gap; resumed at the newest signed
checkpoint it reads only the events after it and still names a change there; and an event committed by a process
that died before chaining it is never lost.

On PostgreSQL the events below are written unchained and chained after each commit by the sequencer (the
test asks for it at once rather than wait for the chainer thread); on SQLite the append chains them at once.
The chain: six events and a checkpoint at 6 (signed by a verify), then four more, chained but not yet signed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from sqlalchemy import ColumnElement, Engine, Executable, and_, delete, func, select, update

from posrefund.config import Settings
from posrefund.domain.events import CaseEvent
from posrefund.domain.roles import Actor, Role
from posrefund.service.deps import Deps
from tests.security.test_audit_chain import CHAIN, E, H, append, cli, event_id, expect, verify

__all__ = ["cli"]  # the CLI's environment, with the checkpoint key
pytestmark = pytest.mark.usefixtures("cli")


@pytest.fixture
def chain(deps: Deps) -> None:
    append(deps, 1, 6)
    code, report = verify()
    assert (code, report["ok"], report["signed"]) == (0, True, 1), report
    append(deps, 7, 4)


def places(engine: Engine) -> list[int | None]:
    with engine.connect() as c:
        return list(c.execute(select(E.c.seq).where(E.c.chain == CHAIN).order_by(E.c.id)).scalars())


def test_events_are_chained_soon_after_their_commit_without_anyone_asking(deps: Deps, engine: Engine) -> None:
    actor = Actor(id="usr_1", role=Role.ADMIN, merchant_id=CHAIN, name="boss")
    with deps.uow() as uow:
        for i in range(5):
            uow.audit.append(CHAIN, None, CaseEvent(f"test.step{i}", actor, deps.clock.now(), None, None, "", {}))
        uow.commit()
    deadline = time.monotonic() + 20
    while places(engine) != [1, 2, 3, 4, 5]:  # the chainer thread's work, poked by the commit
        assert time.monotonic() < deadline, places(engine)
        time.sleep(0.05)
    with engine.connect() as c:
        assert c.execute(select(H.c.seq).where(H.c.chain == CHAIN)).scalar_one() == 5


def test_a_resumed_verify_reads_only_the_events_after_the_checkpoint(chain: None) -> None:
    code, report = verify()
    assert (code, report["ok"], report["checked"], report["resumed"], report["signed"]) == (0, True, 4, 1, 1)
    code, report = verify("--full")
    assert (code, report["ok"], report["checked"], report["resumed"]) == (0, True, 10, 0)


def verdict_after(engine: Engine, tamper: Executable) -> dict[str, Any]:
    """What ``audit verify`` (resumed at the checkpoint) reports after the statement ran; it must fail."""
    with engine.begin() as c:
        c.execute(tamper)
    code, report = verify()
    assert code == 1, report
    return report


def at(seq: int) -> ColumnElement[bool]:
    return and_(E.c.chain == CHAIN, E.c.seq == seq)


def test_a_change_after_the_checkpoint_is_named_by_the_resumed_verify(chain: None, engine: Engine) -> None:
    report = verdict_after(engine, update(E).where(at(8)).values(reason="nothing happened"))
    expect(report, "hash_mismatch", 8, event_id(engine, 8))


def test_a_deleted_event_is_named(chain: None, engine: Engine) -> None:
    expect(verdict_after(engine, delete(E).where(at(8))), "seq_gap", 8, event_id(engine, 9))


def test_an_event_deleted_before_the_checkpoint_is_named_without_full(chain: None, engine: Engine) -> None:
    expect(verdict_after(engine, delete(E).where(at(3))), "seq_gap", 3, event_id(engine, 4))


def test_the_newest_events_cut_are_named(chain: None, engine: Engine) -> None:
    report = verdict_after(engine, delete(E).where(E.c.chain == CHAIN, E.c.seq > 8))
    expect(report, "truncated", 9, None, 6)


def test_an_event_unchained_again_leaves_a_gap(chain: None, engine: Engine) -> None:
    """Emptying an event's place does not let the sequencer re-file it quietly at the end of the chain."""
    report = verdict_after(engine, update(E).where(at(8)).values(seq=None, prev_hash=None, hash=None))
    expect(report, "seq_gap", 8, event_id(engine, 9))
    assert sorted(p or 0 for p in places(engine)) == [*range(1, 8), *range(9, 12)]  # re-filed at 11


def test_events_committed_by_a_process_killed_before_chaining_them_are_chained_by_verify(
    cli: Settings, engine: Engine
) -> None:
    script = textwrap.dedent(
        """
        import os, signal, sys
        from datetime import UTC, datetime
        from posrefund import bootstrap
        from posrefund.adapters.db.audit_chainer import Chainer
        from posrefund.config import Settings
        from posrefund.domain.events import CaseEvent
        from posrefund.domain.roles import Actor, Role

        def die(self, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)  # the commit is done; the chaining never happens

        Chainer.poke = die
        deps = bootstrap.build(Settings())
        actor = Actor(id="usr_1", role=Role.ADMIN, merchant_id=sys.argv[1], name="boss")
        events = [CaseEvent(f"test.step{i}", actor, datetime.now(UTC), None, None, "", {}) for i in range(3)]
        with deps.uow() as uow:
            uow.audit.append_many(sys.argv[1], None, events)
            uow.commit()
        """
    )
    run = subprocess.run([sys.executable, "-c", script, CHAIN], check=False, capture_output=True, timeout=60)
    with engine.connect() as c:
        kept = c.execute(select(func.count()).select_from(E).where(E.c.chain == CHAIN)).scalar_one()
    assert kept == 3, run.stderr.decode()[-2000:]
    if cli.database_url.startswith("postgresql"):
        assert run.returncode == -9 and places(engine) == [None, None, None]
    code, report = verify()
    assert (code, report["ok"], report["checked"]) == (0, True, 3)
    assert places(engine) == [1, 2, 3]
