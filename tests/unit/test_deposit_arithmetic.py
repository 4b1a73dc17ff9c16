"""The deposit arithmetic (domain/deposits.py): 定金's 20 % cap and double return, 订金's documented costs,
押金's itemised deductions — by hand-worked tables and by properties over any amounts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posrefund.domain.deposits import (
    Deduction,
    DepositFacts,
    DepositKind,
    Ending,
    Returned,
    check_refund_within_terms,
    earnest_part,
    override,
    propose,
)
from posrefund.domain.errors import Invalid

K = DepositKind
E = Ending


def cost(fen: int, why: str = "已订食材") -> Deduction:
    return Deduction(fen, why, "evd_1")


# Worked by hand. Each row: kind, contract value, amount paid, ending, deductions (fen), costs allowed by the
# terms → expected back by the original route, expected penalty (by bank transfer), expected kept.
TABLE: list[tuple[DepositKind, int, int, Ending, tuple[int, ...], bool, int, int, int]] = [
    # 定金, within the cap: 2,000 yuan on a 10,000-yuan banquet (cap 2,000)
    (K.EARNEST, 1_000_000, 200_000, E.CUSTOMER_BREACH, (), False, 0, 0, 200_000),
    (K.EARNEST, 1_000_000, 200_000, E.MERCHANT_BREACH, (), False, 200_000, 200_000, 0),
    (K.EARNEST, 1_000_000, 200_000, E.MUTUAL, (), False, 200_000, 0, 0),
    (K.EARNEST, 1_000_000, 200_000, E.FORCE_MAJEURE, (), False, 200_000, 0, 0),
    (K.EARNEST, 1_000_000, 200_000, E.BOTH_BREACH, (), False, 200_000, 0, 0),
    (K.EARNEST, 1_000_000, 200_000, E.FULFILLED, (), False, 200_000, 0, 0),
    # 定金 above the cap: 3,000 paid on 10,000 → 2,000 is 定金, 1,000 an advance returned whatever happens
    (K.EARNEST, 1_000_000, 300_000, E.CUSTOMER_BREACH, (), False, 100_000, 0, 200_000),
    (K.EARNEST, 1_000_000, 300_000, E.MERCHANT_BREACH, (), False, 300_000, 200_000, 0),
    (K.EARNEST, 1_000_000, 300_000, E.FORCE_MAJEURE, (), False, 300_000, 0, 0),
    # the cap rounds down to the fen: 20 % of 333.33 yuan is 66.666 → 66.66 yuan of 定金
    (K.EARNEST, 33_333, 10_000, E.CUSTOMER_BREACH, (), False, 3_334, 0, 6_666),
    (K.EARNEST, 33_333, 10_000, E.MERCHANT_BREACH, (), False, 10_000, 6_666, 0),
    # 订金: 5,000 yuan for furniture; 800 yuan of documented costs where the terms allow them
    (K.ADVANCE, 5_000_000, 500_000, E.CUSTOMER_BREACH, (80_000,), True, 420_000, 0, 80_000),
    (K.ADVANCE, 5_000_000, 500_000, E.CUSTOMER_BREACH, (), False, 500_000, 0, 0),
    (K.ADVANCE, 5_000_000, 500_000, E.MERCHANT_BREACH, (), True, 500_000, 0, 0),
    (K.ADVANCE, 5_000_000, 500_000, E.MUTUAL, (30_000, 20_000), True, 450_000, 0, 50_000),
    # 押金: 1,000 yuan for a room key and minibar; a broken cup 50 yuan and a towel 80 yuan
    (K.SECURITY, 0, 100_000, E.ITEM_RETURNED, (), False, 100_000, 0, 0),
    (K.SECURITY, 0, 100_000, E.ITEM_RETURNED, (5_000, 8_000), False, 87_000, 0, 13_000),
    (K.SECURITY, 0, 100_000, E.ITEM_RETURNED, (100_000,), False, 0, 0, 100_000),
]


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"{r[0].value}-{r[2]}-{r[3].value}-{sum(r[4])}")
def test_hand_worked_table(row: tuple[DepositKind, int, int, Ending, tuple[int, ...], bool, int, int, int]) -> None:
    kind, contract, paid, ending, deductions, costs_ok, back, penalty, kept = row
    facts = DepositFacts(kind, paid, contract, costs_deductible=costs_ok)
    p = propose(facts, ending, [cost(d) for d in deductions])
    assert (p.back_total_fen, p.penalty_total_fen, p.kept_fen) == (back, penalty, kept)
    assert (p.back_now_fen, p.penalty_now_fen) == (back, penalty)
    assert all(s.zh and s.en for s in p.steps)


def test_the_explanation_names_each_step_of_the_arithmetic() -> None:
    p = propose(DepositFacts(K.EARNEST, 300_000, 1_000_000), E.MERCHANT_BREACH)
    zh = [s.zh for s in p.steps]
    assert zh[0] == "合同金额 ¥10,000.00 × 20% = 定金上限 ¥2,000.00（民法典第586条）"
    assert "定金部分 ¥2,000.00，超出部分 ¥1,000.00" in zh[1]
    assert "原路退还已付 ¥3,000.00" in zh[2] and "定金罚金 ¥2,000.00" in zh[2]
    assert "returned double" in p.steps[2].en


def test_a_second_proposal_pays_only_what_is_left() -> None:
    facts = DepositFacts(K.EARNEST, 300_000, 1_000_000)
    first = propose(facts, E.CUSTOMER_BREACH)
    assert first.back_now_fen == 100_000
    # Later found to be the merchant's fault: the rest of the deposit and the whole penalty remain.
    second = propose(facts, E.MERCHANT_BREACH, already=Returned(back_fen=first.back_now_fen))
    assert (second.back_now_fen, second.penalty_now_fen) == (200_000, 200_000)
    assert "已原路退还 ¥1,000.00" in second.steps[-1].zh
    third = propose(facts, E.MERCHANT_BREACH, already=Returned(300_000, 200_000))
    assert (third.back_now_fen, third.penalty_now_fen) == (0, 0)


@pytest.mark.parametrize(
    ("facts", "ending", "deductions", "code"),
    [
        (DepositFacts(K.EARNEST, 200_000, 1_000_000), E.ITEM_RETURNED, (), "deposit.ending_not_for_kind"),
        (DepositFacts(K.SECURITY, 100_000, 0), E.CUSTOMER_BREACH, (), "deposit.ending_not_for_kind"),
        (DepositFacts(K.EARNEST, 200_000, 1_000_000), E.CUSTOMER_BREACH, (1,), "deposit.deductions_not_allowed"),
        (DepositFacts(K.ADVANCE, 500_000, 0), E.CUSTOMER_BREACH, (1,), "deposit.costs_not_allowed"),
        (
            DepositFacts(K.ADVANCE, 500_000, 0, costs_deductible=True),
            E.MERCHANT_BREACH,
            (1,),
            "deposit.costs_not_allowed",
        ),
        (DepositFacts(K.SECURITY, 100_000, 0), E.ITEM_RETURNED, (100_001,), "deposit.deductions_exceed_terms"),
        (
            DepositFacts(K.SECURITY, 100_000, 0, max_deduction_bp=5_000),
            E.ITEM_RETURNED,
            (50_001,),
            "deposit.deductions_exceed_terms",
        ),
        (DepositFacts(K.EARNEST, 200_000, 100_000), E.MUTUAL, (), "deposit.contract_below_paid"),
    ],
)
def test_refusals(facts: DepositFacts, ending: Ending, deductions: tuple[int, ...], code: str) -> None:
    with pytest.raises(Invalid) as err:
        propose(facts, ending, [cost(d) for d in deductions])
    assert err.value.code == code


def test_a_deduction_needs_a_reason_and_evidence() -> None:
    facts = DepositFacts(K.SECURITY, 100_000, 0)
    with pytest.raises(Invalid) as err:
        propose(facts, E.ITEM_RETURNED, [Deduction(100, " ", "evd_1")])
    assert err.value.code == "deposit.deduction_reason_required"
    with pytest.raises(Invalid) as err:
        propose(facts, E.ITEM_RETURNED, [Deduction(100, "杯子破损", "")])
    assert err.value.code == "deposit.deduction_evidence_required"


def test_override_needs_a_reason_and_never_goes_beyond_what_was_paid() -> None:
    p = propose(DepositFacts(K.EARNEST, 200_000, 1_000_000), E.CUSTOMER_BREACH)
    with pytest.raises(Invalid) as err:
        override(p, 100_000, 0, "", Returned(), "CNY")
    assert err.value.code == "deposit.override_reason_required"
    with pytest.raises(Invalid) as err:
        override(p, 200_001, 0, "老顾客", Returned(), "CNY")
    assert err.value.code == "deposit.override_exceeds_paid"
    o = override(p, 100_000, 0, "老顾客，退一半", Returned(), "CNY")
    assert (o.back_total_fen, o.back_now_fen, o.kept_fen, o.overridden) == (100_000, 100_000, 100_000, True)
    assert "主管调整" in o.steps[-1].zh


def test_refund_within_terms() -> None:
    with pytest.raises(Invalid) as err:
        check_refund_within_terms(None, 0, 1)
    assert err.value.code == "deposit.proposal_required"
    check_refund_within_terms(100_000, 40_000, 60_000)
    with pytest.raises(Invalid) as err:
        check_refund_within_terms(100_000, 40_000, 60_001)
    assert (err.value.code, err.value.params["allowed_fen"]) == ("deposit.exceeds_terms", 60_000)


# ---- properties over any amounts ----
money = st.integers(min_value=1, max_value=10**10)
endings = st.sampled_from(sorted(set(E) - {E.ITEM_RETURNED}))


@given(contract=money, share=st.integers(min_value=1, max_value=100), ending=endings)
def test_earnest_cap_and_double_return(contract: int, share: int, ending: Ending) -> None:
    paid = max(1, contract * share // 100)
    p = propose(DepositFacts(K.EARNEST, paid, contract), ending)
    assert p.earnest_fen == earnest_part(paid, contract)
    assert p.earnest_fen * 100 <= contract * 20  # never more than 20 % of the contract is 定金
    assert p.earnest_fen + p.advance_fen == paid
    assert 0 <= p.back_total_fen <= paid  # never more back by the original route than was taken
    assert p.back_total_fen >= p.advance_fen  # the part above the cap always comes back
    assert p.back_total_fen + p.kept_fen == paid
    if ending is E.MERCHANT_BREACH:
        assert (p.back_total_fen, p.penalty_total_fen) == (paid, p.earnest_fen)  # 定金 returned double
    else:
        assert p.penalty_total_fen == 0
    if ending is E.CUSTOMER_BREACH:
        assert p.kept_fen == p.earnest_fen
    assert p.back_total_fen + p.penalty_total_fen <= paid + p.earnest_fen


@given(
    paid=money,
    costs=st.lists(st.integers(min_value=1, max_value=10**9), max_size=5),
    bp=st.integers(min_value=0, max_value=10_000),
    ending=endings,
)
def test_advance_costs(paid: int, costs: list[int], bp: int, ending: Ending) -> None:
    facts = DepositFacts(K.ADVANCE, paid, 0, costs_deductible=True, max_deduction_bp=bp)
    total = sum(costs)
    if total and (ending is E.MERCHANT_BREACH or total > paid * bp // 10_000):
        with pytest.raises(Invalid):
            propose(facts, ending, [cost(c) for c in costs])
        return
    p = propose(facts, ending, [cost(c) for c in costs])
    assert (p.back_total_fen, p.kept_fen, p.penalty_total_fen) == (paid - total, total, 0)
    assert 0 <= p.back_total_fen <= paid


@given(paid=money, items=st.lists(st.integers(min_value=1, max_value=10**9), max_size=6))
def test_security_deductions(paid: int, items: list[int]) -> None:
    facts = DepositFacts(K.SECURITY, paid, 0)
    total = sum(items)
    if total > paid:
        with pytest.raises(Invalid) as err:
            propose(facts, E.ITEM_RETURNED, [cost(i, "损坏") for i in items])
        assert err.value.code == "deposit.deductions_exceed_terms"
        return
    p = propose(facts, E.ITEM_RETURNED, [cost(i, "损坏") for i in items])
    assert (p.back_total_fen, p.deducted_fen, p.kept_fen) == (paid - total, total, total)
    assert len(p.steps) == 1 + len(items) + 1  # the deposit, one line per deduction, the sum


@given(
    contract=money,
    share=st.integers(min_value=1, max_value=100),
    first=endings,
    second=endings,
    returned_share=st.integers(min_value=0, max_value=100),
)
def test_linked_refunds_never_exceed_deposit_plus_penalty(
    contract: int, share: int, first: Ending, second: Ending, returned_share: int
) -> None:
    """Whatever was proposed and paid first, a later proposal pays only what is left: the original route
    never gives back more than was taken, and everything together never more than deposit + penalty."""
    paid = max(1, contract * share // 100)
    facts = DepositFacts(K.EARNEST, paid, contract)
    p1 = propose(facts, first)
    paid_back = p1.back_now_fen * returned_share // 100  # part of it went back (or is on its way)
    already = Returned(paid_back, p1.penalty_now_fen)
    p2 = propose(facts, second, already=already)
    assert already.back_fen + p2.back_now_fen <= paid
    assert already.back_fen + p2.back_now_fen == max(already.back_fen, p2.back_total_fen)
    total_out = already.back_fen + already.penalty_fen + p2.back_now_fen + p2.penalty_now_fen
    assert total_out <= paid + p1.earnest_fen


@given(paid=money, back=st.integers(min_value=0, max_value=10**10), already=st.integers(min_value=0, max_value=10**10))
def test_override_keeps_the_original_route_within_what_was_taken(paid: int, back: int, already: int) -> None:
    p = propose(DepositFacts(K.SECURITY, paid, 0), E.ITEM_RETURNED)
    already = min(already, paid)
    if back > paid:
        with pytest.raises(Invalid):
            override(p, back, 0, "理由", Returned(already), "CNY")
        return
    o = override(p, back, 0, "理由", Returned(already), "CNY")
    assert already + o.back_now_fen <= paid
