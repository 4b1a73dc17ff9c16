"""An import's batches written by up to ``writers`` transactions at once, their outcomes taken in file order.

Why: on PostgreSQL most of a bulk import's time is the server's (a million sales: 18.6 s of 25.9 in the one
``INSERT … SELECT … ON CONFLICT``), and one transaction keeps one server process busy; two keep two cores. What
must not change: a sale twice in the file is recorded from its first line. Two transactions writing the same sale
race on its unique key, so a batch holding a sale key of a batch still being written waits for it first; batches
without a common sale go side by side. Outcomes (counts, progress) are taken in submission order, on the caller's
thread. With one writer (SQLite) each batch is written on the caller's thread, as before.

If a batch fails, the ones already being written are finished, their outcomes taken, and the first error raised:
what was committed stays committed, as with one writer (an import stopped midway is finished by importing the
same file again: its recorded sales count as duplicates)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Set
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

R = TypeVar("R")


class BatchWrites(Generic[R]):
    """``submit`` each batch's write in file order; ``close`` (or the end of a ``with``) waits for the rest."""

    def __init__(self, writers: int, name: str = "import-write") -> None:
        self._writers = max(1, writers)
        self._pool = ThreadPoolExecutor(self._writers, thread_name_prefix=name) if self._writers > 1 else None
        self._flight: deque[tuple[Future[R], Set[Hashable], Callable[[R], None]]] = deque()

    def submit(self, keys: Callable[[], Set[Hashable]], write: Callable[[], R], done: Callable[[R], None]) -> None:
        """Write a batch (``write``: one transaction; ``keys``: the sales it writes, asked only when batches go side
        by side); ``done`` is handed its outcome, in submission order."""
        if self._pool is None:
            done(write())
            return
        held = keys()
        if any(not held.isdisjoint(other) for _, other, _ in self._flight):
            self._take(len(self._flight))
        if len(self._flight) >= self._writers:
            self._take(1)
        self._flight.append((self._pool.submit(write), held, done))

    def _take(self, count: int) -> None:
        """The outcomes of the ``count`` oldest batches, in order; on a failure, every batch in flight is waited
        for (outcomes taken where there are) and the first error raised."""
        for _ in range(count):
            future, _keys, done = self._flight.popleft()
            try:
                outcome = future.result()
            except BaseException:
                self._settle()
                raise
            done(outcome)

    def _settle(self) -> None:
        while self._flight:
            future, _keys, done = self._flight.popleft()
            try:
                outcome = future.result()
            except BaseException:  # noqa: S112 - the first failure is the one raised; later ones are its echo
                continue
            done(outcome)

    def close(self) -> None:
        try:
            self._take(len(self._flight))
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> BatchWrites[R]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
            return
        try:
            self._settle()  # the caller is failing: finish what is being written, raise the caller's error
        finally:
            self._shutdown()
