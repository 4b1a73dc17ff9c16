"""Many channel calls in flight in one worker process: a thread pool fed by the sweep.

Channel adapters are synchronous clients (httpx, plain sockets), so a thread per call in flight is the
simple and safe shape: each thread runs ``execution.advance`` for one case — claim, one call, record —
exactly as the single-threaded worker did, and the claim's compare-and-set still gives a case to one
worker among many processes. The pool adds what one process must not do twice or too much: a case
running here is never handed over again, and each channel has at most its ``max_in_flight`` cases here
at once, so a slow channel cannot fill every thread.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import structlog

log = structlog.get_logger("posrefund.worker")

Step = Callable[[str, str], None]  # (merchant_id, case_id): one step for one case, errors handled inside


@dataclass(frozen=True)
class Stopped:
    """What shutdown found: calls that finished within the bound, cases never started (left due for any
    worker), calls still under way when the bound ran out (their lease runs out; the fencing makes a
    later step safe)."""

    finished: int
    released: list[str]
    abandoned: int


class CasePool:
    """Hands due cases to ``threads`` threads, per-channel bounded. No backlog waits here: a case listed
    but not taken stays in the table, where another worker can take it (a case queued here would be listed
    and claimed by both, one of them for nothing)."""

    def __init__(self, threads: int, step: Step, on_free: Callable[[], None] = lambda: None) -> None:
        self.threads = threads
        self._step = step
        self._on_free = on_free
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="posrefund-case")
        self._lock = threading.Lock()
        self._cases: dict[str, tuple[str, Future[None]]] = {}  # case_id → (channel, its future)
        self._per_channel: Counter[str] = Counter()
        self._closed = False

    def room(self) -> int:
        """How many more cases this pool takes now: one per idle thread."""
        with self._lock:
            return 0 if self._closed else max(0, self.threads - len(self._cases))

    def offer(self, merchant_id: str, case_id: str, channel: str, max_in_flight: int) -> bool:
        """Take one case unless it is already here, its channel is at its limit, or every thread is busy."""
        with self._lock:
            if self._closed or case_id in self._cases or len(self._cases) >= self.threads:
                return False
            if max_in_flight > 0 and self._per_channel[channel] >= max_in_flight:
                return False
            self._per_channel[channel] += 1
            future = self._executor.submit(self._run, merchant_id, case_id)
            self._cases[case_id] = (channel, future)
        return True

    def _run(self, merchant_id: str, case_id: str) -> None:
        try:
            self._step(merchant_id, case_id)
        finally:
            with self._lock:
                channel, _future = self._cases.pop(case_id)
                self._per_channel[channel] -= 1
            self._on_free()

    def drain(self) -> None:
        """Wait until every case taken is done (``worker --once``)."""
        with self._lock:
            futures = [future for _channel, future in self._cases.values()]
        wait(futures)

    def stop(self, grace: float) -> Stopped:
        """Take no more cases; drop the ones not started; wait up to ``grace`` seconds for the calls under
        way. A dropped case was never claimed (the claim is the first thing its thread does), so it is still
        due — approved, or processing with its next look already past — and any worker takes it at once."""
        with self._lock:
            self._closed = True
            # cancel() fails for a future already running: exactly the cases whose thread has begun.
            released = [case_id for case_id, (_channel, future) in self._cases.items() if future.cancel()]
            for case_id in released:
                channel, _future = self._cases.pop(case_id)
                self._per_channel[channel] -= 1
            running = [future for _channel, future in self._cases.values()]
        done, not_done = wait(running, timeout=grace)
        self._executor.shutdown(wait=False, cancel_futures=True)
        return Stopped(finished=len(done), released=released, abandoned=len(not_done))
