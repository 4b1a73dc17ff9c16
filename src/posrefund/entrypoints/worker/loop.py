"""The background worker: sweeps our own refunds table and moves every due case one step.

Our tables are the queue (ARCHITECTURE.md: "a sweep over our own tables re-finds work lost with a
dead worker"), so the worker keeps no state of its own: kill it at any moment, start it again, and it
carries on — asking the channel before it ever sends a refund number twice.

Each round lists the due cases (an indexed query, a few times a second) and hands them to a thread
pool (``pool.CasePool``), so one slow or faulty channel call no longer holds back every other refund.
Between rounds the calendar overrides and the channels file are re-read when they changed.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field

import structlog

from posrefund.adapters.db.statistics import refresh_statistics
from posrefund.domain.pii import redact_card_numbers
from posrefund.entrypoints.worker.pool import CasePool
from posrefund.entrypoints.worker.refresh import CalendarWatch, ChannelsFileWatch
from posrefund.ports import ConcurrentUpdate
from posrefund.ports.documents import DocumentMailer
from posrefund.service import audit_checkpoints, execution, fund_holds
from posrefund.service.deposits import holding
from posrefund.service.deps import Deps
from posrefund.service.documents import summary_delivery
from posrefund.service.execution import ChannelRules, Router
from posrefund.service.notifications import follow_up, sending
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.provider import clock
from posrefund.service.reports import upkeep
from posrefund.service.risk.schedule import scheduled_scans

log = structlog.get_logger("posrefund.worker")
# How often the worker signs the audit chains' heads: the events of the last minute at most are protected by the
# head row alone. Off the refund path: no refund waits for a checkpoint.
CHECKPOINT_SECONDS = 60.0
# How often the refund reports' changed days are rebuilt (a report read also rebuilds its merchant's first).
REPORTS_SECONDS = 60.0
_shuffle = random.SystemRandom().shuffle
NOTIFY_SECONDS = 1.0  # customers' messages go out within a second or so; no need to ask five times a second
# How often the refund-cause summaries due (last whole week / month) are looked for; each goes out once.
SUMMARY_SECONDS = 300.0
# The planner's statistics follow a growing merchant (adapters/db/statistics.py says why they matter).
STATISTICS_SECONDS = 3600.0
PROVIDER_CLOCK_SECONDS = 60.0  # device returns on their last working day are escalated within a minute
RISK_SECONDS = 60.0  # how often a worker looks for a merchant whose scheduled risk scan is due
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
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
    reports_due: float = 0.0
    calendar_due: float = 0.0
    summary_due: float = 0.0
    provider_clock_due: float = 0.0
    statistics_due: float = field(default_factory=lambda: time.monotonic() + STATISTICS_SECONDS)
    risk_due: float = 0.0


class Housekeeping(threading.Thread):
    """The work beside the refunds, on a thread of its own until ``stop``: customers' messages and follow-ups
    about once a second, and on their own timers the audit checkpoints, the reports' daily aggregates and the
    planner's statistics. Run between the rounds that hand out due refunds, any of them held those back: a
    notification round took more than half of the loop thread's time at full load (measured), a busy day's
    report rebuild takes seconds, and a checkpoint waits for the audit sequencer."""

    def __init__(self, deps: Deps, notify_router: NotifyRouter | None, stop: threading.Event) -> None:
        super().__init__(name="posrefund-housekeeping", daemon=True)
        # (not ``_stop``: that name is threading.Thread's own, which join() calls)
        self._deps, self._router, self._stopping = deps, notify_router, stop
        self.steps = 0

    def run(self) -> None:
        timers = _Timers()
        while True:
            if self._router is not None:
                self.steps += notify_round(self._deps, self._router)
            _periodic(self._deps, timers)
            if time.monotonic() >= timers.summary_due:
                summary_round(self._deps, self._router)
                timers.summary_due = time.monotonic() + SUMMARY_SECONDS
            if self._stopping.wait(NOTIFY_SECONDS):
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
    housekeeping = None if once else Housekeeping(deps, notify_router, stop)
    if housekeeping is not None:
        housekeeping.start()
    try:
        while not stop.is_set():
            current = _refresh(deps, current, calendar, opts, timers)
            if once:  # the housekeeping in line: before the sweep, and the customers told of what it did
                _periodic(deps, timers)
                steps += _sweep_once(deps, current, pool, opts.batch) + hold_round(deps, current)
                steps += notify_round(deps, notify_router) if notify_router is not None else 0
                break
            steps += dispatch(deps, current, pool, opts.batch) + hold_round(deps, current)
            stop.wait(min(poll, MIN_ROUND_GAP))
            opts.wake.wait(max(0.0, poll - MIN_ROUND_GAP))
            opts.wake.clear()
    finally:
        opts.left_running = _stop(pool, opts.shutdown_seconds)
        if housekeeping is not None:
            housekeeping.join(opts.shutdown_seconds)
            steps += housekeeping.steps
    return steps


def _refresh(deps: Deps, router: Router, calendar: CalendarWatch, opts: WorkerOptions, timers: _Timers) -> Router:
    """Between rounds: chain the audit events written since, pick up a changed channels file and calendar, run
    the device returns' decision clock. A failure here is logged; the round goes on with what it had."""
    chain_round(deps)
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
    if time.monotonic() >= timers.provider_clock_due:
        provider_clock_round(deps, router)
        timers.provider_clock_due = time.monotonic() + PROVIDER_CLOCK_SECONDS
    return router


