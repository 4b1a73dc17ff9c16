"""A person asks for a release, a completion or a completion cancel: checked against their role and the hold's
rules, queued for the worker under a new operation number, audited. Nothing is sent here."""

from __future__ import annotations

from posrefund.domain.errors import Conflict
from posrefund.domain.fund_hold import HoldStep, after_expiry, check_operation, held_fen
from posrefund.domain.roles import Actor
from posrefund.ports.fund_holds import OPEN_OPERATIONS, HoldOperation
from posrefund.service.deps import Deps
from posrefund.service.fund_holds.recording import _with, load_hold, new_operation
from posrefund.service.records import record

PERMISSION = {
    HoldStep.COMPLETE: "hold.complete",
    HoldStep.RELEASE: "hold.release",
    HoldStep.CANCEL_COMPLETION: "hold.cancel_completion",
}


def ask(deps: Deps, actor: Actor, hold_id: str, step: HoldStep, amount_fen: int, reason: str = "") -> HoldOperation:
    """Queue ``step`` on the hold. A release and a completion cancel are for the whole amount (the hold's, the
    completion's) whatever is asked; a completion for ``amount_fen`` up to the ceiling. One operation at a time:
    the hold's version moves here, so two people asking at once cannot both queue one."""
    actor.require(PERMISSION.get(step, "hold.release"))
    now = deps.clock.now()
    with deps.uow() as uow:
        hold = load_hold(uow, actor, hold_id)
        if any(op.status in OPEN_OPERATIONS for op in uow.fund_holds.operations_of(hold.merchant_id, hold.id)):
            raise Conflict("hold.operation_open")
        status = after_expiry(hold.held, hold.status, now)
        if amount_fen == 0 and step is not HoldStep.COMPLETE:  # the whole of what is undone
            done = status.completion
            rest = held_fen(hold.held, status) or hold.held.amount_fen  # nothing held: the rules say why
            amount_fen = done.amount_fen if step is HoldStep.CANCEL_COMPLETION and done else rest
        check_operation(hold.held, status, step, amount_fen, now)
        if not uow.fund_holds.save_hold(_with(hold, status), now):
            raise Conflict("hold.operation_open")
        operation = new_operation(deps, hold, step, amount_fen, actor.id, reason, now)
        uow.fund_holds.add_operation(operation)
        record(
            uow,
            actor,
            hold.merchant_id,
            "hold.operation_asked",
            now,
            reason=reason,
            hold_id=hold.id,
            operation_id=operation.id,
            step=step.value,
            amount_fen=amount_fen,
        )
        uow.commit()
    return operation
