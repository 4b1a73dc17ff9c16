"""The discrepancies of a run (差错): list, export, read one, and bring back to ``succeeded`` a refund the
channel paid but posrefund lost (through the ``RefundCase`` aggregate, nothing sent to the channel)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posrefund.domain.channel import ChannelAnswer, Outcome
from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.reconciliation import (
    DiscrepancyClass,
)
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.domain.roles import Actor
from posrefund.ports import DiscrepancyExportRow, DiscrepancyRow, SettlementLineRow, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.reconciliation.runs import known_run
from posrefund.service.records import record
from posrefund.service.refunds import change_case

S = RefundStatus
BATCH = 5_000
PAGE_MAX = 500


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
) -> tuple[list[DiscrepancyRow], int]:
    actor.require("recon.read")
    klass = _class(cls)
    if offset < 0:
        raise Invalid("request.bad_page")
    with deps.uow(readonly=True) as uow:
        known_run(uow, actor.merchant_id or "", run_id)
        return uow.discrepancies.discrepancies(
            actor.merchant_id or "", run_id, klass, max(1, min(limit, PAGE_MAX)), offset, include_cleared
        )


def export_discrepancies(
    deps: Deps, actor: Actor, run_id: str, cls: str | None = None
) -> Iterator[DiscrepancyExportRow]:
    """Every open discrepancy of the run with its line's references, streamed page by page (each page its
    own short read), for the CSV export. Checks role and merchant before the first row is produced."""
    actor.require("recon.read")
    klass = _class(cls)
    merchant_id = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        known_run(uow, merchant_id, run_id)

    def rows() -> Iterator[DiscrepancyExportRow]:
        after = 0
        while True:
            with deps.uow(readonly=True) as uow:
                page = uow.discrepancies.discrepancy_page(merchant_id, run_id, klass, after, 2_000)
            if not page:
                return
            yield from page
            after = int(page[-1]["id"])

    return rows()


def known_discrepancy(uow: UnitOfWork, merchant_id: str, discrepancy_id: int) -> DiscrepancyRow:
    """The merchant's discrepancy; another merchant's, like one that does not exist, is 404."""
    d = uow.discrepancies.get_discrepancy(merchant_id, discrepancy_id)
    if d is None:
        raise NotFound("recon.discrepancy_not_found")
    return d


def _with_line(
    uow: UnitOfWork, merchant_id: str, discrepancy_id: int
) -> tuple[DiscrepancyRow, SettlementLineRow | None]:
    """The discrepancy and the settlement line it is about (None when only our side has a record)."""
    d = known_discrepancy(uow, merchant_id, discrepancy_id)
    return d, uow.settlement_files.line(merchant_id, int(d["line_id"])) if d["line_id"] else None


def get_discrepancy(deps: Deps, actor: Actor, discrepancy_id: int) -> dict[str, Any]:
    actor.require("recon.read")
    with deps.uow(readonly=True) as uow:
        d, line = _with_line(uow, actor.merchant_id or "", discrepancy_id)
    return {**d, "line": line}


# ---- the refund the channel paid but we lost ----------------------------------------------------------------
RECOVERABLE = (S.PROCESSING, S.ABNORMAL, S.FAILED)


def recover_refund(deps: Deps, actor: Actor, discrepancy_id: int, reason: str = "") -> RefundCase:
    """A refund the channel's file shows paid (SUCCESS) that we still hold as processing / abnormal / failed
    becomes ``succeeded`` through the RefundCase aggregate — audited, the reservation settled exactly as the
    worker does — and nothing is ever sent to the channel again."""
    actor.require("recon.correct")
    refuse_card_data(reason, "reason")
    merchant_id = actor.merchant_id or ""
    with deps.uow(readonly=True) as uow:
        d, line = _with_line(uow, merchant_id, discrepancy_id)
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
        if not uow.discrepancies.resolve_discrepancy(discrepancy_id, "recovered"):
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
