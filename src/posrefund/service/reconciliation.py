"""Reconciliation (对账): import settlement files, run a reconciliation, read and export its discrepancies,
and bring back to ``succeeded`` a refund the channel paid but posrefund lost.

Files arrive already parsed (an iterable of parsed lines from ``adapters.settlement``) and are staged in
batches, so a file of millions of lines never lives in memory. A run is keyed by merchant + channel + date
range + file set + duplicate window: running it again recomputes in SQL and merges by natural key, so when
nothing changed meanwhile nothing is written and the same result is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from posrefund.domain.channel import ChannelAnswer, Outcome
from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.pii import refuse_card_number
from posrefund.domain.reconciliation import (
    DEFAULT_DUPLICATE_WINDOW_SECONDS,
    MAX_DUPLICATE_WINDOW_SECONDS,
    DiscrepancyClass,
    FeeRate,
    Source,
    check_range,
    run_key,
)
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Channel
from posrefund.domain.status import RefundStatus
from posrefund.ports import RunSpec, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.records import record
from posrefund.service.refunds import change_case

S = RefundStatus
BATCH = 5_000
PAGE_MAX = 500


def _source(value: str) -> Source:
    try:
        return Source(value)
    except ValueError:
        raise Invalid("recon.invalid_source", source=value) from None


@dataclass
class ImportReport:
    file_id: str
    fingerprint: str
    duplicate: bool  # the same file (same bytes) was imported before: nothing was staged again
    lines: int = 0
    bad_lines: int = 0
    first_date: date | None = None
    last_date: date | None = None
    bad: list[dict[str, Any]] = field(default_factory=list)


def import_file(
    deps: Deps,
    actor: Actor,
    *,
    source: str,
    filename: str,
    fingerprint: str,
    size: int,
    lines: Iterable[object],
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> ImportReport:
    """Stage a parsed settlement file in one transaction (all or nothing), ``batch`` lines per statement.
    ``progress`` is told how many lines each batch held (the CLI drives a progress bar with it)."""
    actor.require("recon.import")
    src = _source(source)
    refuse_card_number(filename, "filename")
    if "\x00" in filename or "\x00" in fingerprint:
        raise Invalid("request.invalid_character", field="filename")
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        earlier = uow.recon.file_by_fingerprint(merchant_id, fingerprint)
        if earlier is not None:
            return _report(uow, earlier, duplicate=True)
        file_id = deps.ids.new_id("stf")
        uow.recon.add_file(
            {
                "id": file_id,
                "merchant_id": merchant_id,
                "source": src.value,
                "fingerprint": fingerprint,
                "filename": filename[:200],
                "size": size,
                "line_count": 0,
                "bad_count": 0,
                "imported_by": actor.id,
                "imported_at": now,
            }
        )
        good = bad = 0
        first: date | None = None
        last: date | None = None
        buf: list[object] = []

        def flush() -> None:
            nonlocal good, bad, first, last
            g, b, lo, hi = uow.recon.stage(file_id, merchant_id, buf)
            good, bad = good + g, bad + b
            first = lo if first is None or (lo is not None and lo < first) else first
            last = hi if last is None or (hi is not None and hi > last) else last
            if progress:
                progress(len(buf))
            buf.clear()

        for item in lines:
            buf.append(item)
            if len(buf) >= batch:
                flush()
        if buf:
            flush()
        uow.recon.finish_file(file_id, good, bad, first, last)
        uow.recon.refresh_statistics()
        record(
            uow,
            actor,
            merchant_id,
            "settlement.imported",
            now,
            file_id=file_id,
            source=src.value,
            fingerprint=fingerprint,
            lines=good,
            bad_lines=bad,
        )
        stored = uow.recon.get_file(merchant_id, file_id)
        assert stored is not None
        report = _report(uow, stored, duplicate=False)
        uow.commit()
    return report


def _report(uow: UnitOfWork, row: dict[str, Any], duplicate: bool) -> ImportReport:
    return ImportReport(
        file_id=str(row["id"]),
        fingerprint=str(row["fingerprint"]),
        duplicate=duplicate,
        lines=int(row["line_count"]),
        bad_lines=int(row["bad_count"]),
        first_date=row["first_date"],
        last_date=row["last_date"],
        bad=uow.recon.bad_lines(str(row["id"]), limit=20),
    )


def get_file(deps: Deps, actor: Actor, file_id: str, bad_limit: int = 100) -> dict[str, Any]:
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        row = uow.recon.get_file(actor.merchant_id or "", file_id)
        if row is None:
            raise NotFound("recon.file_not_found")
        return {**row, "bad": uow.recon.bad_lines(file_id, limit=max(1, min(bad_limit, 1_000)))}


# ---- fee rates ---------------------------------------------------------------------------------------------
def put_fee_rate(
    deps: Deps,
    actor: Actor,
    channel: str,
    rate_bp: int,
    large_rate_bp: int | None = None,
    large_from_fen: int | None = None,
) -> FeeRate:
    """The merchant's contracted fee for a channel, in basis points; reconciliation checks every sale's fee."""
    actor.require("recon.fee_rates")
    if channel not in Channel.__members__.values() or channel in ("cash", "cheque"):
        raise Invalid("recon.invalid_fee_rate", channel=channel)
    rate = FeeRate(channel, rate_bp, large_rate_bp, large_from_fen)
    now = deps.clock.now()
    with deps.uow() as uow:
        uow.recon.put_fee_rate(actor.merchant_id or "", rate, actor.id, now)
        record(
            uow,
            actor,
            actor.merchant_id,
            "recon.fee_rate_set",
            now,
            channel=channel,
            rate_bp=rate_bp,
            large_rate_bp=large_rate_bp,
            large_from_fen=large_from_fen,
        )
        uow.commit()
    return rate


def fee_rates(deps: Deps, actor: Actor) -> list[FeeRate]:
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        return uow.recon.fee_rates(actor.merchant_id or "")


# ---- runs --------------------------------------------------------------------------------------------------
def reconcile(
    deps: Deps,
    actor: Actor,
    *,
    source: str,
    date_from: date,
    date_to: date,
    file_ids: Iterable[str] | None = None,
    window_seconds: int = DEFAULT_DUPLICATE_WINDOW_SECONDS,
) -> dict[str, Any]:
    """Run (or run again) the reconciliation of one channel over local dates ``date_from``…``date_to``.
    Without ``file_ids`` the file set is every imported file of that channel with lines in the range."""
    actor.require("recon.run")
    src = _source(source)
    check_range(date_from, date_to)
    if isinstance(window_seconds, bool) or not 0 <= window_seconds <= MAX_DUPLICATE_WINDOW_SECONDS:
        raise Invalid("recon.invalid_window", max_seconds=MAX_DUPLICATE_WINDOW_SECONDS)
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        if file_ids is None:
            files = uow.recon.files_for(merchant_id, src.value, date_from, date_to)
        else:
            files = []
            for fid in dict.fromkeys(file_ids):
                row = uow.recon.get_file(merchant_id, fid)
                if row is None:
                    raise NotFound("recon.file_not_found")
                if row["source"] != src.value:
                    raise Invalid("recon.file_wrong_source", file_id=fid, source=row["source"])
                files.append(row)
        if not files:
            raise Invalid("recon.no_files", source=src.value)
        prints = [str(f["fingerprint"]) for f in files]
        key = run_key(merchant_id, f"{src.value}/{window_seconds}", date_from, date_to, prints)
        run = uow.recon.run_by_key(merchant_id, key)
        created = run is None
        if run is None:
            run = {
                "id": deps.ids.new_id("rcn"),
                "merchant_id": merchant_id,
                "source": src.value,
                "date_from": date_from,
                "date_to": date_to,
                "run_key": key,
                "file_ids": sorted(str(f["id"]) for f in files),
                "window_seconds": window_seconds,
                "totals": {},
                "created_by": actor.id,
                "created_at": now,
                "updated_at": now,
            }
            uow.recon.add_run(run)
        spec = RunSpec(
            run_id=str(run["id"]),
            merchant_id=merchant_id,
            source=src.value,
            date_from=date_from,
            date_to=date_to,
            file_ids=tuple(run["file_ids"]),
            window_seconds=window_seconds,
        )
        changes = uow.recon.reconcile(spec, now)
        totals: dict[str, Any] = {
            **uow.recon.line_totals(spec),
            "matched_sales": changes["matched_sales"],
            "matched_refunds": changes["matched_refunds"],
            "discrepancies": {c.value: 0 for c in DiscrepancyClass} | uow.recon.open_counts(spec.run_id),
        }
        totals["open_discrepancies"] = sum(totals["discrepancies"].values())
        changed = created or totals != run["totals"] or any(changes[k] for k in ("inserted", "cleared", "reopened"))
        if changed:
            uow.recon.set_totals(spec.run_id, totals, now)
            record(
                uow,
                actor,
                merchant_id,
                "recon.run",
                now,
                case_id=spec.run_id,
                source=src.value,
                date_from=date_from.isoformat(),
                date_to=date_to.isoformat(),
                files=prints,
                new=changes["inserted"],
                cleared=changes["cleared"],
                reopened=changes["reopened"],
                open=totals["discrepancies"],
            )
            uow.commit()
        else:
            uow.rollback()  # the scratch rows are gone either way; nothing of the run's state changed
        run = {**run, "totals": totals}
    return _run_view(run, created=created, changed=changed)


def _run_view(run: dict[str, Any], *, created: bool = False, changed: bool = False) -> dict[str, Any]:
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
    }


def get_run(deps: Deps, actor: Actor, run_id: str) -> dict[str, Any]:
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        run = uow.recon.get_run(actor.merchant_id or "", run_id)
    if run is None:
        raise NotFound("recon.run_not_found")
    return _run_view(run)


def _class(cls: str | None) -> str | None:
    if cls is None or cls == "":
        return None
    try:
        return DiscrepancyClass(cls).value
    except ValueError:
        raise Invalid("recon.invalid_class", value=cls) from None


def list_discrepancies(
    deps: Deps,
    actor: Actor,
    run_id: str,
    cls: str | None = None,
    limit: int = 50,
    offset: int = 0,
    include_cleared: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    actor.require("recon.read")
    klass = _class(cls)
    if offset < 0:
        raise Invalid("request.bad_page")
    with deps.uow(readonly=True) as uow:
        if uow.recon.get_run(actor.merchant_id or "", run_id) is None:
            raise NotFound("recon.run_not_found")
        return uow.recon.discrepancies(
            actor.merchant_id or "", run_id, klass, max(1, min(limit, PAGE_MAX)), offset, include_cleared
        )


def export_discrepancies(deps: Deps, actor: Actor, run_id: str, cls: str | None = None) -> Iterator[dict[str, Any]]:
    """Every open discrepancy of the run with its line's references, streamed page by page (each page its
    own short read), for the CSV export. Checks role and merchant before the first row is produced."""
    actor.require("recon.read")
    klass = _class(cls)
    merchant_id = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        if uow.recon.get_run(merchant_id, run_id) is None:
            raise NotFound("recon.run_not_found")

    def rows() -> Iterator[dict[str, Any]]:
        after = 0
        while True:
            with deps.uow(readonly=True) as uow:
                page = uow.recon.discrepancy_page(merchant_id, run_id, klass, after, 2_000)
            if not page:
                return
            yield from page
            after = int(page[-1]["id"])

    return rows()


def get_discrepancy(deps: Deps, actor: Actor, discrepancy_id: int) -> dict[str, Any]:
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        d = uow.recon.get_discrepancy(actor.merchant_id or "", discrepancy_id)
        if d is None:
            raise NotFound("recon.discrepancy_not_found")
        line = uow.recon.line(actor.merchant_id or "", int(d["line_id"])) if d["line_id"] else None
    return {**d, "line": line}


# ---- the refund the channel paid but we lost ----------------------------------------------------------------
RECOVERABLE = (S.PROCESSING, S.ABNORMAL, S.FAILED)


def recover_refund(deps: Deps, actor: Actor, discrepancy_id: int, reason: str = "") -> RefundCase:
    """A refund the channel's file shows paid (SUCCESS) that we still hold as processing / abnormal / failed
    becomes ``succeeded`` through the RefundCase aggregate — audited, the reservation settled exactly as the
    worker does — and nothing is ever sent to the channel again."""
    actor.require("recon.correct")
    refuse_card_number(reason, "reason")
    merchant_id = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        d = uow.recon.get_discrepancy(merchant_id, discrepancy_id)
        if d is None:
            raise NotFound("recon.discrepancy_not_found")
        line = uow.recon.line(merchant_id, int(d["line_id"])) if d["line_id"] else None
    if d["class"] != DiscrepancyClass.REFUND_STATUS_MISMATCH.value or d["theirs_status"] != "SUCCESS" or line is None:
        raise Conflict("recon.not_recoverable", current=str(d["class"]))
    if d["resolution"]:
        raise Conflict("recon.already_resolved", resolution=str(d["resolution"]))
    why = reason.strip() or f"settlement file line {line['line_no']}: refund paid by the channel"
    answer = ChannelAnswer(
        Outcome.SUCCEEDED,
        channel_refund_id=str(line["channel_refund_no"] or line["rrn"]),
        code="SETTLED",
        message=why,
        succeeded_at=line["occurred_at"],
    )

    def step(case: RefundCase, uow: UnitOfWork, now: Any) -> None:
        if case.status not in RECOVERABLE:
            raise Conflict("recon.not_recoverable", current=case.status.value)
        before = case.status
        if case.status is S.PROCESSING:
            case.apply_answer(answer, now, "reconciliation")
        if case.status in (S.FAILED, S.ABNORMAL):
            if case.status is S.FAILED:
                case.apply_answer(answer, now, "reconciliation")  # failed → abnormal: the answers contradict
            case.resolve(actor, S.SUCCEEDED, why, now)
            case.succeeded_at = line["occurred_at"]
        if not uow.recon.resolve_discrepancy(discrepancy_id, "recovered"):
            raise Conflict("recon.already_resolved", resolution="recovered")
        record(
            uow,
            actor,
            merchant_id,
            "recon.refund_recovered",
            now,
            case_id=case.id,
            reason=why,
            before=before.value,
            after=case.status.value,
            discrepancy_id=discrepancy_id,
            run_id=d["run_id"],
            line_id=d["line_id"],
        )

    return change_case(deps, actor, str(d["refund_id"]), step)
