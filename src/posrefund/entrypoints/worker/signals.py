"""Stopping the worker: the first SIGTERM or SIGINT asks it to finish what it started; the second ends the
process at once. Ending mid-call is safe: the case keeps its claim and lease, and whichever worker takes it
next asks the channel before it sends anything again."""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

import structlog

log = structlog.get_logger("posrefund.worker")


def install_signal_handlers(stop: threading.Event, wake: threading.Event | None = None) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("worker.exiting_now", signal=signum)
            sys.stderr.flush()
            os._exit(128 + signum)
        log.info("worker.stopping", signal=signum)
        stop.set()
        if wake is not None:
            wake.set()  # do not sleep out the poll interval

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
