"""The background worker: sweeps our own refunds table and moves every due case one step.

Our tables are the queue (ARCHITECTURE.md: "a sweep over our own tables re-finds work lost with a
dead worker"), so the worker keeps no state of its own: kill it at any moment, start it again, and it
carries on — asking the channel before it ever sends a refund number twice.

Each round lists the due cases (an indexed query, a few times a second) and hands them to a thread
pool (``pool.CasePool``), so one slow or faulty channel call no longer holds back every other refund.
Between rounds the calendar overrides and the channels file are re-read when they changed.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import structlog

from posrefund.domain.pii import redact_card_numbers
from posrefund.entrypoints.worker.pool import CasePool
from posrefund.entrypoints.worker.refresh import CalendarWatch, ChannelsFileWatch
from posrefund.ports import ConcurrentUpdate
from posrefund.service import audit_checkpoints, execution
from posrefund.service.deps import Deps
from posrefund.service.execution import ChannelRules, Router
from posrefund.service.notifications import follow_up, sending
from posrefund.service.notifications.sending import NotifyRouter

log = structlog.get_logger("posrefund.worker")
# How often the worker signs the audit chains' heads: the events of the last minute at most are protected by the
# head row alone. Off the refund path: no refund waits for a checkpoint.
CHECKPOINT_SECONDS = 60.0
_shuffle = random.SystemRandom().shuffle
NOTIFY_SECONDS = 1.0  # customers' messages go out within a second or so; no need to ask five times a second
CALENDAR_SECONDS = 1.0  # an admin's calendar change reaches the worker within a second
# A thread coming free wakes the loop, but rounds stay this far apart: under full load each round would
# otherwise list the due cases to take one.
MIN_ROUND_GAP = 0.05


@dataclass
class WorkerOptions:
    """How one worker process runs (settings ``worker``; CLI flags override them)."""

    threads: int = 16
    poll_seconds: float = 0.2
    batch: int = 100
    shutdown_seconds: float = 20.0
    channels: ChannelsFileWatch | None = None  # re-reads the channels file when it changed
    wake: threading.Event = field(default_factory=threading.Event)  # set: look for due cases now
    left_running: int = 0  # after the run: calls still under way when shutdown_seconds ran out


@dataclass
class _Timers:
    checkpoint_due: float = 0.0
    calendar_due: float = 0.0


class Notifier(threading.Thread):
    """Customers' messages and follow-ups, on a thread of their own, about once a second until ``stop``. A round
    (fanning out new case events, reading contacts, rendering texts) takes long enough under load that, run
    between the rounds that hand out due refunds, it held them back: measured, more than half of the loop
    thread's time at full load went to it."""

    def __init__(self, deps: Deps, notify_router: NotifyRouter, stop: threading.Event) -> None:
        super().__init__(name="posrefund-notify", daemon=True)
        self._deps, self._router, self._stop = deps, notify_router, stop
        self.steps = 0

    def run(self) -> None:
        while True:
            self.steps += notify_round(self._deps, self._router)
            if self._stop.wait(NOTIFY_SECONDS):
                return


def run(
    deps: Deps,
    router: Router,
    stop: threading.Event,
    once: bool = False,
    notify_router: NotifyRouter | None = None,
    options: WorkerOptions | None = None,
) -> int:
    """Sweep until ``stop`` is set (or once, waiting for every step). Returns how many steps were taken:
    cases handed to the pool plus notification steps."""
    opts = options or WorkerOptions()
    poll = opts.poll_seconds
    calendar = CalendarWatch(deps)
    current = router  # replaced between rounds when the channels file changed; a step uses the one of its start
    pool = CasePool(opts.threads, lambda m, c: _step(deps, current, m, c), on_free=opts.wake.set)
    steps = 0
    timers = _Timers()
    notifier = Notifier(deps, notify_router, stop) if notify_router is not None and not once else None
    if notifier is not None:
        notifier.start()
    try:
        while not stop.is_set():
            current = _refresh(deps, current, calendar, opts, timers)
            steps += _sweep_once(deps, current, pool, opts.batch) if once else dispatch(deps, current, pool, opts.batch)
            if once:
                if notify_router is not None:
                    steps += notify_round(deps, notify_router)  # tell customers, open follow-ups
                break
            stop.wait(min(poll, MIN_ROUND_GAP))
            opts.wake.wait(max(0.0, poll - MIN_ROUND_GAP))
            opts.wake.clear()
    finally:
        opts.left_running = _stop(pool, opts.shutdown_seconds)
        if notifier is not None:
            notifier.join(opts.shutdown_seconds)
            steps += notifier.steps
    return steps


