"""Password hashing with Argon2id, and the bounded pool the API checks passwords on.

One Argon2 check costs tens of milliseconds of CPU on every core (four lanes) and 64 MiB. Run on the event
loop, a flood of wrong passwords stalls every other request; run on an unbounded pool, it piles up memory
and latency. The pool runs at most one check per core but one, on its own threads, at a lower CPU priority than the
event loop (argon2-cffi releases the GIL; the lanes' threads inherit the priority), so the loop keeps
answering while the cores are busy hashing; a few more checks may wait, anyone beyond is refused at once
with ``HashingBusy``.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from posrefund.ports import PasswordHasher

T = TypeVar("T")


class Argon2Hasher:
    def __init__(self, fast: bool = False) -> None:
        # ``fast`` is for tests and the demo seeding only: same algorithm, lower cost.
        self._ph = _Argon2(time_cost=1, memory_cost=8192, parallelism=1) if fast else _Argon2()

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        try:
            return self._ph.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False


class HashingBusy(Exception):
    """Every worker is checking a password and the waiting room is full: try again in a moment."""


class HashingPool:
    """Password checks off the event loop on ``threads`` threads (default: the cores but one), ``waiting`` more
    queued (default: four per thread). ``admission()`` holds a place for one whole sign-in, so a caller
    refused for lack of room is refused before its attempt is counted against the account."""

    def __init__(self, hasher: PasswordHasher, *, threads: int | None = None, waiting: int | None = None) -> None:
        self._hasher = hasher
        self.threads = threads or max(1, (os.cpu_count() or 1) - 1)  # one core stays with the event loop
        self._executor = ThreadPoolExecutor(self.threads, "password-check", initializer=_yield_to_the_event_loop)
        self._room = self.threads + (waiting if waiting is not None else 4 * self.threads)
        self._taken = 0  # only touched on the event loop

    @contextmanager
    def admission(self) -> Iterator[None]:
        if self._taken >= self._room:
            raise HashingBusy
        self._taken += 1
        try:
            yield
        finally:
            self._taken -= 1

    async def verify(self, hashed: str, password: str) -> bool:
        return await self.run(self._hasher.verify, hashed, password)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Any Argon2 work (a check, a hash) on the pool's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)


HASHING_NICENESS = 10


def _yield_to_the_event_loop() -> None:
    """Lower this thread's CPU priority (Linux schedules threads one by one; elsewhere nothing happens)."""
    with suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)