def _periodic(deps: Deps, timers: _Timers) -> None:
    """What is due of the slower housekeeping: sign the audit heads (about once a minute), rebuild the reports'
    changed days and flag the deposits held beyond their terms (about once a minute), refresh the planner's
    statistics (about once an hour)."""
    if time.monotonic() >= timers.checkpoint_due:
        checkpoint_round(deps)
        timers.checkpoint_due = time.monotonic() + CHECKPOINT_SECONDS
    if time.monotonic() >= timers.reports_due:
        report_round(deps)
        deposit_round(deps)
        hold_expiry_round(deps)
        timers.reports_due = time.monotonic() + REPORTS_SECONDS
    if time.monotonic() >= timers.statistics_due:
        _refresh_statistics(deps)
        timers.statistics_due = time.monotonic() + STATISTICS_SECONDS
    if time.monotonic() >= timers.risk_due:  # each merchant's turn is claimed in the database: once across workers
        scheduled_scans(deps, WORKER_NAME)
        timers.risk_due = time.monotonic() + RISK_SECONDS


def _refresh_statistics(deps: Deps) -> None:
    """ANALYZE about once an hour, so the planner keeps choosing the indexes as the tables grow."""
    engine = getattr(deps.uow, "engine", None)
    if engine is None:
        return
    try:
        refresh_statistics(engine)
    except Exception:
        log.exception("worker.statistics_failed")  # stale statistics only slow reads down; try next hour


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


def chain_round(deps: Deps) -> None:
    """Chain the audit events a commit left unchained (its own run found the sequencer busy, or the process
    died between commit and chaining); skipped at once while another process chains."""
    try:
        deps.uow.chain_audit()
    except Exception:
        log.exception("audit.chain_failed")  # committed events wait safely for the next round


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


def provider_clock_round(deps: Deps, router: Router) -> None:
    """Escalate device returns on the last working day of their decision, mark the breached (the worker's
    calendar: holidays, make-up days, the admins' overrides). A failure is logged; the next round retries."""
    try:
        clock.escalate_due(deps, router.is_workday)
    except Exception:
        log.exception("provider.clock_failed")


def report_round(deps: Deps) -> None:
    """Rebuild the refund reports' changed days; a failure keeps its marks and the next round retries."""
    try:
        upkeep.catch_up_all(deps)
    except Exception:
        log.exception("reports.catch_up_failed")


def hold_round(deps: Deps, router: Router) -> int:
    """Every due fund-hold operation one step (claimed with a lease, asked about after a crash, never sent twice);
    a failure is logged and the operation is due again once its lease runs out."""
    if not router.holds:
        return 0
    worker = fund_holds.HoldWorker(router.holds, router.lease_margin, worker=router.worker)
    try:
        return fund_holds.sweep_holds(
            deps, worker, failed=lambda op, exc: log.error("holds.step_failed %s: %s", op, exc)
        )
    except Exception:
        log.exception("holds.sweep_failed")
        return 0


def _hold_failed(operation_id: str, exc: Exception) -> None:
    log.error("holds.step_failed %s: %s", operation_id, exc)


def hold_expiry_round(deps: Deps) -> None:
    """Holds past their validity are expired (the issuer released them); retried on the next round."""
    try:
        fund_holds.expire_holds(deps)
    except Exception:
        log.exception("holds.expiry_failed")


def deposit_round(deps: Deps) -> None:
    """Flag, once each, the deposits held beyond their terms; a failure is retried on the next round."""
    try:
        holding.flag_overdue(deps)
    except Exception:
        log.exception("deposits.flag_overdue_failed")


def summary_round(deps: Deps, notify_router: NotifyRouter | None) -> int:
    """Email the refund-cause summaries due to their subscribers, through the notify file's SMTP server; each
    (subscription, period) is claimed in the database first, so two workers never send one twice."""
    mailer = notify_router.gateways.get("email") if notify_router is not None else None
    if not isinstance(mailer, DocumentMailer):
        return 0
    try:
        return summary_delivery.deliver_due(deps, mailer)
    except Exception:
        log.exception("summary.round_failed")  # the claims stay; the next round carries on
        return 0


def notify_round(deps: Deps, notify_router: NotifyRouter) -> int:
    """Open due follow-ups, fan out new case events, send what is due. A failure is logged and retried on
    the next round: the notify tables are the queue."""
    try:
        return follow_up.sweep(deps) + sending.sweep(deps, notify_router)
    except Exception:
        log.exception("worker.notify_failed")
        return 0
