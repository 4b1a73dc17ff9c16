"""Holds a supervisor must look at (``domain.hold_attention``): a release the channel refused, a freeze whose
withdrawal Alipay refused, an operation left unresolved; and retrying the first two."""

from __future__ import annotations

from dataclasses import dataclass, replace

from posrefund.domain.errors import Conflict
from posrefund.domain.fund_hold import HoldStep
from posrefund.domain.hold_attention import HoldWarning, warning_of
from posrefund.domain.roles import Actor
from posrefund.ports.fund_holds import HoldOperation, HoldRecord, OperationStatus
from posrefund.service.deps import Deps
from posrefund.service.fund_holds.asking import ask
from posrefund.service.fund_holds.recording import load_hold, reopen_withdrawal


@dataclass(frozen=True, slots=True)
class HoldAttention:
    """A hold, the operation that left it for a person, and why (the operation's ``code`` is the channel's)."""

    hold: HoldRecord
    operation: HoldOperation
    warning: HoldWarning


def holds_needing_attention(deps: Deps, actor: Actor, limit: int = 100) -> list[HoldAttention]:
    """The merchant's held or holding holds whose latest operation was refused or left unresolved, newest
    first."""
    actor.require("hold.read")
    found: list[HoldAttention] = []
    with deps.uow(readonly=True) as uow:
        for op in uow.fund_holds.flagged_operations(actor.merchant_id or "", limit):
            hold = uow.fund_holds.get_hold(op.merchant_id, op.hold_id)
            if hold is None or (actor.terminal_id is not None and hold.terminal_id != actor.terminal_id):
                continue
            warning = warning_of(hold.status.state, op.step, op.status.value, op.details)
            if warning is not None:
                found.append(HoldAttention(hold, op, warning))
    return found


def retry(deps: Deps, actor: Actor, hold_id: str, reason: str = "") -> HoldOperation:
    """Ask again what the channel refused: a refused release is asked anew (a new operation, the hold's rules
    checked again); a freeze whose withdrawal was refused is asked about again, due now (the worker queries it
    and withdraws it if still unknown). An unresolved operation is not retried (it may have executed): 409."""
    actor.require("hold.retry")
    now = deps.clock.now()
    with deps.uow() as uow:
        hold = load_hold(uow, actor, hold_id)
        ops = uow.fund_holds.operations_of(hold.merchant_id, hold.id)
        last = ops[-1] if ops else None
        warning = warning_of(hold.status.state, last.step, last.status.value, last.details) if last else None
        if last is not None and warning is HoldWarning.WITHDRAWAL_DECLINED:
            if not reopen_withdrawal(uow, actor, last, now):
                raise Conflict("hold.operation_open")
            uow.commit()
            return replace(last, status=OperationStatus.PROCESSING, next_check_at=now, finished_at=None)
    if warning is not HoldWarning.RELEASE_DECLINED:
        raise Conflict("hold.not_retryable")
    return ask(deps, actor, hold_id, HoldStep.RELEASE, 0, reason)  # every role that retries may release
