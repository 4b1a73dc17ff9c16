"""Reading the next item of an import while the caller writes this one: an import's batches are parsed by polars
or Arrow and written by the database driver or server, which all let go of the interpreter while they work, so
the two overlap instead of taking turns (the sales import, a settlement file's staging)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


@contextmanager
def read_ahead(items: Iterable[T]) -> Iterator[Iterator[T]]:
    """``items`` in order, the next one read on a thread of its own while the caller works on this one; at most
    one item waits read. An error raised by the reader is raised to the caller at the item it stopped at. However
    the ``with`` block ends, the reader is stopped and joined before it does: nothing reads a file its caller is
    about to close."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(more: bool, item: Any) -> bool:
        """Put one item in the box; False once the caller has stopped taking them."""
        while not stop.is_set():
            try:
                box.put((more, item), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fill() -> None:
        try:
            for item in items:
                if not hand(True, item):
                    return
            hand(False, None)
        except BaseException as exc:
            hand(False, exc)

    def taken() -> Iterator[T]:
        while True:
            more, item = box.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item

    reader = threading.Thread(target=fill, name="import-read-ahead", daemon=True)
    reader.start()
    try:
        yield taken()
    finally:
        stop.set()
        reader.join()
