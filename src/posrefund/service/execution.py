"""Executing approved refunds on their channel, exactly once, whatever fails.

The worker's rule: *not yet sent → submit; sent and not final → query* — always with the case's own
``refund_no``, never a new one. Every step is two short transactions around one channel call:

1. claim: the case is marked (``processing``, a lease in ``next_check_at``) and committed *before* the
   call, so a crash after the call is found again by the sweep over our own table;
2. the call, outside any transaction;
3. record: the answer is applied with compare-and-set on the case's version (a callback may have
   won the race: then we reload and apply again, which is idempotent).

After a crash the case is ``processing`` but not known to be ``submitted``: the worker asks the channel
first, and submits (with the same number) only when the channel has never heard of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from posrefund.domain.calendar import expected_arrival
from posrefund.domain.card_method import choose_card_method
from posrefund.domain.channel import ChannelAnswer, Method, OriginalSale, Outcome, RefundOrder
from posrefund.domain.errors import Invalid, NotFound
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale, SettlementStatus
from posrefund.ports import CallbackVerifier, ConcurrentUpdate, PaymentChannel
from posrefund.service.deps import Deps
from posrefund.service.records import flush_case_events
from posrefund.service.refunds import change_case, settle_reservation

S = RefundStatus
# Seconds to the next look at a refund in flight: first after about a minute, then growing (WeChat asks
# for a query no sooner than a minute after the refund; Alipay ≥ 5–10 s).
BACKOFF = (60, 120, 300, 600, 1800, 3600, 7200, 14400)
LEASE = timedelta(seconds=30)  # while one worker talks to the channel, the case is not due for another


@dataclass(frozen=True)
class ChannelRules:
    """What a channel asks of its callers; configurable per channel."""

    min_gap_same_order: timedelta = timedelta(0)  # WeChat: 60 s between refunds of one order; Alipay: 3 s
    first_query_after: timedelta = timedelta(seconds=60)
    max_calls_per_second: int = 0  # 0 = no limit; WeChat: 150 qps per merchant


DEFAULT_RULES: dict[str, ChannelRules] = {
    "wechat": ChannelRules(timedelta(seconds=60), timedelta(seconds=60), max_calls_per_second=150),
    "alipay": ChannelRules(timedelta(seconds=3), timedelta(seconds=10), max_calls_per_second=100),
    "card": ChannelRules(timedelta(0), timedelta(seconds=60), max_calls_per_second=50),
    "unionpay_qr": ChannelRules(timedelta(seconds=60), timedelta(seconds=60), max_calls_per_second=50),
}


@dataclass
class Router:
    """Which adapter pays back which sale channel, and the business calendar for arrival dates."""

    channels: Mapping[str, PaymentChannel]
    is_workday: Callable[[date], bool]
    choose_card_method: Callable[[Sale, RefundCase, datetime], Method] | None = None
    rules: dict[str, ChannelRules] = field(default_factory=lambda: dict(DEFAULT_RULES))
    verifiers: Mapping[str, CallbackVerifier] = field(default_factory=dict)
    overrides: dict[date, bool] = field(default_factory=dict)  # shared with the calendar behind is_workday
    # Asked before every channel call: False means "over the channel's rate, leave the case for the next sweep".
    may_call: Callable[[str, int], bool] = lambda _channel, _per_second: True

    def method_for(self, sale: Sale, case: RefundCase, now: datetime) -> Method:
        if sale.channel.value == "cash":
            return Method.CASH
        if sale.channel.value == "cheque":
            return Method.CHEQUE
        if sale.channel.value == "card" and self.choose_card_method is not None:
            return self.choose_card_method(sale, case, now)
        return Method.REFUND


OFFLINE = {Method.CASH.value, Method.CHEQUE.value, Method.TRANSFER.value}


def card_method_rule(cutoff: time = time(23, 0)) -> Callable[[Sale, RefundCase, datetime], Method]:
    """Void while the sale is in the terminal's open batch and wholly refunded at once; refund otherwise."""

    def choose(sale: Sale, case: RefundCase, now: datetime) -> Method:
        unsettled = sale.settlement_status is not SettlementStatus.SETTLED
        return choose_card_method(
            sale_paid_at=sale.paid_at,
            sale_settled=not unsettled,
            sale_batch_no=sale.batch_no,
            open_batch_no=sale.batch_no if unsettled else "",
            cutoff_local_time=cutoff,
            now=now,
            refund_amount_fen=case.amount_fen,
            sale_amount_fen=sale.amount_fen,
            # Everything else already refunded or held by other live requests makes this one partial.
            already_refunded_fen=sale.refunded_fen + sale.reserved_fen - case.amount_fen,
        )

    return choose


