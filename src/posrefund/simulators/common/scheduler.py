"""One background thread running a simulator's timed jobs (settling refunds, delivering notifications)."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class Job:
    due: float
    seq: int
    run: Callable[[], None] = field(compare=False)


class Scheduler:
    """Runs jobs in due order on one daemon thread; ``stop()`` drops what is still waiting."""

    def __init__(self, name: str) -> None:
        self._heap: list[Job] = []
        self._cv = threading.Condition()
        self._seq = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name=f"{name}-sim-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def after(self, delay: float, run: Callable[[], None]) -> None:
        with self._cv:
            heapq.heappush(self._heap, Job(time.monotonic() + delay, next(self._seq), run))
            self._cv.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._stopped and (not self._heap or self._heap[0].due > time.monotonic()):
                    timeout = self._heap[0].due - time.monotonic() if self._heap else None
                    self._cv.wait(timeout)
                if self._stopped:
                    return
                job = heapq.heappop(self._heap)
            job.run()
