"""When the worker looks at a refund in flight again, and whether that look sends the refund or asks about it.

The channels set the pace, not the worker: WeChat wants a query no sooner than a minute after a refund was
taken, then backing off; Alipay ≥ 5–10 s. But an answer that told nothing (a 5xx, a system error, a read
timeout) is not a refund in flight: both wallets' documentation says to send the same request again, with the
same number, at once ("请使用相同参数再次调用"). Those answers carry ``ASK_AGAIN_SOON`` and are looked at again
after the channel's ``ask_again_after`` delays (seconds, a few times), not after its first-query minute. The
look is a query first: if the channel never took the refund it answers "not found" and the same number is sent
in the same step (``execution._call``); if it did, the query says where the refund is. Either way nothing is
sent twice under two numbers, and a refund the channel took is never paid twice (its number is idempotent).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from posrefund.domain.channel import ASK_AGAIN_SOON, ChannelAnswer, Outcome
from posrefund.domain.refund import RefundCase
from posrefund.ports import RefundAttempt
from posrefund.service.routing import ChannelRules

# Seconds to the next look at a refund the channel took: first after the channel's first-query delay, then
# growing (WeChat asks for a query no sooner than a minute after the refund; Alipay ≥ 5–10 s).
BACKOFF = (60, 120, 300, 600, 1800, 3600, 7200, 14400)
NOT_SENT_AGAIN = timedelta(seconds=5)  # a request that never left: nothing happened, send it again soon


def send_at_once(case: RefundCase, last: RefundAttempt | None) -> bool:
    """Whether a claim submits without asking first: a person's retry started a new hand-over (the failure was
    final for what was sent before), the channel refused the last attempt (a void after settlement), or its
    *submit* never left. A query that never left proves nothing about the submit before it: then ask again."""
    if case.submitted or last is None:
        return False
    if last.attempt_no < case.attempts or last.outcome == Outcome.DECLINED.value:
        return True
    return last.outcome == Outcome.NOT_SENT.value and last.call == "submit"


def unknown_run(attempts: Sequence[RefundAttempt]) -> int:
    """How many answers in a row, up to the newest finished attempt, told nothing (UNKNOWN): the early looks
    already spent on this refund. Attempts still open (the one being recorded) and stale ones do not count."""
    run = 0
    for attempt in reversed(attempts):
        if attempt.finished_at is None or attempt.outcome == "stale":
            continue
        if attempt.outcome != Outcome.UNKNOWN.value:
            break
        run += 1
    return run


def asks_again_soon(answer: ChannelAnswer) -> bool:
    """An answer that told nothing and that the channel says to follow at once (``ASK_AGAIN_SOON``)."""
    return answer.outcome is Outcome.UNKNOWN and bool(answer.details.get(ASK_AGAIN_SOON))


def next_look(
    rules: ChannelRules, case: RefundCase, answer: ChannelAnswer, now: datetime, switched: bool, early_looks: int
) -> None:
    """Set ``case.next_check_at``: at once after a method switch, soon after a request that never left or an
    answer the channel says to follow at once (while ``early_looks`` < the channel's allowance), otherwise on
    the channel's back-off (its first-query delay first)."""
    if switched:
        case.next_check_at = now
        return
    if answer.outcome is Outcome.NOT_SENT:
        case.next_check_at = now + NOT_SENT_AGAIN
        return
    if (
        answer.outcome is Outcome.UNKNOWN
        and answer.details.get(ASK_AGAIN_SOON)
        and early_looks < len(rules.ask_again_after)
    ):
        case.next_check_at = now + rules.ask_again_after[early_looks]
        return
    delay = BACKOFF[min(case.checks, len(BACKOFF) - 1)]
    if case.checks == 0:
        delay = int(rules.first_query_after.total_seconds())
    case.checks += 1
    case.next_check_at = now + timedelta(seconds=delay)