def order_of(case: RefundCase, sale: Sale, terminal_no: str) -> RefundOrder:
    return RefundOrder(
        refund_no=case.refund_no,
        amount_fen=case.amount_fen,
        currency=case.currency,
        reason=case.reason.value,
        method=Method(case.method),
        sale=OriginalSale(
            channel=sale.channel.value,
            order_no=sale.order_no,
            amount_fen=sale.amount_fen,
            currency=sale.currency,
            paid_at=sale.paid_at,
            rrn=sale.rrn,
            auth_code=sale.auth_code,
            voucher_no=sale.voucher_no,
            batch_no=sale.batch_no,
            terminal_no=terminal_no,
            settled=sale.settlement_status is SettlementStatus.SETTLED,
        ),
    )


@dataclass(frozen=True)
class Claim:
    case: RefundCase
    order: RefundOrder
    fresh: bool  # True: nothing was ever sent for this case in this state, so submit without asking first


def _claim(deps: Deps, router: Router, merchant_id: str, case_id: str) -> Claim | None:
    now = deps.clock.now()
    with deps.uow() as uow:
        case = uow.refunds.get_case(merchant_id, case_id)
        if case is None:
            return None
        sale = uow.sales.get_sale(merchant_id, case.sale_id)
        assert sale is not None
        terminal = uow.merchants.get_terminal(merchant_id, case.terminal_id)
        terminal_no = str(terminal["terminal_no"]) if terminal else ""
        fresh = False
        if case.status is S.APPROVED:
            rules = router.rules.get(case.channel, ChannelRules())
            last = uow.refunds.last_sent_for_sale(sale.id, case.id)
            if last is not None and now < last + rules.min_gap_same_order:
                return None  # the channel wants a gap between refunds of one order: the sweep comes back
            case.start_processing(router.method_for(sale, case, now).value, now)
            case.sent_at = now
            fresh = True
        elif case.status is not S.PROCESSING or case.next_check_at is None or case.next_check_at > now:
            return None
        per_second = router.rules.get(case.channel, ChannelRules()).max_calls_per_second
        if case.method not in OFFLINE and not router.may_call(case.channel, per_second):
            return None  # over the channel's rate: nothing changes, the next sweep comes back
        if case.method in OFFLINE:
            case.next_check_at = None  # waits for a person to confirm the payout
            case.expected_arrival = expected_arrival(case.channel, case.method, deps.local_date(now), router.is_workday)
            case.submitted = True
        else:
            case.next_check_at = now + LEASE
        uow.refunds.save_case(case)
        flush_case_events(uow, case)
        uow.commit()
    if case.method in OFFLINE:
        return None
    return Claim(case, order_of(case, sale, terminal_no), fresh)


def _call(channel: PaymentChannel, claim: Claim) -> tuple[ChannelAnswer, str]:
    if claim.fresh:
        return channel.submit(claim.order), "submit"
    answer = channel.query(claim.order)
    if answer.outcome is Outcome.NOT_FOUND and not claim.case.submitted:
        # Never reached the channel (or it forgot an unacknowledged request): send the SAME number.
        return channel.submit(claim.order), "submit"
    return answer, "query"


def record_answer(
    deps: Deps,
    router: Router,
    merchant_id: str,
    case_id: str,
    answer: ChannelAnswer,
    source: str,
    notice: tuple[str, str] | None = None,
) -> RefundCase | None:
    """Apply one channel answer to the case; retried on a lost compare-and-set (a callback raced us).
    A callback's ``notice`` (channel, notice id) is remembered in the same transaction, so a crash can
    never leave a notification marked as seen but not applied."""
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
                if answer.outcome is Outcome.NOT_FOUND and case.submitted and case.status is S.PROCESSING:
                    # The channel once acknowledged this refund and now says it never heard of it.
                    answer = ChannelAnswer(
                        Outcome.ABNORMAL, code=answer.code or "NOT_FOUND", message="channel lost an acknowledged refund"
                    )
                if (
                    answer.outcome is Outcome.DECLINED
                    and answer.details.get("hint") == "use_refund"
                    and case.method == Method.VOID.value
                ):
                    # The acquirer settled the batch meanwhile: same refund_no, sent again as a 退货.
                    case.switch_method(Method.REFUND.value, now, answer.code)
                    case.next_check_at = now
                else:
                    case.apply_answer(answer, now, source)
                if case.status is S.PROCESSING and source != "callback":
                    delay = BACKOFF[min(case.checks, len(BACKOFF) - 1)]
                    if case.checks == 0:
                        delay = int(router.rules.get(case.channel, ChannelRules()).first_query_after.total_seconds())
                    case.checks += 1
                    case.next_check_at = now + timedelta(seconds=delay)
                elif case.status is not S.PROCESSING:
                    case.next_check_at = None
                if case.status is S.SUCCEEDED and before is not S.SUCCEEDED:
                    day = deps.local_date(case.succeeded_at or now)
                    case.expected_arrival = expected_arrival(case.channel, case.method, day, router.is_workday)
                uow.refunds.save_case(case)
                settle_reservation(uow, case, before)
                flush_case_events(uow, case)
                deps.failpoint("record.before_commit")
                uow.commit()
                return case
        except ConcurrentUpdate:
            continue
    raise RuntimeError(f"case {case_id} kept changing under the worker")


