"""Executing approved refunds on their channel, exactly once, whatever fails.

The worker's rule: *not yet sent → submit; sent and not final → query* — always with the case's own
``refund_no``, never a new one. Every step is two short transactions around one channel call:

1. claim: the case is marked (``processing``, a lease in ``next_check_at``), takes the next fencing token
   and opens an attempt, all committed *before* the call, so a crash after the call is found again by the
   sweep over our own table;
2. the call, outside any transaction, while a heartbeat renews the lease under the fence;
3. record: the answer is applied with compare-and-set on the case's version *and* the claim's fence (a
   callback may have won the race: then we reload and apply again, which is idempotent; a later worker's
   claim moved the fence: the database refuses the write, and the answer is kept on its attempt as stale).

After a crash the case is ``processing`` but not known to be ``submitted``: the worker asks the channel
first, and submits (with the same number) only when the channel has never heard of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from posrefund.domain.calendar import expected_arrival
from posrefund.domain.channel import (
    QUERY_NOW,
    RECEIVING_ACCOUNT,
    ChannelAnswer,
    Method,
    Outcome,
    RefundOrder,
)
from posrefund.domain.channel_facts import checked_against
from posrefund.domain.errors import Invalid, NotFound
from posrefund.domain.events import CaseEvent
from posrefund.domain.pii import mask_payee
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale
from posrefund.ports import ConcurrentUpdate, PaymentChannel, RefundAttempt, StaleFence, UnitOfWork
from posrefund.service.abnormal_refunds import refuse_while_in_flight
from posrefund.service.channel_accounts import sub_merchant_of
from posrefund.service.deps import Deps
from posrefund.service.leases import Heartbeat
from posrefund.service.pacing import asks_again_soon, next_look, send_at_once, unknown_run
from posrefund.service.records import flush_case_events
from posrefund.service.refunds import change_case, get_case, settle_reservation
from posrefund.service.routing import DEFAULT_RULES, OFFLINE, ChannelRules, Router, card_method_rule, order_of

__all__ = [
    "DEFAULT_RULES",
    "ChannelRules",
    "Router",
    "advance",
    "apply_callback",
    "attempts_of",
    "card_method_rule",
    "confirm_payout",
    "record_answer",
    "reroute",
    "resolve",
    "retry",
    "sweep",
]

S = RefundStatus
# An answer that leaves the case due at once (a void refused after settlement → the refund) is followed up
# in the same step, up to this many calls.
STEPS_AT_ONCE = 3


@dataclass(frozen=True)
class Claim:
    case: RefundCase
    order: RefundOrder
    fresh: bool  # True: nothing was ever sent for this case in this state, so submit without asking first
    fence: int = 0  # the fencing token this claim took: only it may apply the answer
    lease: timedelta = timedelta(0)


def _hand_over(deps: Deps, router: Router, uow: UnitOfWork, case: RefundCase, sale: Sale) -> bool | None:
    """Decide what the claim does with the loaded case: True/False = claimed (fresh submit or not), None = not
    now. A refund of an order the channel wants a gap after gets a timer instead of being due again at once."""
    now = deps.clock.now()
    rules = router.rules.get(case.channel, ChannelRules())
    if case.status is S.APPROVED:
        last = uow.refunds.last_sent_for_sale(sale.id, case.id)
        if last is not None and now < last + rules.min_gap_same_order:
            case.next_check_at = last + rules.min_gap_same_order  # due again when the gap ends, not before
            uow.refunds.save_case(case)
            uow.commit()
            return None
        case.start_processing(router.method_for(sale, case, now).value, now)
        case.sent_at = now
        fresh = True
    elif case.status is not S.PROCESSING or case.next_check_at is None or case.next_check_at > now:
        return None
    else:
        fresh = send_at_once(case, uow.attempts.last_attempt(case.id))
    if case.method not in OFFLINE and not router.may_call(case.channel, rules.max_calls_per_second):
        return None  # over the channel's rate: nothing changes, the next sweep comes back
    return fresh


def _open_attempt(deps: Deps, router: Router, uow: UnitOfWork, case: RefundCase, worker: str) -> tuple[int, timedelta]:
    """The claim's fence (one more than any before, on the case row) and its attempt, in the claim's transaction."""
    now = deps.clock.now()
    lease = router.lease_for(case.channel)
    last = uow.attempts.last_attempt(case.id)
    fence = uow.refunds.next_fence(case.id)
    replaced = last.refund_no if last is not None and last.refund_no != case.refund_no else ""
    uow.attempts.open_attempt(
        RefundAttempt(
            id=deps.ids.new_id("att"),
            merchant_id=case.merchant_id,
            case_id=case.id,
            attempt_no=max(case.attempts, 1),
            fence=fence,
            refund_no=case.refund_no,
            previous_refund_no=replaced,
            channel=case.channel,
            method=case.method,
            worker=worker[:40],  # the column's width: a long host name is cut, never refused
            started_at=now,
            lease_until=now + lease,
        )
    )
    return fence, lease


def _claim(deps: Deps, router: Router, merchant_id: str, case_id: str, worker: str) -> Claim | None:
    now = deps.clock.now()
    with deps.uow() as uow:
        case = uow.refunds.get_case(merchant_id, case_id)
        if case is None or (case.status is S.APPROVED and uow.risk_holds.is_held(case.id)):
            return None  # a hold placed after this read moved the version: the save below would fail instead
        sale = uow.sales.get_sale(merchant_id, case.sale_id)
        assert sale is not None
        terminal = uow.merchants.get_terminal(merchant_id, case.terminal_id)
        terminal_no = str(terminal["terminal_no"]) if terminal else ""
        sub_merchant = sub_merchant_of(uow, merchant_id, case.channel)
        fresh = _hand_over(deps, router, uow, case, sale)
        if fresh is None:
            return None
        fence, lease = 0, timedelta(0)
        if case.method in OFFLINE:
            case.next_check_at = None  # waits for a person to confirm the payout
            case.expected_arrival = expected_arrival(case.channel, case.method, deps.local_date(now), router.is_workday)
            case.submitted = True
        else:
            case.next_check_at = now + router.lease_for(case.channel)
        uow.refunds.save_case(case)
        if case.method not in OFFLINE:
            fence, lease = _open_attempt(deps, router, uow, case, worker)
        flush_case_events(uow, case)
        uow.commit()
    if case.method in OFFLINE:
        return None
    return Claim(case, order_of(case, sale, terminal_no, sub_merchant), fresh, fence, lease)


def _call(channel: PaymentChannel, claim: Claim) -> tuple[ChannelAnswer, str]:
    if claim.fresh:
        return channel.submit(claim.order), "submit"
    answer = channel.query(claim.order)
    if answer.outcome is Outcome.NOT_FOUND and not claim.case.submitted:
        # Never reached the channel (or it forgot an unacknowledged request): send the SAME number.
        return channel.submit(claim.order), "submit"
    return answer, "query"


def _apply(
    router: Router, case: RefundCase, answer: ChannelAnswer, source: str, now: datetime, early_looks: int = 0
) -> None:
    """One answer onto the loaded case (the state machine decides), and when to look at it next."""
    if answer.outcome is Outcome.NOT_FOUND and case.submitted and case.status is S.PROCESSING:
        # The channel once acknowledged this refund and now says it never heard of it.
        answer = ChannelAnswer(
            Outcome.ABNORMAL, code=answer.code or "NOT_FOUND", message="channel lost an acknowledged refund"
        )
    switched = (
        answer.outcome is Outcome.DECLINED
        and answer.details.get("hint") == "use_refund"
        and case.method == Method.VOID.value
        and case.status is S.PROCESSING
    )
    if switched:
        # The acquirer settled the batch meanwhile: same refund_no, sent again as a 退货, at once.
        case.switch_method(Method.REFUND.value, now, answer.code)
    else:
        case.apply_answer(answer, now, source)
    if case.status is S.PROCESSING and source == "callback" and answer.details.get(QUERY_NOW):
        case.next_check_at = now  # the notification said something happened, not enough to settle it: ask
    elif case.status is S.PROCESSING and source != "callback":
        next_look(router.rules.get(case.channel, ChannelRules()), case, answer, now, switched, early_looks)
    elif case.status is not S.PROCESSING:
        case.next_check_at = None


def record_answer(
    deps: Deps,
    router: Router,
    merchant_id: str,
    case_id: str,
    answer: ChannelAnswer,
    source: str,
    notice: tuple[str, str] | None = None,
    fence: int | None = None,
) -> RefundCase | None:
    """Apply one channel answer to the case; retried on a lost compare-and-set (a callback raced us).
    A callback's ``notice`` (channel, notice id) is remembered in the same transaction, so a crash can
    never leave a notification marked as seen but not applied. A worker's answer carries its claim's
    ``fence``: if another claim took the case since, the database refuses the write (``StaleFence``) and the
    answer is kept on the worker's own attempt, marked stale, for the audit trail."""
    for _ in range(5):
        now = deps.clock.now()
        try:
            with deps.uow() as uow:
                case = uow.refunds.get_case(merchant_id, case_id)
                if case is None:
                    return None
                if notice is not None and not uow.callbacks.first_time(notice[0], notice[1], case.refund_no, now):
                    return case  # a duplicate notification: acknowledged, nothing changes
                before = case.status
                early = unknown_run(uow.attempts.attempts_of(merchant_id, case_id)) if asks_again_soon(answer) else 0
                _apply(router, case, answer, source, now, early)
                if case.status is S.SUCCEEDED and before is not S.SUCCEEDED:
                    day = deps.local_date(case.succeeded_at or now)
                    kind = answer.details.get(RECEIVING_ACCOUNT, "")
                    case.expected_arrival = expected_arrival(case.channel, case.method, day, router.is_workday, kind)
                uow.refunds.save_case(case, fence)
                if fence is not None:
                    outcome, code = answer.outcome.value, answer.code
                    uow.attempts.finish_attempt(case_id, fence, now, source, outcome, code, answer.message)
                settle_reservation(uow, case, before)
                flush_case_events(uow, case)
                deps.failpoint("record.before_commit")
                uow.commit()
                return case
        except ConcurrentUpdate:
            continue
        except StaleFence:
            _record_stale(deps, case_id, fence, answer, source)
            raise
    raise RuntimeError(f"case {case_id} kept changing under the worker")