def _refresh(deps: Deps, router: Router, calendar: CalendarWatch, opts: WorkerOptions, timers: _Timers) -> Router:
    """Between rounds: sign the audit heads (about once a minute), pick up a changed channels file and
    calendar. A failure here is logged; the round goes on with what it had."""
    if time.monotonic() >= timers.checkpoint_due:
        checkpoint_round(deps)
        timers.checkpoint_due = time.monotonic() + CHECKPOINT_SECONDS
    if opts.channels is not None:
        fresh = opts.channels.check(router)
        if fresh is not None:
            router = fresh
            calendar.forget()
            timers.calendar_due = 0.0
    if time.monotonic() >= timers.calendar_due:
        try:
            calendar.check(router)
        except Exception:
            log.exception("worker.calendar_check_failed")  # the next round tries again
        timers.calendar_due = time.monotonic() + CALENDAR_SECONDS
    return router


def _sweep_once(deps: Deps, router: Router, pool: CasePool, batch: int) -> int:
    """``worker --once``: every case due now one step, each at most once, then return."""
    seen: set[str] = set()
    steps = 0
    while taken := dispatch(deps, router, pool, batch, seen):
        steps += taken
        pool.drain()
    return steps


def dispatch(deps: Deps, router: Router, pool: CasePool, batch: int, seen: set[str] | None = None) -> int:
    """List the due cases and hand each one the pool takes; returns how many it took. A case already
    here, or whose channel is at its limit, stays due for a later round. ``seen``: cases not to hand over
    again, and to which the ones taken are added."""
    room = pool.room()
    if room == 0:
        return 0
    try:
        with deps.uow(readonly=True) as uow:
            due = uow.refunds.due_on_channels(deps.clock.now(), batch)
    except Exception:
        log.exception("worker.sweep_failed")  # the next round retries; nothing is lost
        return 0
    if seen is not None:
        due = [row for row in due if row[1] not in seen]
    # Several workers list the same due cases: the oldest ones, shuffled, so they mostly claim different
    # ones instead of all racing for the same (a lost claim still costs a write transaction on SQLite).
    oldest = due[: 2 * room]
    _shuffle(oldest)
    taken = 0
    for merchant_id, case_id, channel in oldest + due[2 * room :]:
        limit = router.rules.get(channel, ChannelRules()).max_in_flight
        if pool.offer(merchant_id, case_id, channel, limit):
            taken += 1
            if seen is not None:
                seen.add(case_id)
    return taken


def _step(deps: Deps, router: Router, merchant_id: str, case_id: str) -> None:
    try:
        execution.advance(deps, router, merchant_id, case_id)
    except ConcurrentUpdate:
        pass  # another worker claimed it first: it is theirs for this round
    except Exception as exc:
        case_failed(case_id, exc)


def _stop(pool: CasePool, grace: float) -> int:
    """Stop the pool; returns how many calls were still under way when ``grace`` ran out."""
    stopped = pool.stop(grace)
    log.info(
        "worker.stopped",
        finished=stopped.finished,
        released=len(stopped.released),
        abandoned=stopped.abandoned,
    )
    return stopped.abandoned


def case_failed(case_id: str, exc: Exception) -> None:
    """One case's step raised: logged with its id and the error, card data masked, and the sweep goes on."""
    log.exception("worker.case_failed", case_id=case_id, error=type(exc).__name__, detail=redact_card_numbers(str(exc)))


def start_in_thread(
    deps: Deps,
    router: Router,
    notify_router: NotifyRouter | None = None,
    options: WorkerOptions | None = None,
) -> tuple[threading.Thread, threading.Event]:
    """For ``posrefund serve --with-simulators``: the same worker loop beside the API in one process."""
    stop = threading.Event()
    opts = options or WorkerOptions()
    thread = threading.Thread(
        target=run,
        args=(deps, router, stop, False, notify_router, opts),
        name="posrefund-worker",
        daemon=True,
    )
    thread.start()
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


def notify_round(deps: Deps, notify_router: NotifyRouter) -> int:
    """Open due follow-ups, fan out new case events, send what is due. A failure is logged and retried on
    the next round: the notify tables are the queue."""
    try:
        return follow_up.sweep(deps) + sending.sweep(deps, notify_router)
    except Exception:
        log.exception("worker.notify_failed")
        return 0
