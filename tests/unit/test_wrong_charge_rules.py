"""The wrong-charge aggregate's rules: random sequences of intents stay inside the one table of transitions,
a started correction is never started twice, and every refused move raises ``IllegalTransition`` and
changes nothing; plus the exact amendment, correction and vocabulary checks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posrefund.domain.errors import Conflict, DomainError, IllegalTransition, Invalid
from posrefund.domain.policy import Reason
from posrefund.domain.reconciliation import Cause, ContactMethod, DiscrepancyClass, Responsible
from posrefund.domain.roles import Actor, Role
from posrefund.domain.wrong_charge import (
    TERMINAL,
    TRANSITIONS,
    Amendment,
    Discrepancy,
    WrongCharge,
    WrongChargeStatus,
    case_text,
    check_discrepancy_free,
    choice,
)

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
RISK = Actor("r1", Role.RISK, "m1")
FINANCE = Actor("f1", Role.FINANCE, "m1")
W = WrongChargeStatus


def opened(
    cls: DiscrepancyClass = DiscrepancyClass.DUPLICATE_CHARGE, sale_id: str | None = "sal_2", line_id: int | None = 3
) -> WrongCharge:
    return WrongCharge.open(
        id="wch_1",
        merchant_id="m1",
        discrepancy=Discrepancy(id=7, run_id="run_1", cls=cls, sale_id=sale_id, line_id=line_id),
        evidence_ids=["ev_1", "ev_1"],
        cause=Cause.OPERATOR_ERROR,
        responsible=Responsible.MERCHANT_STAFF,
        analysis="收银员重复刷码",
        actor=RISK,
        now=NOW,
    )


# An intent and the state it asks for; None for the steps that keep the state (amend, link the refund).
Intent = tuple[WrongChargeStatus | None, Callable[[WrongCharge, datetime], object]]

amendments = st.builds(
    Amendment,
    cause=st.none() | st.sampled_from(list(Cause)),
    responsible=st.none() | st.sampled_from(list(Responsible)),
    analysis=st.none() | st.sampled_from(["", "重复刷码", "系统故障"]),
    evidence_ids=st.none() | st.lists(st.sampled_from(["ev_1", "ev_2", "ev_3"]), unique=True),
    contact_method=st.none() | st.sampled_from(list(ContactMethod)),
    contact_note=st.sampled_from(["", "已致电致歉"]),
)


def _amend(change: Amendment) -> Intent:
    return None, lambda wc, at: wc.amend(change, FINANCE, at)


def _start(amount: int | None) -> Intent:
    return W.CORRECTING, lambda wc, at: wc.start_correction(amount, 5_000, 5_000, at)


def _link(refund_id: str) -> Intent:
    return None, lambda wc, at: wc.link_correction(refund_id, "R" + refund_id, 5_000, FINANCE, at)


intents = st.one_of(
    amendments.map(_amend),
    st.sampled_from([None, 100, 5_000]).map(_start),
    st.sampled_from(["rfd_1", "rfd_2"]).map(_link),
)


@settings(max_examples=300)
@given(st.lists(intents, max_size=12), st.sampled_from(list(DiscrepancyClass)), st.sampled_from(["sal_2", None]))
def test_random_intents_stay_inside_the_table_and_refusals_change_nothing(
    steps: list[Intent], cls: DiscrepancyClass, sale_id: str | None
) -> None:
    wc = opened(cls, sale_id)
    for n, (target, act) in enumerate(steps):
        before = copy.deepcopy(wc)
        try:
            act(wc, NOW + timedelta(minutes=n))
        except IllegalTransition as refused:
            assert target is not None and target not in TRANSITIONS[before.status]
            assert (refused.current, refused.target) == (before.status.value, target.value)
            assert refused.code == "recon.correction_started"
            assert refused.params == {"refund_id": before.correction_refund_id}
            assert wc == before
        except (Invalid, Conflict) as other:
            assert other.code in {"recon.no_sale", "recon.amount_required", "recon.case_changed"}
            assert wc == before
        else:
            assert wc.status is (target or before.status)
            assert target is None or target in TRANSITIONS[before.status]
        assert wc.status in TRANSITIONS
        if before.status in TERMINAL:
            assert wc.status is before.status
            assert not before.correction_refund_id or wc.correction_refund_id == before.correction_refund_id
        assert bool(wc.correction_refund_id) <= (wc.status is W.CORRECTING)  # a refund only once correcting


def test_the_table_of_states_and_moves() -> None:
    assert [s.value for s in W] == ["open", "correcting"]  # what the table stores
    assert {W.OPEN: {W.CORRECTING}, W.CORRECTING: set()} == TRANSITIONS
    assert {W.CORRECTING} == TERMINAL


def test_opening_records_the_discrepancy_and_the_first_analysis() -> None:
    wc = opened()
    assert (wc.status, wc.evidence_ids, wc.version, wc.contact_method) == (W.OPEN, ["ev_1"], 0, None)
    (event,) = wc.pending_events
    assert (event.action, event.before, event.after, event.reason) == (
        "wrong_charge.opened",
        None,
        "open",
        "收银员重复刷码",
    )
    assert event.data == {
        "discrepancy_id": 7,
        "run_id": "run_1",
        "discrepancy_class": "duplicate_charge",
        "line_id": 3,
        "sale_id": "sal_2",
        "evidence_ids": ["ev_1"],
        "cause": "operator_error",
        "responsible": "merchant_staff",
    }


def test_an_amendment_records_only_what_changed_with_its_before() -> None:
    wc = opened()
    assert not wc.amend(Amendment(cause=Cause.OPERATOR_ERROR, analysis="收银员重复刷码"), FINANCE, NOW)
    assert len(wc.pending_events) == 1 and wc.updated_at == NOW  # nothing changed, nothing recorded
    later = NOW + timedelta(hours=1)
    assert wc.amend(Amendment(cause=Cause.SYSTEM_FAULT, evidence_ids=["ev_1", "ev_2"]), FINANCE, later)
    updated = wc.pending_events[-1]
    assert (updated.action, updated.before, updated.after) == ("wrong_charge.updated", "open", "open")
    assert updated.data == {
        "changed": {"cause": "system_fault", "evidence_ids": ["ev_1", "ev_2"]},
        "was": {"cause": "operator_error", "evidence_ids": ["ev_1"]},
    }
    assert wc.amend(Amendment(contact_method=ContactMethod.PHONE, contact_note="已致电致歉"), FINANCE, later)
    contacted = wc.pending_events[-1]
    assert contacted.action == "wrong_charge.customer_contacted"
    assert contacted.data == {
        "changed": {"contact_method": "phone", "contact_note": "已致电致歉"},
        "was": {"contact_method": "", "contact_note": ""},
    }
    assert (wc.contacted_at, wc.updated_at) == (later, later)
    again = later + timedelta(hours=1)  # the same call made again: only the time of contact moves
    assert wc.amend(Amendment(contact_method=ContactMethod.PHONE, contact_note="已致电致歉"), FINANCE, again)
    assert (wc.pending_events[-1].action, wc.pending_events[-1].data) == (
        "wrong_charge.updated",
        {"changed": {}, "was": {}},
    )


def test_a_correction_starts_once_and_is_linked_to_its_refund() -> None:
    wc = opened()
    assert wc.refund_reason is Reason.DUPLICATE_CHARGE
    assert wc.start_correction(None, 5_000, 5_000, NOW) == 5_000  # the whole duplicate
    assert wc.status is W.CORRECTING
    before = copy.deepcopy(wc)
    with pytest.raises(IllegalTransition) as e:
        wc.start_correction(100, None, None, NOW)
    assert (e.value.code, e.value.params, wc) == ("recon.correction_started", {"refund_id": ""}, before)
    wc.link_correction("rfd_9", "R9", 5_000, FINANCE, NOW)
    started = wc.pending_events[-1]
    assert (started.action, started.before, started.after) == ("wrong_charge.correction_started", "open", "correcting")
    assert started.data == {
        "amount_fen": 5_000,
        "refund_no": "R9",
        "wrong_charge_id": "wch_1",
        "discrepancy_id": 7,
        "refund_id": "rfd_9",
    }
    with pytest.raises(Conflict) as linked:
        wc.link_correction("rfd_10", "R10", 5_000, FINANCE, NOW)
    assert linked.value.code == "recon.case_changed" and wc.correction_refund_id == "rfd_9"
    with pytest.raises(IllegalTransition) as twice:
        wc.start_correction(None, 5_000, 5_000, NOW)
    assert twice.value.params == {"refund_id": "rfd_9"}


def test_a_correction_needs_our_sale_or_the_channels_line_and_an_amount() -> None:
    with pytest.raises(Invalid) as no_sale:
        opened(DiscrepancyClass.MISSING_AT_CHANNEL, sale_id=None, line_id=None).start_correction(100, None, 100, NOW)
    assert no_sale.value.code == "recon.no_sale"
    # A charge only the channel's file shows is corrected by the channel's reference (its line names it).
    assert opened(DiscrepancyClass.MISSING_HERE, sale_id=None).start_correction(100, None, 100, NOW) == 100
    fee = opened(DiscrepancyClass.FEE_MISMATCH)
    with pytest.raises(Invalid) as no_amount:
        fee.start_correction(None, 5_000, 5_000, NOW)
    assert (no_amount.value.code, fee.status) == ("recon.amount_required", W.OPEN)
    assert fee.refund_reason is Reason.WRONG_AMOUNT
    assert opened(DiscrepancyClass.AMOUNT_MISMATCH).start_correction(None, 4_000, 5_000, NOW) == 1_000
    assert opened(DiscrepancyClass.MISSING_AT_CHANNEL).refund_reason is Reason.TRANSACTION_ERROR


def test_vocabularies_texts_and_the_one_case_per_discrepancy_rule() -> None:
    cases: list[tuple[Callable[[], object], str, dict[str, object]]] = [
        (lambda: choice(Cause, "bad_luck", "cause"), "recon.invalid_field", {"field": "cause", "value": "bad_luck"}),
        (lambda: case_text("x" * 1_001, "analysis"), "request.field_too_long", {"field": "analysis", "max": 1_000}),
        (lambda: check_discrepancy_free("wch_1", "", False), "recon.case_exists", {"wrong_charge_id": "wch_1"}),
        (lambda: check_discrepancy_free("", "ignored", False), "recon.already_resolved", {"resolution": "ignored"}),
        (lambda: check_discrepancy_free("", "", True), "recon.already_resolved", {"resolution": "cleared"}),
    ]
    for call, code, params in cases:
        with pytest.raises(DomainError) as e:
            call()
        assert (e.value.code, e.value.params) == (code, params)
    assert choice(ContactMethod, "in_person", "contact_method") is ContactMethod.IN_PERSON
    assert case_text("  重复刷码 ", "analysis") == "重复刷码"
    check_discrepancy_free("", "", False)