def _record_stale(deps: Deps, case_id: str, fence: int | None, answer: ChannelAnswer, source: str) -> None:
    """A late answer from a worker that lost the case: on its own attempt, never on the case."""
    assert fence is not None
    with deps.uow() as uow:
        note = f"stale, not applied: {answer.outcome.value} {answer.message}".strip()
        uow.attempts.finish_attempt(case_id, fence, deps.clock.now(), source, "stale", answer.code, note)
        uow.commit()


def _step(deps: Deps, router: Router, merchant_id: str, case_id: str, worker: str) -> RefundCase | None:
    """Claim, call the channel once (the lease renewed meanwhile), record under the claim's fence."""
    claim = _claim(deps, router, merchant_id, case_id, worker)
    if claim is None:
        return None
    channel = router.channels.get(claim.case.channel)
    if channel is None:
        answer = ChannelAnswer(Outcome.ABNORMAL, code="NO_CHANNEL", message=f"no adapter for {claim.case.channel}")
        return record_answer(deps, router, merchant_id, case_id, answer, "worker", fence=claim.fence)
    deps.failpoint("advance.before_call")
    with Heartbeat(deps, case_id, claim.fence, claim.lease, router.renew_leases):
        answer, source = router.observed(claim.case, lambda: _call(channel, claim))
    deps.failpoint(f"advance.after_{source}")
    return record_answer(deps, router, merchant_id, case_id, answer, source, fence=claim.fence)


