"""Card refunds of unknown outcome (the acquirer cannot be asked about a 退货 whose answer was lost), settled by
the acquirer's settlement file: its line → ``succeeded``; no line in the complete files of the refund's business
day and of the next one → ``failed`` (the reservation goes back to the sale). Only a complete run settles
anything: a file with unreadable lines may have lost exactly that line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from posrefund.domain.calendar import add_business_days
from posrefund.domain.reconciliation import SOURCE_CHANNELS, Source
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.domain.roles import Actor
from posrefund.ports import RefundLineQuery, RunSpec, SettlementFileRow, SettlementLineRow, UnitOfWork
from posrefund.service.records import flush_case_events
from posrefund.service.refunds import settle_reservation

S = RefundStatus


def weekdays(day: date) -> bool:
    """The calendar when the caller has none: Monday to Friday."""
    return day.weekday() < 5


def run_is_complete(files: list[SettlementFileRow]) -> bool:
    return bool(files) and all(int(f["bad_count"]) == 0 for f in files)


def files_are_ours(uow: UnitOfWork, spec: RunSpec) -> bool:
    """Whether the run's files may prove anything about this merchant's refunds: their lines carry one acquirer
    merchant number, and at least one of their sale lines is one of our sales. A file of another merchant (or
    several merchants' files mixed) holds none of our lines, which must never read as "not executed"."""
    numbers, ours = uow.settlement_files.acquirer_merchant_nos(spec.merchant_id, spec.file_ids)
    return len(numbers) == 1 and ours > 0


def business_days(day: date, is_workday: Callable[[date], bool]) -> tuple[date, date]:
    """The business day of a refund sent on ``day`` (a holiday's refund belongs to the next one) and the next."""
    first = day if is_workday(day) else add_business_days(day, 1, is_workday)
    return first, add_business_days(first, 1, is_workday)


def close_unknown_refunds(
    uow: UnitOfWork,
    actor: Actor,
    spec: RunSpec,
    local_date: Callable[[datetime], date],
    is_workday: Callable[[date], bool],
    now: datetime,
    *,
    proves_absence: bool = True,
) -> dict[str, int]:
    """Settle the merchant's unknown card refunds with a complete card run: counts of what it closed. A line
    found is proof enough; a line missing proves "not executed" only when ``proves_absence`` (the files are
    this merchant's: see ``files_are_ours``)."""
    closed = {"unknown_succeeded": 0, "unknown_failed": 0}
    if spec.source != Source.CARD.value:
        return closed
    taken: set[int] = set()
    for case in uow.refunds.unknown_cases(spec.merchant_id, SOURCE_CHANNELS[Source.CARD]):
        sent = local_date(case.sent_at or case.updated_at)
        first, second = business_days(sent, is_workday)
        query = _query(uow, case, spec, sent, frozenset(taken))
        if query is None:
            continue
        line = uow.settlement_files.refund_line(query)
        if line is not None:
            taken.add(int(line["id"]))
            _settle(uow, actor, case, S.SUCCEEDED, _why_paid(uow, line), now, line, spec.run_id, query.sale_rrn)
            closed["unknown_succeeded"] += 1
        elif proves_absence and _absent_on(uow, spec, replace(query, date_from=sent), (first, second)):
            why = f"no refund line in the acquirer's complete files of {first.isoformat()} and {second.isoformat()}"
            _settle(uow, actor, case, S.FAILED, why, now, None, spec.run_id, query.sale_rrn)
            closed["unknown_failed"] += 1
    return closed


def _query(
    uow: UnitOfWork, case: RefundCase, spec: RunSpec, sent: date, skip: frozenset[int]
) -> RefundLineQuery | None:
    """The refund's line among the run's lines from the day it was sent on; None when it cannot be told."""
    sale = uow.sales.get_sale(case.merchant_id, case.sale_id)
    terminal = uow.merchants.get_terminal(case.merchant_id, case.terminal_id)
    if sale is None or terminal is None or spec.date_to < sent:
        return None
    return RefundLineQuery(
        merchant_id=spec.merchant_id,
        refund_id=case.id,
        channel_refund_id=case.channel_refund_id,
        file_ids=spec.file_ids,
        date_from=max(spec.date_from, sent),
        date_to=spec.date_to,
        terminal_no=str(terminal["terminal_no"]),
        amount_fen=case.amount_fen,
        refund_no=case.refund_no,
        sale_rrn=sale.rrn,
        sale_voucher_no=sale.voucher_no,
        skip=skip,
    )


def _absent_on(uow: UnitOfWork, spec: RunSpec, query: RefundLineQuery, days: tuple[date, date]) -> bool:
    """Both business days reconciled by complete runs (this one or earlier), and no imported file of the
    merchant has the line anywhere from the day it was sent to the second business day."""
    covered = {d for d in days if spec.date_from <= d <= spec.date_to}
    covered |= uow.recon_runs.complete_days(spec.merchant_id, spec.source, list(days))
    if covered != set(days):
        return False
    anywhere = replace(query, file_ids=None, date_to=max(days[1], query.date_to), skip=frozenset(), free_only=False)
    return uow.settlement_files.refund_line(anywhere) is None


def _why_paid(uow: UnitOfWork, line: SettlementLineRow) -> str:
    file = uow.settlement_files.get_file(str(line["merchant_id"]), str(line["file_id"]))
    name = str(file["filename"]) if file else str(line["file_id"])
    return f"acquirer settlement file {name} line {line['line_no']}: refund settled"


def _settle(
    uow: UnitOfWork,
    actor: Actor,
    case: RefundCase,
    target: RefundStatus,
    why: str,
    now: datetime,
    line: SettlementLineRow | None,
    run_id: str,
    sale_rrn: str,
) -> None:
    """One unknown case settled by the file, in the run's transaction: the case, the reservation, the events."""
    before = case.status
    case.settle_by_evidence(target, actor, "reconciliation", why, now)
    evidence = {"run_id": run_id, "file_id": "", "line_no": 0}
    if line is not None:
        case.succeeded_at = line["occurred_at"]
        if str(line["rrn"]) != sale_rrn:  # the refund's own reference, not the original sale's
            case.channel_refund_id = case.channel_refund_id or str(line["rrn"])
        evidence |= {"file_id": str(line["file_id"]), "line_no": int(line["line_no"])}
    event = case.pending_events[-1]
    case.pending_events[-1] = replace(event, data={**event.data, **evidence})
    uow.refunds.save_case(case)
    settle_reservation(uow, case, before)
    flush_case_events(uow, case)
