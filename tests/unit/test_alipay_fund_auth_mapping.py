"""Alipay fund-authorisation answers → outcomes, for the answers the simulator does not give on its own: unsigned
ones, answers about another number, unreadable amounts, unknown states, gateway errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from posrefund.adapters.channels.alipay.fund_auth_mapping import (
    AMOUNT_FEN,
    cancel_answer,
    detail_answer,
    operation_answer,
    pay_answer,
    trade_answer,
)
from posrefund.domain.channel import ASK_AGAIN_SOON, Outcome
from posrefund.domain.fund_hold import AUTH_NO, REST_FEN, TRADE_NO, HeldFunds, HoldOrder, HoldStep

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
HOLD = HeldFunds("alipay", "HOLD1", 10_000, "CNY", NOW, NOW + timedelta(days=30), channel_hold_id="2026120410002001")


def order(kind: HoldStep = HoldStep.RELEASE, number: str = "OP1") -> HoldOrder:
    return HoldOrder(number, kind, 2_500, "CNY", HOLD)


def unfrozen(**changes: Any) -> dict[str, Any]:
    body = {
        "code": "10000",
        "msg": "Success",
        "auth_no": "2026120410002001",
        "out_order_no": "HOLD1",
        "operation_id": "20261204000000000007",
        "out_request_no": "OP1",
        "amount": "25.00",
        "status": "SUCCESS",
        "gmt_trans": "2026-12-04 20:00:01",
    }
    return body | changes


def test_a_signed_success_states_the_amount_in_fen_and_alipays_time() -> None:
    answer = operation_answer(unfrozen(), True, order())
    assert (answer.outcome, answer.code, answer.details[AMOUNT_FEN], answer.details[AUTH_NO]) == (
        Outcome.SUCCEEDED,
        "SUCCESS",
        "2500",
        "2026120410002001",
    )
    assert answer.succeeded_at == datetime(2026, 12, 4, 12, 0, 1, tzinfo=UTC)
    assert REST_FEN not in answer.details  # the unfreeze answer does not state it


@pytest.mark.parametrize(
    ("body", "signed", "expected"),
    [
        (unfrozen(), False, (Outcome.UNKNOWN, "RESPONSE_NOT_SIGNED")),
        (unfrozen(out_request_no="OP2"), True, (Outcome.UNKNOWN, "BAD_RESPONSE")),
        (unfrozen(amount="25.001"), True, (Outcome.UNKNOWN, "BAD_RESPONSE")),
        (unfrozen(status="PROCESSING"), True, (Outcome.UNKNOWN, "BAD_RESPONSE")),
        (unfrozen(status="INIT"), True, (Outcome.UNKNOWN, "INIT")),
        (unfrozen(status="CLOSED"), True, (Outcome.CLOSED, "CLOSED")),
        ({"code": "20000", "sub_code": "isp.unknow-error"}, True, (Outcome.UNKNOWN, "isp.unknow-error")),
        ({"code": "40004", "sub_code": "SYSTEM_ERROR"}, True, (Outcome.UNKNOWN, "SYSTEM_ERROR")),
        ({"code": "40004", "sub_code": "REQUEST_AMOUNT_EXCEED"}, True, (Outcome.DECLINED, "REQUEST_AMOUNT_EXCEED")),
        ({"code": "40004", "sub_code": "REQUEST_AMOUNT_EXCEED"}, False, (Outcome.UNKNOWN, "RESPONSE_NOT_SIGNED")),
        ({"code": "40002", "sub_code": "isv.invalid-app-id"}, False, (Outcome.DECLINED, "isv.invalid-app-id")),
    ],
)
def test_operation_answers(body: dict[str, Any], signed: bool, expected: tuple[Outcome, str]) -> None:
    answer = operation_answer(body, signed, order())
    assert (answer.outcome, answer.code) == expected


def test_transient_errors_are_asked_again_soon() -> None:
    answer = operation_answer({"code": "40004", "sub_code": "SYSTEM_ERROR"}, True, order())
    assert answer.details == {ASK_AGAIN_SOON: "yes"}


@pytest.mark.parametrize(
    ("body", "signed", "expected"),
    [
        ({"code": "40004", "sub_code": "AUTH_OPERATION_NOT_EXIST"}, True, Outcome.NOT_FOUND),
        ({"code": "40004", "sub_code": "AUTH_OPERATION_NOT_EXIST"}, False, Outcome.UNKNOWN),
        ({"code": "40004", "sub_code": "ILLEGAL_ARGUMENT"}, True, Outcome.UNKNOWN),  # a query never declines
        ({"code": "40002", "sub_code": "isv.invalid-signature"}, False, Outcome.UNKNOWN),
        (unfrozen(rest_amount="75.00", order_status="AUTHORIZED"), True, Outcome.SUCCEEDED),
    ],
)
def test_detail_answers(body: dict[str, Any], signed: bool, expected: Outcome) -> None:
    assert detail_answer(body, signed, order()).outcome is expected


def test_the_detail_query_states_what_stays_frozen() -> None:
    answer = detail_answer(unfrozen(rest_amount="75.00", total_pay_amount="0.00"), True, order())
    assert (answer.details[REST_FEN], answer.details["total_pay_fen"]) == ("7500", "0")


def paid(**changes: Any) -> dict[str, Any]:
    body = {
        "code": "10000",
        "msg": "Success",
        "trade_no": "2026120422001000000000000001",
        "out_trade_no": "OP1",
        "total_amount": "25.00",
        "gmt_payment": "2026-12-04 20:00:02",
    }
    return body | changes


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (paid(), (Outcome.SUCCEEDED, "TRADE_SUCCESS")),
        (paid(out_trade_no="OP9"), (Outcome.UNKNOWN, "BAD_RESPONSE")),
        (paid(trade_no=""), (Outcome.UNKNOWN, "TRADE_SUCCESS")),
        ({"code": "40004", "sub_code": "ACQ.TRADE_HAS_SUCCESS"}, (Outcome.UNKNOWN, "ACQ.TRADE_HAS_SUCCESS")),
        ({"code": "40004", "sub_code": "ACQ.AUTH_AMOUNT_NOT_ENOUGH"}, (Outcome.DECLINED, "ACQ.AUTH_AMOUNT_NOT_ENOUGH")),
        ({"code": "40004", "sub_code": "ACQ.SYSTEM_ERROR"}, (Outcome.UNKNOWN, "ACQ.SYSTEM_ERROR")),
    ],
)
def test_conversion_answers(body: dict[str, Any], expected: tuple[Outcome, str]) -> None:
    answer = pay_answer(body, True, order(HoldStep.COMPLETE))
    assert (answer.outcome, answer.code) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("TRADE_SUCCESS", Outcome.SUCCEEDED),
        ("TRADE_FINISHED", Outcome.SUCCEEDED),
        ("WAIT_BUYER_PAY", Outcome.UNKNOWN),
        ("TRADE_CLOSED", Outcome.CLOSED),
        ("SOMETHING_NEW", Outcome.UNKNOWN),
    ],
)
def test_trade_query_states(status: str, expected: Outcome) -> None:
    answer = trade_answer(paid(trade_status=status), True, order(HoldStep.COMPLETE))
    assert answer.outcome is expected
    if expected is Outcome.SUCCEEDED:
        assert (answer.details[TRADE_NO], answer.details[AMOUNT_FEN]) == ("2026120422001000000000000001", "2500")


def test_a_cancel_names_what_it_did() -> None:
    body = {"code": "10000", "auth_no": "A1", "out_request_no": "OP1", "action": "unfreeze"}
    answer = cancel_answer(body, True, order(HoldStep.HOLD))
    assert (answer.outcome, answer.code, answer.details[AUTH_NO]) == (Outcome.CLOSED, "CANCEL_UNFREEZE", "A1")
    strange = cancel_answer(body | {"action": "refund"}, True, order(HoldStep.HOLD))
    assert (strange.outcome, strange.code) == (Outcome.UNKNOWN, "BAD_RESPONSE")