def advance(deps: Deps, router: Router, merchant_id: str, case_id: str, worker: str | None = None) -> RefundCase | None:
    """One step for one case, and the next at once when the answer leaves it due now (a void the acquirer
    refused after settlement goes out as a refund in the same sweep). Safe to run again at any time; raises
    ``StaleFence`` when another worker took the case over during the call (the answer was not applied)."""
    case = _step(deps, router, merchant_id, case_id, worker or router.worker)
    for _ in range(STEPS_AT_ONCE - 1):
        if case is None or case.status is not S.PROCESSING or case.next_check_at is None:
            break
        if case.next_check_at > deps.clock.now():
            break
        case = _step(deps, router, merchant_id, case_id, worker or router.worker) or case
    return case


def sweep(
    deps: Deps,
    router: Router,
    limit: int = 100,
    shuffle: Callable[[list[tuple[str, str]]], None] | None = None,
    failed: Callable[[str, Exception], None] | None = None,
) -> int:
    """Move every due case one step; the worker calls this in a loop. Returns how many were due.
    Several workers may sweep at once: the claim's compare-and-set gives each case to one of them, and the
    fence keeps a worker that lost its case mid-call from writing. A case whose step raises is handed to
    ``failed`` (the worker logs it) and the sweep goes on: one broken row must not hold back every other
    refund; it is tried again on a later sweep."""
    with deps.uow(readonly=True) as uow:
        due = uow.refunds.due(deps.clock.now(), limit)
    if shuffle is not None:
        shuffle(due)
    for merchant_id, case_id in due:
        try:
            advance(deps, router, merchant_id, case_id)
        except (ConcurrentUpdate, StaleFence):
            continue  # another worker claimed it first: it is theirs for this round
        except Exception as exc:
            if failed is not None:
                failed(case_id, exc)
    return len(due)


