"""The refund worker: a loop over our own refunds table (``loop``), a thread pool for the channel calls
(``pool``), re-reading of changed configuration (``refresh``) and graceful stopping (``signals``)."""

from __future__ import annotations

from posrefund.entrypoints.worker.loop import (
    WorkerOptions,
    case_failed,
    checkpoint_round,
    dispatch,
    notify_round,
    run,
    start_in_thread,
)
from posrefund.entrypoints.worker.refresh import CalendarWatch, ChannelsFileWatch, rules_from, with_file_rules
from posrefund.entrypoints.worker.signals import install_signal_handlers

__all__ = [
    "CalendarWatch",
    "ChannelsFileWatch",
    "WorkerOptions",
    "case_failed",
    "checkpoint_round",
    "dispatch",
    "install_signal_handlers",
    "notify_round",
    "rules_from",
    "run",
    "start_in_thread",
    "with_file_rules",
]
