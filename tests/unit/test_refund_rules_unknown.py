"""The ``unknown`` refund (a card 退货 the channel can no longer tell about): reached only from ``processing`` on
an UNRESOLVED answer, never due for the sweep, settled only by evidence (the settlement file or a person with a
reason), its reservation held while unknown and let go of only on a proven failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posrefund.domain.channel import ChannelAnswer, Outcome
from posrefund.domain.errors import Conflict, DomainError, IllegalTransition, Invalid
from posrefund.domain.policy import RefundPolicy
from posrefund.domain.refund import NOT_SETTLED, TRANSITIONS, RefundCase, RefundStatus
from posrefund.domain.roles import Actor, Role
from tests.unit.test_domain import open_case

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
CASHIER = Actor("u_cashier", Role.CASHIER, "m1", terminal_id="t")
SUPERVISOR = Actor("u_sup", Role.SUPERVISOR, "m1")
S = RefundStatus


def processing_case() -> RefundCase:
    case = open_case(5_000, RefundPolicy(auto_approve_limit_fen=10_000))
    case.channel = "card"
    case.start_processing("refund", NOW)
    case.next_check_at = NOW + timedelta(seconds=30)
    return case


def unknown_case() -> RefundCase:
    case = processing_case()
    assert case.apply_answer(ChannelAnswer(Outcome.UNRESOLVED, code="NO_ANSWER"), NOW, "query")
    return case


def test_an_unresolved_answer_makes_a_processing_case_unknown_and_never_due() -> None:
    case = unknown_case()
    assert case.status is S.UNKNOWN
    assert case.next_check_at is None
    assert case.holds_reservation
    assert (case.pending_events[-1].action, case.pending_events[-1].before, case.pending_events[-1].after) == (
        "refund.unknown",
        "processing",
        "unknown",
    )


def test_unknown_is_reached_only_from_processing() -> None:
    assert [s for s, nxt in TRANSITIONS.items() if S.UNKNOWN in nxt] == [S.PROCESSING]
    assert TRANSITIONS[S.UNKNOWN] == frozenset({S.SUCCEEDED, S.FAILED, S.ABNORMAL})


answers = st.builds(
    ChannelAnswer,
    outcome=st.sampled_from(list(Outcome)),
    code=st.sampled_from(["", "00", "25", "TIMEOUT"]),
    channel_refund_id=st.sampled_from(["", "RRN9"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(answers, min_size=1, max_size=6))
def test_no_channel_answer_moves_an_unknown_case(seq: list[ChannelAnswer]) -> None:
    case = unknown_case()
    for answer in seq:
        assert case.apply_answer(answer, NOW, "callback") is False
    assert case.status is S.UNKNOWN
    assert case.next_check_at is None
    assert case.holds_reservation


@settings(max_examples=100, deadline=None)
@given(
    target=st.sampled_from(list(S)),
    source=st.sampled_from(["reconciliation", "person", "worker", "callback", "query"]),
    reason=st.sampled_from(["", "  ", "file 20261120.csv line 7"]),
)
def test_only_evidence_with_a_reason_settles_an_unknown_case(target: S, source: str, reason: str) -> None:
    case = unknown_case()
    allowed = source in ("reconciliation", "person") and reason.strip() and target in TRANSITIONS[S.UNKNOWN]
    if not allowed:
        with pytest.raises(DomainError):
            case.settle_by_evidence(target, SUPERVISOR, source, reason, NOW)
        assert case.status is S.UNKNOWN
        return
    case.settle_by_evidence(target, SUPERVISOR, source, reason, NOW)
    assert case.status is target
    assert case.next_check_at is None
    event = case.pending_events[-1]
    assert (event.before, event.after, event.reason, event.data) == (
        "unknown",
        target.value,
        reason,
        {"source": source},
    )
    assert case.holds_reservation is (target is S.ABNORMAL)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([s for s in S if s is not S.UNKNOWN]))
def test_settle_by_evidence_refuses_any_case_that_is_not_unknown(status: S) -> None:
    case = processing_case()
    case.status = status
    with pytest.raises(Conflict) as err:
        case.settle_by_evidence(S.SUCCEEDED, SUPERVISOR, "reconciliation", "file line 1", NOW)
    assert err.value.code == "refund.not_unknown"
    assert case.status is status


def test_a_person_resolves_an_unknown_case_with_a_reason_but_never_back_to_processing() -> None:
    case = unknown_case()
    with pytest.raises(Invalid):
        case.resolve(SUPERVISOR, S.SUCCEEDED, " ", NOW)
    with pytest.raises(IllegalTransition):
        case.resolve(SUPERVISOR, S.PROCESSING, "ask again", NOW)
    assert case.status is S.UNKNOWN
    case.resolve(SUPERVISOR, S.SUCCEEDED, "acquirer's hotline confirmed the refund", NOW)
    assert (case.status.value, case.succeeded_at) == ("succeeded", NOW)
    event = case.pending_events[-1]
    assert (event.action, event.actor.id, event.reason) == (
        "refund.resolved",
        "u_sup",
        "acquirer's hotline confirmed the refund",
    )


def test_a_proven_failure_releases_the_reservation_and_is_never_sent_again() -> None:
    case = unknown_case()
    case.settle_by_evidence(S.FAILED, SUPERVISOR, "reconciliation", "absent from two days' files", NOW)
    assert (case.status, case.last_code, case.holds_reservation) == (S.FAILED, NOT_SETTLED, False)
    with pytest.raises(Conflict) as retried:
        case.retry(SUPERVISOR, "try again", NOW)
    assert retried.value.code == "refund.reservation_released"
    other = Actor("u_other", Role.SUPERVISOR, "m1")
    with pytest.raises(Conflict) as rerouted:
        case.reroute(other, "cash", "pay at the till", NOW)
    assert rerouted.value.code == "refund.reservation_released"
    assert case.status is S.FAILED


def test_every_status_has_a_chinese_and_an_english_label_for_staff_and_customers() -> None:
    from posrefund.domain.notification import STATUS_NAMES
    from posrefund.entrypoints.console.texts.core import LABELS_CORE

    for status in S:
        for labels in (LABELS_CORE["status"], STATUS_NAMES):
            zh, en = labels[status.value]
            assert zh and en and zh != en
