"""Running the audit sequencer: until nothing committed waits, and in the background after each commit.

A refund's transaction writes its audit events unchained (see ``repositories/audit.py``); a commit that did
only pokes this process's chainer thread, which runs the sequencer in a transaction of its own. Why a thread
rather than the committing request: the answer to the refund does not wait for the chaining, and one run
chains what many commits left (the API commits in groups, several at a time). The chainer gives up at once
when another process's sequencer holds the lock — that one, a later poke or the worker's round chains what is
left — and its thread ends after a few idle seconds (the next poke starts another).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog
from sqlalchemy import Engine

from posrefund.adapters.db.repositories.audit import AuditSql

log = structlog.get_logger("posrefund.audit")
SEQUENCER_BATCH = 1000  # events chained a transaction: a long backlog is worked off in steps
IDLE_SECONDS = 5.0  # a chainer thread with nothing to do for this long ends
# After a poke the chainer waits this long before it runs, so that one run chains what the commits of that moment
# left: a run costs about 2 ms of this process's CPU whether it chains two events or two hundred, and run once a
# refund it took half the CPU of a PostgreSQL node. Events are listed unchained meanwhile, and verified after it.
GATHER_SECONDS = 0.025


def chain_all(engine: Engine, *, wait: bool) -> int:
    """Run the sequencer until nothing committed is left unchained, or (without ``wait``) until another
    sequencer holds the lock. Each batch is its own transaction; returns how many events were chained. A read
    comes first: with nothing waiting (every worker round, and always on SQLite) no write is begun at all."""
    with engine.connect() as conn:
        conn.execution_options(posrefund_readonly=True)
        if not AuditSql(conn).any_unchained():
            return 0
    chained = 0
    while True:
        with engine.begin() as conn:
            done = AuditSql(conn).chain_pending(SEQUENCER_BATCH, wait=wait)
        if done is None:
            return chained
        chained += done
        if done < SEQUENCER_BATCH:
            return chained


class Chainer:
    """One thread of a process that runs ``chain`` soon after it is poked; pokes that come meanwhile are one run."""

    def __init__(self, chain: Callable[[], object]) -> None:
        self._chain = chain
        self._lock = threading.Lock()
        self._poked = threading.Event()
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        with self._lock:
            self._poked.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="posrefund-audit-chainer", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            if not self._poked.wait(IDLE_SECONDS):
                with self._lock:
                    if not self._poked.is_set():  # else a poke came just now: go round once more
                        self._thread = None
                        return
                continue
            time.sleep(GATHER_SECONDS)
            self._poked.clear()
            try:
                self._chain()
            except Exception:  # the events are committed: the next poke or the worker's round chains them
                log.exception("audit.chain_failed")
