"""What every simulator's life has in common: ``with sim:`` starts and stops it, and ``posrefund simulate <psp>``
runs it in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self


class Life(ABC):
    """Started by ``start()`` (or entering ``with``), stopped by ``stop()`` (or leaving it)."""

    @abstractmethod
    def start(self) -> Any:
        """Bind and serve in background threads; returns where it listens."""

    @abstractmethod
    def stop(self) -> None:
        """Stop serving and wait for every thread it started."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_in_foreground(sim: Life, banner: Callable[[], str]) -> int:
    """Start ``sim``, print ``banner()`` (where it listens) and serve until Ctrl-C or SIGTERM."""
    done = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    with sim:
        sys.stdout.write(banner() + "\n")
        sys.stdout.flush()
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
    return 0
