"""Which adapter pays back which sale channel, under which of the channel's rules, and what is sent to it.

The worker (service/execution.py) asks the router for the adapter, the method (a card sale is voided while its
batch is open, refunded after), the channel's pacing rules, and how long a claim's lease must be."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import perf_counter

from posrefund.domain.card_method import choose_card_method
from posrefund.domain.channel import ChannelAnswer, Method, OriginalSale, RefundOrder
from posrefund.domain.refund import RefundCase
from posrefund.domain.sale import Sale, SettlementStatus
from posrefund.ports import CallbackVerifier, ChannelCall, PaymentChannel
from posrefund.ports.fund_holds import FundHoldChannel
from posrefund.service.leases import longest_call

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelRules:
    """What a channel asks of its callers; configurable per channel."""

    min_gap_same_order: timedelta = timedelta(0)  # WeChat: 60 s between refunds of one order; Alipay: 3 s
    first_query_after: timedelta = timedelta(seconds=60)
    max_calls_per_second: int = 0  # 0 = no limit; WeChat: 150 qps per merchant
    max_in_flight: int = 0  # calls at once from one worker process; 0 = as many as its threads
    # A refund number the channel failed is final there (WeChat, Alipay): a person's retry sends a new number,
    # linked to the old one. The card host takes the same number again under a new trace.
    failed_number_final: bool = False
    # After an answer that told nothing and that the channel says to follow at once (``ASK_AGAIN_SOON``): the
    # delays of the early looks (a query, then the same number again if the channel never took it); once they
    # are spent, the first-query delay and the back-off (service/pacing.py).
    ask_again_after: tuple[timedelta, ...] = ()


# The keys of a channel's section in the channels file that tune the worker (entrypoints/worker/refresh.py)
# rather than name the channel's account.
# Each key with the ChannelRules field it sets: a whole number, seconds, or a list of seconds.
RULE_COUNTS = {"max_in_flight": "max_in_flight", "calls_per_second": "max_calls_per_second"}
RULE_SECONDS = {"first_query_after_seconds": "first_query_after", "min_gap_same_order_seconds": "min_gap_same_order"}
RULE_DELAYS = {"ask_again_after_seconds": "ask_again_after"}
RULE_KEYS = (*RULE_COUNTS, *RULE_SECONDS, *RULE_DELAYS)


def _seconds(*delays: int) -> tuple[timedelta, ...]:
    return tuple(timedelta(seconds=d) for d in delays)


# WeChat: SYSTEM_ERROR → "retry with the same params, same out_refund_no"; Alipay: ACQ.SYSTEM_ERROR → "retry
# with the same out_request_no and amount, or query > 5 s" (CHANNELS.md). The card adapter resends itself.
DEFAULT_RULES: dict[str, ChannelRules] = {
    "wechat": ChannelRules(
        timedelta(seconds=60), timedelta(seconds=60), 150, failed_number_final=True, ask_again_after=_seconds(2, 5, 15)
    ),
    "alipay": ChannelRules(
        timedelta(seconds=3), timedelta(seconds=10), 100, failed_number_final=True, ask_again_after=_seconds(6, 10, 30)
    ),
    "card": ChannelRules(timedelta(0), timedelta(seconds=60), max_calls_per_second=50),
    "unionpay_qr": ChannelRules(timedelta(seconds=60), timedelta(seconds=60), 50, failed_number_final=True),
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
    # A claim's lease is the adapter's longest call plus this margin, renewed while the call runs.
    lease_margin: timedelta = timedelta(seconds=10)
    renew_leases: bool = True
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")  # on its attempts
    # Told of every channel call (the worker's metrics and log line): the service itself neither counts nor logs.
    observe: Callable[[ChannelCall], None] = lambda _call: None
    # The channels' fund-hold operations (card 预授权 …), executed by the worker as refunds are.
    holds: Mapping[str, FundHoldChannel] = field(default_factory=dict)

    def replace_overrides(self, fresh: Mapping[date, bool]) -> None:
        """Put the admins' override table in place of the shared map without a moment in which it is empty
        (another thread may be computing an arrival date from it)."""
        for day in set(self.overrides) - set(fresh):
            self.overrides.pop(day, None)
        self.overrides.update(fresh)

    def observed(self, case: RefundCase, call: Callable[[], tuple[ChannelAnswer, str]]) -> tuple[ChannelAnswer, str]:
        """Make one channel call and tell ``observe`` what it was, how it ended and how long it took. A failing
        observer is logged and forgotten: it must never cost a refund its recorded answer."""
        started = perf_counter()
        try:
            answer, source = call()
        except Exception:
            self._tell(case, "unknown", "error", "", started)
            raise
        self._tell(case, source, answer.outcome.value, answer.code, started)
        return answer, source

    def _tell(self, case: RefundCase, call: str, outcome: str, code: str, started: float) -> None:
        seconds = perf_counter() - started
        try:
            self.observe(ChannelCall(case.id, case.request_id, case.channel, case.method, call, outcome, code, seconds))
        except Exception:
            log.warning("the channel call observer failed", exc_info=True)

    def lease_for(self, channel: str) -> timedelta:
        return longest_call(self.channels.get(channel)) + self.lease_margin

    def method_for(self, sale: Sale, case: RefundCase, now: datetime) -> Method:
        if sale.channel.value == "cash":
            return Method.CASH
        if sale.channel.value == "cheque":
            return Method.CHEQUE
        if sale.channel.value == "transfer":
            return Method.TRANSFER
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


def order_of(case: RefundCase, sale: Sale, terminal_no: str, merchant_no: str = "") -> RefundOrder:
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
            merchant_no=merchant_no,
            settled=sale.settlement_status is SettlementStatus.SETTLED,
            channel_trade_no=sale.channel_trade_no,
        ),
    )