def apply_callback(deps: Deps, router: Router, channel: str, headers: dict[str, str], body: bytes) -> str:
    """A signed channel notification. Raises CallbackRejected (→ 401) before anything is read or changed;
    a duplicate notification is acknowledged and changes nothing."""
    verifier = router.verifiers.get(channel)
    if verifier is None:
        raise NotFound("callback.unknown_channel", channel=channel)
    notice = verifier.verify(headers, body)
    with deps.uow(readonly=True) as uow:
        case = uow.refunds.get_by_refund_no(notice.refund_no)
        sale = uow.sales.get_sale(case.merchant_id, case.sale_id) if case is not None else None
        sub_merchant = sub_merchant_of(uow, case.merchant_id, case.channel) if case is not None else ""
    if case is None or sale is None:
        raise NotFound("refund.not_found")
    deps.failpoint("callback.before_apply")
    before = case.version
    # A signed notification about another amount, total, order or sub-merchant is not this case's outcome.
    answer = checked_against(notice.answer, order_of(case, sale, "", sub_merchant)) if case.method else notice.answer
    after = record_answer(deps, router, case.merchant_id, case.id, answer, "callback", (channel, notice.notice_id))
    return "applied" if after is not None and after.version != before else "duplicate"


def retry(
    deps: Deps, actor: Actor, case_id: str, reason: str, rules: Mapping[str, ChannelRules] = DEFAULT_RULES
) -> RefundCase:
    """A person sends a failed refund again, as a new attempt under the channel's rules. The failure made the
    channel's answer final for that number, so the worker must *send* (not ask about it again, which only
    repeated the failure or, for a number the channel kept no record of, read as a lost refund → abnormal):
    the card host takes the same number under a new trace; a wallet needs a new number, linked to the old."""
    actor.require("refund.retry")

    def again(case: RefundCase, _uow: UnitOfWork, now: datetime) -> None:
        case.retry(actor, reason, now)
        case.submitted, case.checks = False, 0
        if rules.get(case.channel, ChannelRules()).failed_number_final:
            old, case.refund_no = case.refund_no, deps.ids.new_refund_no(now)
            data = {"previous_refund_no": old, "refund_no": case.refund_no}
            event = CaseEvent.between("refund.renumbered", actor, now, case.status, case.status, reason, data)
            case.pending_events.append(event)

    return change_case(deps, actor, case_id, again)


def attempts_of(deps: Deps, actor: Actor, case_id: str) -> list[RefundAttempt]:
    """A case's attempts on its channel (each claim, its fence, the number sent, the answer, stale ones too),
    for whoever may read the case itself."""
    case = get_case(deps, actor, case_id).case
    with deps.uow(readonly=True) as uow:
        return uow.attempts.attempts_of(case.merchant_id, case.id)


def resolve(deps: Deps, actor: Actor, case_id: str, target: str, reason: str) -> RefundCase:
    actor.require("refund.resolve")
    try:
        status = RefundStatus(target)
    except ValueError:
        raise Invalid("refund.invalid_resolution", target=target) from None
    if status not in (S.PROCESSING, S.SUCCEEDED, S.FAILED, S.CLOSED, S.ABNORMAL):
        raise Invalid("refund.invalid_resolution", target=target)

    def settle(case: RefundCase, uow: UnitOfWork, now: datetime) -> None:
        refuse_while_in_flight(uow, case, unpaid=status in (S.FAILED, S.CLOSED))
        case.resolve(actor, status, reason, now)

    return change_case(deps, actor, case_id, settle)


def reroute(deps: Deps, actor: Actor, case_id: str, method: str, reason: str, payee: str = "") -> RefundCase:
    """Pay a failed or abnormal refund away from its original route, with a reviewer's recorded reason; a
    transfer names its payee (kept masked: the risk rules compare it with the payer)."""
    actor.require("refund.reroute")
    masked = mask_payee(payee) if payee.strip() else ""

    def step(case: RefundCase, uow: UnitOfWork, now: datetime) -> None:
        refuse_while_in_flight(uow, case)
        case.reroute(actor, method, reason, now)
        if masked:
            uow.refunds.set_payee(case.id, masked)

    return change_case(deps, actor, case_id, step)


def confirm_payout(
    deps: Deps, actor: Actor, case_id: str, reference: str, permission: str = "refund.confirm_payout"
) -> RefundCase:
    """Cash handed over at the till, or a cheque cleared (finance enters the bank reference). ``permission``:
    a desk that pays its own refunds by transfer (the provider's device returns) checks its own right."""
    actor.require(permission)
    return change_case(deps, actor, case_id, lambda c, _uow, now: c.confirm_offline_payout(actor, reference, now))
