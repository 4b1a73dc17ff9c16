"""Pure rules: money, the status table, personal data, policy and review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from posrefund.domain.errors import Conflict, Forbidden, Invalid
from posrefund.domain.money import Money, format_yuan
from posrefund.domain.pii import (
    find_card_number,
    luhn_ok,
    mask_id_no,
    mask_phone,
    normalise_phone,
    validate_id_no,
    validate_payer_masked,
)
from posrefund.domain.policy import Reason, RefundPolicy, check_request
from posrefund.domain.refund import TERMINAL, TRANSITIONS, RefundCase, RefundStatus, check_transition
from posrefund.domain.roles import Actor, Role
from posrefund.domain.sale import Channel, Sale, SaleKind, SettlementStatus

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
CASHIER = Actor("u1", Role.CASHIER, "m1")
SUP = Actor("u2", Role.SUPERVISOR, "m1")
SUP2 = Actor("u3", Role.SUPERVISOR, "m1")
ADMIN = Actor("u4", Role.ADMIN, "m1")


def sale(**kw: object) -> Sale:
    base: dict[str, object] = {
        "id": "s1",
        "merchant_id": "m1",
        "store_id": "st",
        "terminal_id": "t",
        "channel": Channel.WECHAT,
        "kind": SaleKind.SALE,
        "amount_fen": 10_000,
        "fee_fen": 38,
        "currency": "CNY",
        "paid_at": NOW - timedelta(days=2),
        "settlement_status": SettlementStatus.SETTLED,
        "voucher_no": "000001",
        "rrn": "1",
        "batch_no": "1",
        "auth_code": "",
        "order_no": "o",
        "payer_masked": "o***",
    }
    base.update(kw)
    return Sale(**base)  # type: ignore[arg-type]


def test_money_is_integer_fen_and_refuses_floats_and_mixed_currencies() -> None:
    assert (Money(150) + Money(50)).fen == 200
    with pytest.raises(Invalid) as e:
        Money(1.5)  # type: ignore[arg-type]
    assert e.value.code == "money.not_integer"
    with pytest.raises(Invalid):
        Money(1, "CNY") + Money(1, "USD")
    assert format_yuan(123456) == "¥1,234.56"
    assert format_yuan(5) == "¥0.05"
    assert format_yuan(-100) == "-¥1.00"


def test_terminal_states_have_no_way_out_and_unknown_moves_are_refused() -> None:
    assert {RefundStatus.REJECTED, RefundStatus.CANCELLED, RefundStatus.SUCCEEDED, RefundStatus.CLOSED} == TERMINAL
    assert TRANSITIONS[RefundStatus.FAILED] == {RefundStatus.PROCESSING, RefundStatus.CLOSED, RefundStatus.ABNORMAL}
    with pytest.raises(Conflict) as e:
        check_transition(RefundStatus.SUCCEEDED, RefundStatus.PROCESSING)
    assert e.value.params == {"current": "succeeded", "target": "processing"}


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111111",
        "note 6222 0212 3456 7890 128 end",
        "5500-0000-0000-0004",
        "x378282246310005y",
        "621226120201158434" + "X",
    ],
)
def test_full_card_numbers_are_recognised_in_any_text(text: str) -> None:
    if text.endswith("X"):  # a 19-digit UnionPay number: complete it with its Luhn check digit
        text = luhn_complete(text[:-1])
    assert find_card_number(text)


def luhn_complete(body: str) -> str:
    return next(body + str(d) for d in range(10) if luhn_ok(body + str(d)))


@pytest.mark.parametrize(
    "text", ["4111111111111112", "622202******1234", "20261123000012345", "order 1234567890", "13812345678", ""]
)
def test_things_that_are_not_card_numbers_pass(text: str) -> None:
    assert not find_card_number(text)


def test_phone_and_id_numbers_are_validated_and_masked() -> None:
    assert normalise_phone("+86 138-1234-5678") == "13812345678"
    assert mask_phone("13812345678") == "138****5678"
    with pytest.raises(Invalid):
        normalise_phone("12345")
    assert validate_id_no("11010519491231002x") == "11010519491231002X"
    with pytest.raises(Invalid):
        validate_id_no("110105194912310021")
    assert mask_id_no("11010519491231002X") == "110***********002X"


def test_payer_must_be_masked() -> None:
    assert validate_payer_masked("622202******1234") == "622202******1234"
    with pytest.raises(Invalid) as e:
        validate_payer_masked("62220212345678901")
    assert e.value.code in {"pii.payer_not_masked", "pan_detected"}


def test_policy_names_every_rule_broken() -> None:
    policy = RefundPolicy(refund_window_days=1, evidence_required={"goods_quality": ["receipt"]})
    v = check_request(policy, sale(), 20_000, Reason.GOODS_QUALITY, set(), False, NOW)
    assert [x.code for x in v] == ["refund.exceeds_refundable", "policy.window_expired", "policy.evidence_required"]
    assert v[0].params == {"amount_fen": 20_000, "refundable_fen": 10_000}
    assert check_request(RefundPolicy(), sale(), 10_000, Reason.OTHER, set(), False, NOW) == []


def test_channel_window_wechat_one_year() -> None:
    old = sale(paid_at=NOW - timedelta(days=366))
    v = check_request(RefundPolicy(refund_window_days=1000), old, 100, Reason.OTHER, set(), False, NOW)
    assert [x.code for x in v] == ["policy.channel_window_expired"]


def test_partial_refund_count_limit() -> None:
    v = check_request(RefundPolicy(max_partial_refunds=2), sale(refund_count=2), 1, Reason.OTHER, set(), False, NOW)
    assert [x.code for x in v] == ["policy.partial_limit"]


def test_policy_from_dict_refuses_unknown_and_bad_values() -> None:
    with pytest.raises(Invalid) as e:
        RefundPolicy.from_dict({"refund_window_dayz": 3})
    assert e.value.code == "policy.unknown_field"
    with pytest.raises(Invalid):
        RefundPolicy.from_dict({"evidence_required": {"goods_quality": ["selfie"]}})
    with pytest.raises(Invalid):
        RefundPolicy.from_dict({"auto_approve_limit_fen": 10, "supervisor_limit_fen": 5})


def open_case(amount: int, policy: RefundPolicy | None = None) -> RefundCase:
    return RefundCase.open(
        id="r1",
        refund_no="RF1",
        merchant_id="m1",
        store_id="st",
        terminal_id="t",
        sale_id="s1",
        channel="wechat",
        amount_fen=amount,
        currency="CNY",
        reason=Reason.OTHER,
        note="",
        evidence_ids=[],
        actor=CASHIER,
        policy=policy or RefundPolicy(),
        now=NOW,
    )


def test_small_request_is_auto_approved_with_two_events() -> None:
    assert open_case(1).status is RefundStatus.PENDING_REVIEW  # the default policy auto-approves nothing
    case = open_case(5_000, RefundPolicy(auto_approve_limit_fen=10_000))
    assert case.status is RefundStatus.APPROVED
    assert [(e.action, e.before, e.after) for e in case.pending_events] == [
        ("refund.requested", None, "requested"),
        ("refund.auto_approved", "requested", "approved"),
    ]


def test_review_rules_self_two_person_and_limits() -> None:
    policy = RefundPolicy(auto_approve_limit_fen=100, supervisor_limit_fen=2_000_000, two_person_limit_fen=50_000)
    case = open_case(60_000, policy)
    assert case.status is RefundStatus.PENDING_REVIEW and case.required_approvals == 2
    with pytest.raises(Forbidden) as e:
        case.approve(CASHIER, policy, "", NOW)
    assert e.value.code == "auth.forbidden"
    own = Actor(CASHIER.id, Role.SUPERVISOR, "m1")
    with pytest.raises(Forbidden) as e:
        case.approve(own, policy, "", NOW)
    assert e.value.code == "review.self_approval"
    case.approve(SUP, policy, "ok", NOW)
    assert case.status is RefundStatus.PENDING_REVIEW
    with pytest.raises(Forbidden) as e:
        case.approve(SUP, policy, "again", NOW)
    assert e.value.code == "review.second_approver_required"
    case.approve(SUP2, policy, "ok too", NOW)
    assert case.status is RefundStatus.APPROVED and case.approved_by == [SUP.id, SUP2.id]


def test_supervisor_limit_needs_admin() -> None:
    policy = RefundPolicy(auto_approve_limit_fen=100, supervisor_limit_fen=1_000, two_person_limit_fen=10**9)
    case = open_case(5_000, policy)
    with pytest.raises(Forbidden) as e:
        case.approve(SUP, policy, "", NOW)
    assert e.value.code == "review.limit_exceeded"
    case.approve(ADMIN, policy, "", NOW)
    assert case.status is RefundStatus.APPROVED


def test_reject_needs_reason_and_cancel_only_by_requester_or_reviewer() -> None:
    case = open_case(50_000)
    with pytest.raises(Invalid):
        case.reject(SUP, "  ", NOW)
    with pytest.raises(Forbidden) as e:
        case.cancel(Actor("other", Role.CASHIER, "m1"), "", NOW)
    assert e.value.code == "refund.cancel_not_requester"
    case.cancel(CASHIER, "customer changed mind", NOW)
    assert case.status is RefundStatus.CANCELLED
    with pytest.raises(Conflict):
        case.approve(SUP, RefundPolicy(), "", NOW)
