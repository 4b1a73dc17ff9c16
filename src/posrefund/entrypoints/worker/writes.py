"""One write transaction at a time per worker process, on SQLite.

SQLite has one writer. When sixteen threads of a worker each ask for the write lock, the losers wait in
SQLite's busy handler, which sleeps and looks again (up to 100 ms a time) — the lock then lies idle while
waiters sleep, and a pool of threads commits fewer refunds than one thread did. Queued on an in-process
lock instead, the next thread is woken the moment the previous commit is done. Reads are not held back,
and the channel calls — the slow part — still run side by side: a step's two short transactions are
written one after another, its call is not. PostgreSQL has row locks, so there this is not used.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import replace
from types import TracebackType
from typing import Any, cast

from posrefund.ports import GroupCommit, UnitOfWork, UnitOfWorkFactory
from posrefund.service.deps import Deps


class _HeldWhileWriting:
    """A unit of work that holds the process's write lock from its start to its end."""

    def __init__(self, unit: UnitOfWork, lock: threading.Lock) -> None:
        self._unit = unit
        self._lock = lock

    def __enter__(self) -> UnitOfWork:
        self._lock.acquire()
        try:
            return self._unit.__enter__()
        except BaseException:
            self._lock.release()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._unit.__exit__(exc_type, exc, tb)
        finally:
            self._lock.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._unit, name)


class OneWriterAtATime:
    """A unit-of-work factory whose write units queue on one lock per process."""

    def __init__(self, inner: UnitOfWorkFactory) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def __call__(self, *, readonly: bool = False) -> UnitOfWork:
        unit = self._inner(readonly=readonly)
        return unit if readonly else cast(UnitOfWork, _HeldWhileWriting(unit, self._lock))

    def batch(self) -> AbstractContextManager[None]:
        return self._inner.batch()

    def open_batch(self) -> GroupCommit:
        return self._inner.open_batch()


def for_steps(deps: Deps, serial: bool | None) -> Deps:
    """The dependencies the pool's threads use: write units queued in-process on SQLite (``serial`` None:
    decided by the database), unchanged otherwise."""
    if serial is None:
        serial = _on_sqlite(deps)
    return replace(deps, uow=OneWriterAtATime(deps.uow)) if serial else deps


def _on_sqlite(deps: Deps) -> bool:
    engine = getattr(deps.uow, "engine", None)
    return engine is not None and engine.dialect.name == "sqlite"
