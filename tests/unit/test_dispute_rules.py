"""The dispute aggregate's rules: random sequences of intents stay inside the one table of transitions, a
closed dispute stays closed, and every refused move raises ``IllegalTransition`` and changes nothing; plus
the exact steps of a dispute's life and the checks on what people type."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posrefund.domain.dispute import (
    MAX_EVIDENCE,
    OPEN_STATES,
    TERMINAL,
    TRANSITIONS,
    Dispute,
    DisputeStatus,
    ThirdParty,
    check_claimed_amount,
    dispute_text,
    outcome_of,
    reference_text,
    refuse_second_dispute,
    status_filter,
    third_party,
)
from posrefund.domain.errors import Conflict, DomainError, IllegalTransition, Invalid
from posrefund.domain.roles import Actor, Role

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
CS = Actor("cs1", Role.CUSTOMER_SERVICE, "m1")
SUP = Actor("s1", Role.SUPERVISOR, "m1")
D = DisputeStatus


def opened(claimed_fen: int | None = 2_000, evidence: list[str] | None = None) -> Dispute:
    return Dispute.open(
        id="dsp_1",
        merchant_id="m1",
        case_id="rfd_1",
        claim="多收了 20 元",
        claimed_fen=claimed_fen,
        evidence_ids=evidence if evidence is not None else ["ev_1"],
        actor=CS,
        now=NOW,
    )


# An intent and the state it asks for; None for adding evidence, which asks to stay where the dispute is.
Intent = tuple[DisputeStatus | None, Callable[[Dispute, datetime], None]]


def _evidence(ids: list[str]) -> Intent:
    return None, lambda d, at: d.add_evidence(ids, CS, at)


def _escalate(party: ThirdParty) -> Intent:
    return D.ESCALATED, lambda d, at: d.escalate(party, "ref-1", CS, at)


def _uphold(new_case_id: str) -> Intent:
    return D.UPHELD, lambda d, at: d.uphold("调解确认", new_case_id, SUP, at)


def _reject() -> Intent:
    return D.REJECTED, lambda d, at: d.reject("已到账", SUP, at)


intents = st.one_of(
    st.lists(st.sampled_from([f"ev_{i}" for i in range(25)]), min_size=1, max_size=MAX_EVIDENCE + 2).map(_evidence),
    st.sampled_from(list(ThirdParty)).map(_escalate),
    st.sampled_from(["rfd_2", "rfd_3"]).map(_uphold),
    st.just(_reject()),
)


@settings(max_examples=300)
@given(st.lists(intents, max_size=15))
def test_random_intents_stay_inside_the_table_and_refusals_change_nothing(steps: list[Intent]) -> None:
    dispute = opened()
    for n, (target, act) in enumerate(steps):
        before = copy.deepcopy(dispute)
        wanted = target or before.status
        try:
            act(dispute, NOW + timedelta(minutes=n))
        except IllegalTransition as refused:
            assert wanted not in TRANSITIONS[before.status]
            assert (refused.code, refused.params) == ("dispute.closed", {"status": before.status.value})
            assert (refused.current, refused.target) == (before.status.value, wanted.value)
            assert dispute == before
        except Invalid as invalid:
            assert invalid.code == "dispute.too_much_evidence"
            assert dispute == before
        else:
            assert wanted in TRANSITIONS[before.status]
            assert dispute.status is wanted
            assert len(dispute.pending_events) == len(before.pending_events) + 1
        assert dispute.status in TRANSITIONS
        if before.status in TERMINAL:
            assert dispute == before
        assert len(dispute.evidence_ids) == len(set(dispute.evidence_ids)) <= MAX_EVIDENCE
        assert (dispute.closed_at is None) == dispute.is_open


def test_the_table_of_states_and_moves() -> None:
    assert [s.value for s in D] == ["open", "escalated", "upheld", "rejected"]  # what the table stores
    assert {D.UPHELD, D.REJECTED} == TERMINAL
    assert {D.OPEN, D.ESCALATED} == OPEN_STATES
    assert TRANSITIONS[D.ESCALATED] == {D.ESCALATED, D.UPHELD, D.REJECTED}  # no way back to plain open
    assert issubclass(IllegalTransition, Conflict)


def test_a_dispute_from_claim_to_upheld_records_each_step_for_the_case_timeline() -> None:
    dispute = opened(evidence=["ev_1", "ev_1"])
    assert (dispute.status, dispute.evidence_ids, dispute.version) == (D.OPEN, ["ev_1"], 1)
    dispute.add_evidence(["ev_2", "ev_1", "ev_2"], CS, NOW + timedelta(hours=1))
    assert dispute.evidence_ids == ["ev_1", "ev_2"]
    dispute.escalate(ThirdParty.MEDIATION, "消协 2026-118", CS, NOW + timedelta(hours=2))
    dispute.escalate(ThirdParty.ARBITRATION, "仲裁 7", CS, NOW + timedelta(hours=3))  # handed on
    assert (dispute.status, dispute.escalated_to, dispute.escalation_ref) == (
        D.ESCALATED,
        ThirdParty.ARBITRATION,
        "仲裁 7",
    )
    assert dispute.upheld_amount(None) == 2_000 and dispute.upheld_amount(1_500) == 1_500
    closed_at = NOW + timedelta(days=3)
    dispute.uphold("调解确认多收 20 元", "rfd_9", SUP, closed_at)
    assert (dispute.status, dispute.new_case_id, dispute.closed_at, dispute.outcome_reason) == (
        D.UPHELD,
        "rfd_9",
        closed_at,
        "调解确认多收 20 元",
    )
    assert not dispute.tells_customer_the_reason
    events = dispute.pending_events
    assert [e.action for e in events] == [
        "dispute.opened",
        "dispute.evidence_added",
        "dispute.escalated",
        "dispute.escalated",
        "dispute.upheld",
    ]
    assert events[0].data == {"dispute_id": "dsp_1", "claimed_fen": 2_000, "evidence_ids": ["ev_1"]}
    assert events[0].reason == "多收了 20 元"
    assert events[1].data == {"dispute_id": "dsp_1", "evidence_ids": ["ev_2", "ev_1"]}
    assert events[2].data == {"dispute_id": "dsp_1", "to": "mediation", "reference": "消协 2026-118"}
    assert (events[4].actor, events[4].data) == (SUP, {"dispute_id": "dsp_1", "new_case_id": "rfd_9"})
    assert all(e.before is None and e.after is None for e in events)  # the refund case's status goes there


def test_a_rejected_dispute_tells_the_customer_and_refuses_everything_after() -> None:
    dispute = opened()
    dispute.reject("银行流水显示已到账", SUP, NOW)
    assert dispute.tells_customer_the_reason and dispute.new_case_id is None
    before = copy.deepcopy(dispute)
    refusals: list[Callable[[], None]] = [
        lambda: dispute.add_evidence(["ev_2"], CS, NOW),
        lambda: dispute.escalate(ThirdParty.ACQUIRER, "T-1", CS, NOW),
        lambda: dispute.uphold("x", "rfd_2", SUP, NOW),
        lambda: dispute.reject("again", SUP, NOW),
        lambda: dispute.check_move(D.UPHELD),
    ]
    for refuse in refusals:
        with pytest.raises(IllegalTransition) as e:
            refuse()
        assert (e.value.code, e.value.params) == ("dispute.closed", {"status": "rejected"})
        assert dispute == before


def test_the_upheld_amount_needs_a_positive_number_from_someone() -> None:
    dispute = opened(claimed_fen=None)
    for amount in (None, 0, -5, True):
        with pytest.raises(Invalid) as e:
            dispute.upheld_amount(amount)
        assert e.value.code == "dispute.amount_required"


def test_what_people_type_is_checked() -> None:
    cases: list[tuple[Callable[[], object], str, dict[str, object]]] = [
        (lambda: dispute_text("  ", "claim"), "dispute.text_required", {"field": "claim", "field_zh": "顾客诉求"}),
        (lambda: dispute_text("x" * 2001, "reason"), "request.field_too_long", {"field": "reason", "max": 2000}),
        (lambda: reference_text("r" * 65), "request.field_too_long", {"field": "reference", "max": 64}),
        (lambda: third_party("court"), "dispute.invalid_party", {"party": "court"}),
        (lambda: outcome_of("escalated"), "dispute.invalid_outcome", {"outcome": "escalated"}),
        (lambda: status_filter("closed"), "dispute.invalid_status", {"status": "closed"}),
        (lambda: check_claimed_amount(0), "refund.amount_not_positive", {"amount_fen": 0}),
        (lambda: check_claimed_amount(True), "refund.amount_not_positive", {"amount_fen": True}),
        (lambda: refuse_second_dispute([D.UPHELD, D.ESCALATED]), "dispute.already_open", {}),
    ]
    for call, code, params in cases:
        with pytest.raises(DomainError) as e:
            call()
        assert (e.value.code, e.value.params) == (code, params)
    with pytest.raises(Invalid) as card:
        dispute_text("卡号 4111 1111 1111 1111", "claim")
    assert card.value.code == "pan_detected"
    assert dispute_text("  多收了  ", "claim") == "多收了"
    assert (outcome_of("upheld"), status_filter(None), third_party("acquirer")) == (D.UPHELD, None, ThirdParty.ACQUIRER)
    refuse_second_dispute([D.UPHELD, D.REJECTED])  # closed ones do not block a new claim
