"""The worker's side of fund holds: every queued operation executed on its channel exactly once.

As for refunds (service/execution.py), one step is two short transactions around one channel call: the claim
(open and due, compare-and-set on the operation's fence, a lease in ``next_check_at``, ``sent`` set) commits
before the call, so a worker killed during the call leaves an operation that is due again once the lease runs
out; the next claim sees it was sent and *asks* the channel first, sending (with the same operation_no) only when
the channel says nothing moved. The answer is written under the claim's fence: a worker that lost its claim
cannot write. A completion's success records the sale it became, so its refund is an ordinary card refund."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from posrefund.domain.channel import ChannelAnswer, Outcome
from posrefund.domain.fund_hold import (
    REST_FEN,
    TRADE_NO,
    CompletionRef,
    HoldOrder,
    HoldStep,
    after_freeze_failed,
    after_operation,
)
from posrefund.domain.hold_attention import ORDER_CLOSED, WITHDRAWAL
from posrefund.domain.roles import SYSTEM_ACTOR
from posrefund.domain.sale import Channel
from posrefund.ports import UnitOfWork
from posrefund.ports.fund_holds import (
    FundHoldChannel,
    HoldOperation,
    HoldRecord,
    OperationStatus,
    WithdrawableHoldChannel,
)
from posrefund.service.deps import Deps
from posrefund.service.fund_holds.converting import completion_sale, converted, frozen
from posrefund.service.fund_holds.recording import _with
from posrefund.service.leases import longest_call
from posrefund.service.records import record

FINAL_FAILURES = frozenset({Outcome.UNRESOLVED, Outcome.ABNORMAL, Outcome.CLOSED})
DONE_ACTION = {
    HoldStep.HOLD: "hold.frozen",
    HoldStep.COMPLETE: "hold.completed",
    HoldStep.RELEASE: "hold.released",
    HoldStep.CANCEL_COMPLETION: "hold.completion_cancelled",
}


@dataclass(frozen=True)
class HoldWorker:
    """The hold channels by name, the margin a claim's lease adds to the adapter's longest call, and how soon an
    operation without a final answer is asked about again."""

    channels: Mapping[str, FundHoldChannel]
    lease_margin: timedelta = timedelta(seconds=10)
    ask_again: timedelta = timedelta(seconds=30)
    worker: str = "worker"
    # calls on a freeze (the send and the queries after it) before one still unknown is withdrawn (cancel_freeze):
    # the payer stands at the counter, and a freeze found later would hold money nobody expects to be held
    freeze_tries: int = 4

    def lease_for(self, channel: str) -> timedelta:
        """Longer than any one call to the channel can take, so a live claim is never taken over."""
        return longest_call(cast(Any, self.channels.get(channel))) + self.lease_margin


@dataclass(frozen=True)
class Claim:
    operation: HoldOperation
    hold: HoldRecord
    fence: int
    fresh: bool
    freeze_no: str = ""  # an Alipay release's freeze (its HOLD operation's number): asked about when refused


def sweep_holds(
    deps: Deps, hw: HoldWorker, limit: int = 50, failed: Callable[[str, Exception], None] | None = None
) -> int:
    """One step for every due operation; returns how many were due. A step that raises is handed to ``failed``
    and the sweep goes on (it is due again once its lease runs out)."""
    with deps.uow(readonly=True) as uow:
        due = uow.fund_holds.due_operations(deps.clock.now(), limit)
    for merchant_id, operation_id in due:
        try:
            advance_operation(deps, hw, merchant_id, operation_id)
        except Exception as exc:
            if failed is not None:
                failed(operation_id, exc)
    return len(due)


def advance_operation(deps: Deps, hw: HoldWorker, merchant_id: str, operation_id: str) -> HoldOperation | None:
    """Claim, call the channel once, record under the claim's fence; None when the operation was not claimable
    (not due, final, or another worker's now)."""
    claim = _claim(deps, hw, merchant_id, operation_id)
    if claim is None:
        return None
    return record_answer(deps, hw, claim, call_claimed(deps, hw, claim))


def call_claimed(deps: Deps, hw: HoldWorker, claim: Claim, payer_code: str = "") -> ChannelAnswer:
    """The one channel call of a claimed operation (no database: the claim is committed before). ``payer_code``:
    the payment code of a freeze, given only while the payer stands at the counter (it is never stored: a freeze
    asked about later is queried, and withdrawn when Alipay has none)."""
    op, hold = claim.operation, claim.hold
    channel = hw.channels.get(hold.held.channel)
    completion = hold.status.completion if op.step is HoldStep.CANCEL_COMPLETION else None
    order = HoldOrder(op.operation_no, op.step, op.amount_fen, op.currency, hold.held, completion, payer_code)
    order = replace(order, title=op.reason[:100])
    deps.failpoint("hold.before_call")
    if channel is None:
        answer = ChannelAnswer(Outcome.UNKNOWN, code="NO_CHANNEL", message=f"no hold adapter for {hold.held.channel}")
    else:
        withdraw = op.step is HoldStep.HOLD and op.attempts + 1 >= hw.freeze_tries
        answer = _call(channel, order, claim.fresh, withdraw)
        if answer.outcome is Outcome.DECLINED and op.step is HoldStep.RELEASE and claim.freeze_no:
            answer = _closed_at_channel(channel, order, claim.freeze_no, answer)
    deps.failpoint("hold.after_call")
    return answer


def _closed_at_channel(
    channel: FundHoldChannel, order: HoldOrder, freeze_no: str, refused: ChannelAnswer
) -> ChannelAnswer:
    """A refused release of an Alipay freeze: the freeze itself is asked about (its detail query). When Alipay
    holds nothing under it any more (closed: released, withdrawn or ended by Alipay at its own limit; finished),
    the release has nothing left to do: CLOSED, and the hold ends released. Otherwise the refusal stands."""
    freeze = replace(order, operation_no=freeze_no, step=HoldStep.HOLD, amount_fen=order.hold.amount_fen)
    state = channel.query(freeze)
    order_status = state.details.get("order_status", "")
    gone = state.outcome is Outcome.CLOSED or (
        state.outcome is Outcome.SUCCEEDED and (order_status in ORDER_CLOSED or state.details.get(REST_FEN) == "0")
    )
    if not gone:
        return refused
    details = {**refused.details, "order_status": order_status or "CLOSED", REST_FEN: "0", "closed_at_channel": "true"}
    message = f"{refused.message}; Alipay holds nothing under the freeze any more (order {order_status or 'closed'})"
    return ChannelAnswer(Outcome.CLOSED, code=refused.code, message=message, details=details)


def _claim(deps: Deps, hw: HoldWorker, merchant_id: str, operation_id: str) -> Claim | None:
    now = deps.clock.now()
    with deps.uow() as uow:
        op = uow.fund_holds.get_operation(merchant_id, operation_id)
        if op is None:
            return None
        hold = uow.fund_holds.get_hold(merchant_id, op.hold_id)
        lease_until = now + hw.lease_for(hold.held.channel) if hold is not None else now
        if hold is None or not uow.fund_holds.claim(op.id, op.fence, now, lease_until, hw.worker):
            return None
        freeze_no = ""
        if op.step is HoldStep.RELEASE and hold.held.channel == "alipay":
            ops = uow.fund_holds.operations_of(merchant_id, hold.id)
            freeze_no = next((o.operation_no for o in ops if o.step is HoldStep.HOLD), "")
        uow.commit()
    return Claim(op, hold, op.fence + 1, fresh=not op.sent, freeze_no=freeze_no)


def _call(channel: FundHoldChannel, order: HoldOrder, fresh: bool, withdraw: bool) -> ChannelAnswer:
    if fresh:
        return channel.execute(order)
    answer = channel.query(order)
    if order.step is HoldStep.HOLD:  # the payer's code is gone: a freeze is never sent again, only withdrawn
        if answer.outcome is Outcome.NOT_FOUND or (answer.outcome is Outcome.UNKNOWN and withdraw):
            return _withdraw(channel, order, answer)
        return answer
    if answer.outcome is Outcome.NOT_FOUND:  # nothing moved under this number: send it, the same number
        return channel.execute(order)
    return answer


def _withdraw(channel: FundHoldChannel, order: HoldOrder, asked: ChannelAnswer) -> ChannelAnswer:
    """Withdraw a freeze whose outcome is not known (or that Alipay never received): CLOSED once withdrawn;
    otherwise what the query said stands and the freeze is asked about again."""
    if not isinstance(channel, WithdrawableHoldChannel):
        return asked
    answer = channel.cancel_freeze(order)
    if answer.outcome is Outcome.DECLINED:  # Alipay will not: a person looks (listed, retryable), no more asking
        details = {**answer.details, WITHDRAWAL: "declined"}
        message = f"withdrawal refused: {answer.message}"
        return ChannelAnswer(Outcome.UNRESOLVED, code=answer.code, message=message, details=details)
    return answer if answer.outcome is Outcome.CLOSED else replace(asked, outcome=Outcome.UNKNOWN)


def record_answer(deps: Deps, hw: HoldWorker, claim: Claim, answer: ChannelAnswer) -> HoldOperation | None:
    """The answer written under the claim's fence (None when another worker claimed the operation since)."""
    now = deps.clock.now()
    op = replace(claim.operation, sent=True, outcome=answer.outcome.value, code=answer.code, message=answer.message)
    op = replace(op, details=dict(answer.details), fence=claim.fence)
    with deps.uow() as uow:
        hold = uow.fund_holds.get_hold(op.merchant_id, op.hold_id)
        assert hold is not None
        op = _settled(op, answer, now, hw)
        if op.status is OperationStatus.SUCCEEDED:
            hold = _succeeded(deps, uow, hold, op, answer, now)
        elif op.step is HoldStep.HOLD and op.status is not OperationStatus.PROCESSING:
            hold = _not_held(uow, hold, op, now)
        if not uow.fund_holds.record(op, claim.fence):
            return None  # another worker claimed it since: its answer, not ours, is written
        if op.status is not OperationStatus.PROCESSING:
            action = DONE_ACTION[op.step] if op.status is OperationStatus.SUCCEEDED else f"hold.operation_{op.status}"
            record(
                uow,
                SYSTEM_ACTOR,
                op.merchant_id,
                action,
                now,
                hold_id=hold.id,
                operation_id=op.id,
                code=answer.code,
                amount_fen=op.amount_fen,
            )
        deps.failpoint("hold.before_commit")
        uow.commit()
    return op


def _settled(op: HoldOperation, answer: ChannelAnswer, now: datetime, hw: HoldWorker) -> HoldOperation:
    """The operation's status from the channel's answer: a closed freeze was withdrawn (cancelled); other closed,
    abnormal or unresolved answers wait for a person; anything not final is asked about again."""
    if answer.outcome is Outcome.SUCCEEDED:
        status = OperationStatus.SUCCEEDED
    elif answer.outcome is Outcome.DECLINED:
        status = OperationStatus.DECLINED
    elif answer.outcome is Outcome.CLOSED and op.step is HoldStep.HOLD:
        status = OperationStatus.CANCELLED
    elif answer.outcome is Outcome.CLOSED and op.step is HoldStep.RELEASE:  # nothing held any more at the channel
        status = OperationStatus.SUCCEEDED
    elif answer.outcome in FINAL_FAILURES:
        status = OperationStatus.UNRESOLVED
    else:
        return replace(op, status=OperationStatus.PROCESSING, next_check_at=now + hw.ask_again)
    return replace(op, status=status, next_check_at=None, finished_at=now)


def _not_held(uow: UnitOfWork, hold: HoldRecord, op: HoldOperation, now: datetime) -> HoldRecord:
    """A freeze refused (failed) or withdrawn (cancelled); one waiting for a person stays holding."""
    if op.status is OperationStatus.UNRESOLVED:
        return hold
    status = after_freeze_failed(hold.status, withdrawn=op.status is OperationStatus.CANCELLED)
    updated = replace(hold, status=status)
    if not uow.fund_holds.save_hold(updated, now):
        raise RuntimeError(f"hold {hold.id} changed while its freeze was recorded")
    return updated


def _succeeded(
    deps: Deps, uow: UnitOfWork, hold: HoldRecord, op: HoldOperation, answer: ChannelAnswer, now: datetime
) -> HoldRecord:
    """The hold after the channel executed ``op``; a completion's sale recorded in the same transaction."""
    if op.step is HoldStep.HOLD:
        return frozen(uow, hold, answer, now)
    if op.step is HoldStep.COMPLETE and hold.held.channel == "alipay":
        return converted(deps, uow, hold, op, answer, now)
    completion, sale_id = None, None
    if op.step is HoldStep.COMPLETE:
        details = answer.details
        completion = CompletionRef(
            op.operation_no,
            op.amount_fen,
            details.get(TRADE_NO, answer.channel_refund_id),
            details.get("auth_code", ""),
            details.get("stan", ""),
            details.get("batch_no", ""),
            answer.succeeded_at or now,
            details.get("by_notice") == "true",
        )
        sale_id = completion_sale(deps, uow, hold, completion, Channel.CARD, (hold.held.hold_no, completion.rrn), now)
    elif op.step is HoldStep.CANCEL_COMPLETION and hold.sale_id:
        _void(uow, hold, now)
    status = after_operation(hold.status, op.step, op.amount_fen, completion)
    updated = _with(hold, status, sale_id)
    if not uow.fund_holds.save_hold(updated, now):
        raise RuntimeError(f"hold {hold.id} changed while its operation was recorded")
    return updated


def _void(uow: UnitOfWork, hold: HoldRecord, now: datetime) -> None:
    """The cancelled completion's sale took nothing: voided, so a refund of it is refused (the acquirer would
    answer 25). One with a refund already reserved stays as it is for a person to see (audited)."""
    voided = uow.sales.void_sale(hold.merchant_id, hold.sale_id)
    action = "sale.voided" if voided else "sale.void_refused"
    record(uow, SYSTEM_ACTOR, hold.merchant_id, action, now, sale_id=hold.sale_id, hold_id=hold.id)
