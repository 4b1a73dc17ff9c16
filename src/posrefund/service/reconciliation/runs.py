"""A reconciliation run (对账): keyed by merchant + channel + date range + file set + duplicate window, so
running it again recomputes in SQL and merges by natural key; when nothing changed, nothing is written."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.reconciliation import (
    DEFAULT_DUPLICATE_WINDOW_SECONDS,
    MAX_DUPLICATE_WINDOW_SECONDS,
    DiscrepancyClass,
    check_range,
    run_key,
)
from posrefund.domain.refund import RefundStatus
from posrefund.domain.roles import Actor
from posrefund.ports import ReconRunRow, RunFindings, RunSpec, RunTotals, SettlementFileRow, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.reconciliation.imports import source_of
from posrefund.service.reconciliation.unknowns import close_unknown_refunds, files_are_ours, run_is_complete, weekdays
from posrefund.service.records import record

S = RefundStatus
BATCH = 5_000
PAGE_MAX = 500


def reconcile(
    deps: Deps,
    actor: Actor,
    *,
    source: str,
    date_from: date,
    date_to: date,
    file_ids: Iterable[str] | None = None,
    window_seconds: int = DEFAULT_DUPLICATE_WINDOW_SECONDS,
    is_workday: Callable[[date], bool] = weekdays,
) -> dict[str, Any]:
    """Run (or run again) the reconciliation of one channel over local dates ``date_from``…``date_to``.
    Without ``file_ids`` the file set is every imported file of that channel with lines in the range.
    A complete card run also settles the unknown card refunds its files (and earlier runs') can tell about."""
    actor.require("recon.run")
    src = source_of(source)
    check_range(date_from, date_to)
    if isinstance(window_seconds, bool) or not 0 <= window_seconds <= MAX_DUPLICATE_WINDOW_SECONDS:
        raise Invalid("recon.invalid_window", max_seconds=MAX_DUPLICATE_WINDOW_SECONDS)
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow(readonly=True) as uow:
        files = _files(uow, merchant_id, src.value, date_from, date_to, file_ids)
    if not files:
        raise Invalid("recon.no_files", source=src.value)
    prints = [str(f["fingerprint"]) for f in files]
    key = run_key(merchant_id, f"{src.value}/{window_seconds}", date_from, date_to, prints)
    what = (src.value, date_from, date_to, key, window_seconds)
    run, created, closed = _open_run(deps, actor, what, files, is_workday)
    spec = RunSpec(
        run_id=str(run["id"]),
        merchant_id=merchant_id,
        source=src.value,
        date_from=date_from,
        date_to=date_to,
        file_ids=tuple(run["file_ids"]),
        window_seconds=window_seconds,
    )
    with deps.uow(readonly=True) as uow:  # the engine reads a snapshot; refunds go on being written meanwhile
        found = uow.recon_runs.find(spec)
    try:
        with deps.uow() as uow:  # one short write: the findings merged, the totals, the audit event
            changes = uow.recon_runs.merge(spec, found, now)
            totals = _totals(uow, spec, found, changes, closed)
            changed = created or totals != run["totals"] or any(changes[k] for k in ("inserted", "cleared", "reopened"))
            if changed:
                uow.recon_runs.set_totals(spec.run_id, totals, now)
                _record_run(uow, actor, spec, now, prints, changes, totals)
                uow.commit()
            else:
                uow.rollback()  # the scratch rows are gone either way; nothing of the run's state changed
    finally:
        found.close()
    run = {**run, "totals": totals}
    return _run_view(run, created=created, changed=changed)


def _open_run(
    deps: Deps,
    actor: Actor,
    what: tuple[str, date, date, str, int],
    files: list[SettlementFileRow],
    is_workday: Callable[[date], bool],
) -> tuple[ReconRunRow, bool, tuple[bool, int, int]]:
    """The run's row (made the first time its key is seen) and the unknown card refunds its files settle, in one
    short transaction before the engine reads the ledger (a refund settled here is matched as settled); a rerun
    that settles nothing writes nothing."""
    source, date_from, date_to, key, window_seconds = what
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        run = uow.recon_runs.run_by_key(merchant_id, key)
        created = run is None
        if run is None:
            run = _new_run(deps, actor, source, (date_from, date_to), key, files, window_seconds, now)
            uow.recon_runs.add_run(run)
        spec = RunSpec(str(run["id"]), merchant_id, source, date_from, date_to, tuple(run["file_ids"]), window_seconds)
        closed = _closed(uow, actor, spec, deps, is_workday, now, files, run["totals"])
        before = run["totals"].get("unknown_succeeded", 0) + run["totals"].get("unknown_failed", 0)
        if created or closed[1] + closed[2] > before:
            uow.commit()
        else:
            uow.rollback()
    return run, created, closed


def _closed(
    uow: UnitOfWork,
    actor: Actor,
    spec: RunSpec,
    deps: Deps,
    is_workday: Callable[[date], bool],
    now: datetime,
    files: list[SettlementFileRow],
    before: RunTotals,
) -> tuple[bool, int, int]:
    """Settle unknown card refunds when the run read every line of its files; the run's counts of what it
    closed add up over its reruns (a rerun finds them closed already)."""
    complete = run_is_complete(files)
    closed = {"unknown_succeeded": 0, "unknown_failed": 0}
    if complete:
        ours = files_are_ours(uow, spec)
        closed = close_unknown_refunds(uow, actor, spec, deps.local_date, is_workday, now, proves_absence=ours)
    return (
        complete,
        before.get("unknown_succeeded", 0) + closed["unknown_succeeded"],
        before.get("unknown_failed", 0) + closed["unknown_failed"],
    )


def _record_run(
    uow: UnitOfWork,
    actor: Actor,
    spec: RunSpec,
    now: datetime,
    prints: list[str],
    changes: dict[str, int],
    totals: RunTotals,
) -> None:
    """The audit event of a run that changed something: the files it read and what it found or cleared."""
    record(
        uow,
        actor,
        spec.merchant_id,
        "recon.run",
        now,
        case_id=spec.run_id,
        source=spec.source,
        date_from=spec.date_from.isoformat(),
        date_to=spec.date_to.isoformat(),
        files=prints,
        new=changes["inserted"],
        cleared=changes["cleared"],
        reopened=changes["reopened"],
        open=totals["discrepancies"],
        unknown_succeeded=totals.get("unknown_succeeded", 0),
        unknown_failed=totals.get("unknown_failed", 0),
    )


def _new_run(
    deps: Deps,
    actor: Actor,
    source: str,
    dates: tuple[date, date],
    key: str,
    files: list[SettlementFileRow],
    window_seconds: int,
    now: datetime,
) -> ReconRunRow:
    """The row of a run seen for the first time; its totals are filled by the run itself."""
    return {
        "id": deps.ids.new_id("rcn"),
        "merchant_id": actor.merchant_id or "",
        "source": source,
        "date_from": dates[0],
        "date_to": dates[1],
        "run_key": key,
        "file_ids": sorted(str(f["id"]) for f in files),
        "window_seconds": window_seconds,
        "totals": {},
        "created_by": actor.id,
        "created_at": now,
        "updated_at": now,
    }


def _files(
    uow: UnitOfWork,
    merchant_id: str,
    source: str,
    date_from: date,
    date_to: date,
    file_ids: Iterable[str] | None,
) -> list[SettlementFileRow]:
    """The run's file set: the files named (each the merchant's own, of this channel), or without names every
    imported file of the channel with lines in the range."""
    if file_ids is None:
        return list(uow.settlement_files.files_for(merchant_id, source, date_from, date_to))
    files = []
    for fid in dict.fromkeys(file_ids):
        row = uow.settlement_files.get_file(merchant_id, fid)
        if row is None or row["withdrawn_at"] is not None:  # a withdrawn file's lines count nowhere
            raise NotFound("recon.file_not_found")
        if row["finished_at"] is None:  # nor do the lines of a file still being imported
            raise Conflict("recon.file_importing", file_id=fid)
        if row["source"] != source:
            raise Invalid("recon.file_wrong_source", file_id=fid, source=row["source"])
        files.append(row)
    return files


def _totals(
    uow: UnitOfWork, spec: RunSpec, found: RunFindings, changes: dict[str, int], closed: tuple[bool, int, int]
) -> RunTotals:
    """The run's figures as finance reads them: line totals, what matched, open discrepancies per class, and
    whether it read every line and the unknown refunds it settled."""
    discrepancies = {c.value: 0 for c in DiscrepancyClass} | uow.discrepancies.open_counts(spec.run_id)
    return {
        **found.line_totals,
        "matched_sales": changes["matched_sales"],
        "matched_refunds": changes["matched_refunds"],
        "discrepancies": discrepancies,
        "open_discrepancies": sum(discrepancies.values()),
        "complete": closed[0],
        "unknown_succeeded": closed[1],
        "unknown_failed": closed[2],
    }


def _run_view(run: ReconRunRow, *, created: bool = False, changed: bool = False) -> dict[str, Any]:
    return {
        "id": run["id"],
        "source": run["source"],
        "date_from": run["date_from"],
        "date_to": run["date_to"],
        "file_ids": run["file_ids"],
        "window_seconds": run["window_seconds"],
        "totals": run["totals"],
        "created_at": run["created_at"],
        "created": created,
        "changed": changed,
        "stale_at": run.get("stale_at"),  # a file it read was withdrawn since
        "stale_reason": run.get("stale_reason", ""),
    }


def known_run(uow: UnitOfWork, merchant_id: str, run_id: str) -> ReconRunRow:
    """The merchant's run; another merchant's, like one that does not exist, is 404."""
    run = uow.recon_runs.get_run(merchant_id, run_id)
    if run is None:
        raise NotFound("recon.run_not_found")
    return run


def get_run(deps: Deps, actor: Actor, run_id: str) -> dict[str, Any]:
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        run = known_run(uow, actor.merchant_id or "", run_id)
    return _run_view(run)