def advance(deps: Deps, router: Router, merchant_id: str, case_id: str) -> RefundCase | None:
    """One step for one case: claim, call the channel once, record. Safe to run again at any time."""
    claim = _claim(deps, router, merchant_id, case_id)
    if claim is None:
        return None
    channel = router.channels.get(claim.case.channel)
    if channel is None:
        answer = ChannelAnswer(Outcome.ABNORMAL, code="NO_CHANNEL", message=f"no adapter for {claim.case.channel}")
        return record_answer(deps, router, merchant_id, case_id, answer, "worker")
    deps.failpoint("advance.before_call")
    answer, source = _call(channel, claim)
    deps.failpoint(f"advance.after_{source}")
    return record_answer(deps, router, merchant_id, case_id, answer, source)


def sweep(
    deps: Deps,
    router: Router,
    limit: int = 100,
    shuffle: Callable[[list[tuple[str, str]]], None] | None = None,
    failed: Callable[[str, Exception], None] | None = None,
) -> int:
    """Move every due case one step; the worker calls this in a loop. Returns how many were due.
    Several workers may sweep at once: the claim's compare-and-set gives each case to one of them.
    A case whose step raises is handed to ``failed`` (the worker logs it) and the sweep goes on: one
    broken row must not hold back every other refund; it is tried again on a later sweep."""
    with deps.uow(readonly=True) as uow:
        due = uow.refunds.due(deps.clock.now(), limit)
    if shuffle is not None:
        shuffle(due)
    for merchant_id, case_id in due:
        try:
            advance(deps, router, merchant_id, case_id)
        except ConcurrentUpdate:
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
    if case is None:
        raise NotFound("refund.not_found")
    deps.failpoint("callback.before_apply")
    before = case.version
    after = record_answer(
        deps, router, case.merchant_id, case.id, notice.answer, "callback", notice=(channel, notice.notice_id)
    )
    return "applied" if after is not None and after.version != before else "duplicate"


def retry(deps: Deps, actor: Actor, case_id: str, reason: str) -> RefundCase:
    actor.require("refund.retry")
    return change_case(deps, actor, case_id, lambda c, _uow, now: c.retry(actor, reason, now))


def resolve(deps: Deps, actor: Actor, case_id: str, target: str, reason: str) -> RefundCase:
    actor.require("refund.resolve")
    try:
        status = RefundStatus(target)
    except ValueError:
        raise Invalid("refund.invalid_resolution", target=target) from None
    if status not in (S.PROCESSING, S.SUCCEEDED, S.FAILED, S.CLOSED, S.ABNORMAL):
        raise Invalid("refund.invalid_resolution", target=target)
    return change_case(deps, actor, case_id, lambda c, _uow, now: c.resolve(actor, status, reason, now))


def reroute(deps: Deps, actor: Actor, case_id: str, method: str, reason: str) -> RefundCase:
    """Pay a failed or abnormal refund away from its original route, with a reviewer's recorded reason."""
    actor.require("refund.reroute")
    return change_case(deps, actor, case_id, lambda c, _uow, now: c.reroute(actor, method, reason, now))


def confirm_payout(deps: Deps, actor: Actor, case_id: str, reference: str) -> RefundCase:
    """Cash handed over at the till, or a cheque cleared (finance enters the bank reference)."""
    actor.require("refund.confirm_payout")
    return change_case(deps, actor, case_id, lambda c, _uow, now: c.confirm_offline_payout(actor, reference, now))
