"""The background worker: sweeps our own refunds table and moves every due case one step.

Our tables are the queue (ARCHITECTURE.md: "a sweep over our own tables re-finds work lost with a
dead worker"), so the worker keeps no state of its own: kill it at any moment, start it again, and it
carries on — asking the channel before it ever sends a refund number twice.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import structlog

from posrefund.domain.pii import redact_card_numbers
from posrefund.service import audit_checkpoints, execution
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications import follow_up, sending
from posrefund.service.notifications.sending import NotifyRouter

log = structlog.get_logger("posrefund.worker")
# How often the worker signs the audit chains' heads: the events of the last minute at most are protected by the
# head row alone. Off the refund path: no refund waits for a checkpoint.
CHECKPOINT_SECONDS = 60.0


def run(
    deps: Deps,
    router: Router,
    stop: threading.Event,
    idle: float = 1.0,
    once: bool = False,
    notify_router: NotifyRouter | None = None,
) -> int:
    """Sweep until ``stop`` is set (or once). Returns how many case steps were taken."""
    steps = 0
    checkpoint_due = 0.0
    while not stop.is_set():
        if time.monotonic() >= checkpoint_due:  # sign the audit heads that moved, about once a minute
            checkpoint_round(deps)
            checkpoint_due = time.monotonic() + CHECKPOINT_SECONDS
        try:
            due = execution.sweep(deps, router, failed=case_failed)
        except Exception:
            log.exception("worker.sweep_failed")  # the next sweep retries; nothing is lost
            due = 0
        if notify_router is not None:  # tell customers, open follow-ups
            due += notify_round(deps, notify_router)
        steps += due
        if once:
            break
        if due == 0:
            stop.wait(idle)
    return steps


def case_failed(case_id: str, exc: Exception) -> None:
    """One case's step raised: logged with its id and the error, card data masked, and the sweep goes on."""
    log.exception("worker.case_failed", case_id=case_id, error=type(exc).__name__, detail=redact_card_numbers(str(exc)))


def install_signal_handlers(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("worker.stopping", signal=signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def start_in_thread(
    deps: Deps, router: Router, idle: float = 0.5, notify_router: NotifyRouter | None = None
) -> tuple[threading.Thread, threading.Event]:
    """For ``posrefund serve --demo``: the worker beside the API in one process."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run, args=(deps, router, stop, idle, False, notify_router), name="posrefund-worker", daemon=True
    )
    thread.start()
    time.sleep(0)
    return thread, stop


def checkpoint_round(deps: Deps) -> None:
    """Sign every audit chain whose head moved; a chain that no longer links to its last checkpoint is left
    unsigned and logged (``audit verify`` names where). Without POSREFUND_AUDIT_KEY this says so and signs none."""
    from posrefund.adapters.db.repositories.audit import audit_fields

    if not deps.audit_keys:
        log.warning("audit.no_checkpoint_key")
        return
    try:
        taken = audit_checkpoints.take(deps, audit_fields)
    except Exception:
        log.exception("audit.checkpoint_failed")  # the next round retries
        return
    for chain in taken.refused:
        log.error("audit.checkpoint_refused", chain=chain)


# --- notifications ---


def notify_round(deps: Deps, notify_router: NotifyRouter) -> int:
    """Open due follow-ups, fan out new case events, send what is due. A failure is logged and retried on
    the next round: the notify tables are the queue."""
    try:
        return follow_up.sweep(deps) + sending.sweep(deps, notify_router)
    except Exception:
        log.exception("worker.notify_failed")
        return 0
