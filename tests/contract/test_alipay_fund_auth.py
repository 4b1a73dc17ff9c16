"""Contract: AlipayFundAuthChannel (freeze, unfreeze, conversion, queries, cancel) against the Alipay simulator over
real sockets. Requests are checked by the simulator's gateway (RSA2 with the app's key); answers are signed with
"Alipay's" key and verified by the adapter; the simulator's ledger counts what executed per operation number.
"""

from __future__ import annotations

import itertools
import json
import socket
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from posrefund.adapters.channels.alipay.fund_auth import AlipayFundAuthChannel
from posrefund.adapters.channels.alipay.fund_auth_mapping import AMOUNT_FEN
from posrefund.adapters.channels.alipay.gateway import AlipayGateway
from posrefund.adapters.channels.alipay.settings import alipay_fund_auth_from
from posrefund.config import ConfigError
from posrefund.domain.channel import ASK_AGAIN_SOON, ChannelAnswer, Outcome
from posrefund.domain.fund_hold import AUTH_NO, REST_FEN, TRADE_NO, HeldFunds, HoldOrder, HoldStep
from posrefund.simulators.alipay.crypto import BEIJING, TIME_FORMAT, rsa2_sign, rsa2_verify, sign_content
from posrefund.simulators.alipay.fund_auth_rules import FUND_AUTH_FAULTS
from posrefund.simulators.alipay.server import AlipayKeys, AlipaySimulator

TIMEOUT = 0.5
PAYER_CODE = "286648048691290423"  # a payment code as the payer's app shows it: 18 digits starting 28
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def keys() -> AlipayKeys:
    return AlipayKeys.generate()


@pytest.fixture
def sim(keys: AlipayKeys) -> Iterator[AlipaySimulator]:
    with AlipaySimulator(keys=keys, hang_seconds=1.5, max_clock_skew=300.0) as s:
        yield s


def make_channel(sim: AlipaySimulator, *, finish_on_completion: bool = False, **kw: Any) -> AlipayFundAuthChannel:
    """The channel on a gateway to ``sim``; ``kw`` changes the gateway's keys, URL or certificate mode."""
    line = {"app_id": sim.app_id, "app_private_key": sim.app_private_key_pem, "timeout": TIMEOUT} | kw
    line.setdefault("alipay_public_key", sim.alipay_public_key_pem)
    line.setdefault("gateway_url", sim.gateway_url)
    return AlipayFundAuthChannel(AlipayGateway(**line), finish_on_completion=finish_on_completion)


@pytest.fixture
def channel(sim: AlipaySimulator) -> AlipayFundAuthChannel:
    return make_channel(sim)


def new_hold(amount_fen: int = 10_000, auth_no: str = "") -> HeldFunds:
    now = datetime.now(UTC)
    return HeldFunds(
        channel="alipay",
        hold_no=f"HOLD{next(_ids):08d}",
        amount_fen=amount_fen,
        currency="CNY",
        held_at=now,
        expires_at=now + timedelta(days=30),
        channel_hold_id=auth_no,
    )


def step(kind: HoldStep, amount_fen: int, hold: HeldFunds, number: str = "", **kw: Any) -> HoldOrder:
    return HoldOrder(
        operation_no=number or f"OP{next(_ids):010d}",
        step=kind,
        amount_fen=amount_fen,
        currency="CNY",
        hold=hold,
        payer_code=PAYER_CODE if kind is HoldStep.HOLD else "",
        title="客房押金",
        **kw,
    )


def frozen(channel: AlipayFundAuthChannel, amount_fen: int = 10_000) -> HeldFunds:
    """A freeze that succeeded, as the hold records it afterwards (with Alipay's auth_no)."""
    hold = new_hold(amount_fen)
    answer = channel.execute(step(HoldStep.HOLD, amount_fen, hold))
    assert answer.outcome is Outcome.SUCCEEDED
    return _with(hold, answer)


def _with(hold: HeldFunds, answer: ChannelAnswer) -> HeldFunds:
    return replace(hold, channel_hold_id=answer.details[AUTH_NO])


def row(sim: AlipaySimulator, number: str) -> dict[str, Any]:
    [found] = [r for r in sim.fund_auth.ledger() if r["refund_no"] == number]
    return found


def holds(sim: AlipaySimulator, hold: HeldFunds) -> dict[str, Any]:
    [found] = [h for h in sim.fund_auth.holds() if h["out_order_no"] == hold.hold_no]
    return found


# ---- the whole flow ------------------------------------------------------------------------------------------


def test_freeze_then_part_converted_then_the_rest_released_moves_exactly_that(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    hold = new_hold(10_000)
    freeze = channel.execute(step(HoldStep.HOLD, 10_000, hold))
    assert (freeze.outcome, freeze.code) == (Outcome.SUCCEEDED, "SUCCESS")
    assert (freeze.details[AMOUNT_FEN], freeze.details[REST_FEN]) == ("10000", "10000")
    assert len(freeze.details[AUTH_NO]) == 28 and freeze.succeeded_at is not None
    hold = _with(hold, freeze)

    convert = step(HoldStep.COMPLETE, 6_000, hold)
    paid = channel.execute(convert)
    assert (paid.outcome, paid.details[AMOUNT_FEN], paid.details[AUTH_NO]) == (
        Outcome.SUCCEEDED,
        "6000",
        hold.channel_hold_id,
    )
    assert paid.details[TRADE_NO] == paid.channel_refund_id != ""
    assert channel.query(convert).details[TRADE_NO] == paid.details[TRADE_NO]
    assert holds(sim, hold) == {
        "auth_no": hold.channel_hold_id,
        "out_order_no": hold.hold_no,
        "order_status": "AUTHORIZED",
        "total_freeze_fen": 10_000,
        "total_unfreeze_fen": 0,
        "total_pay_fen": 6_000,
        "rest_fen": 4_000,
    }

    release = step(HoldStep.RELEASE, 4_000, hold)
    released = channel.execute(release)
    assert (released.outcome, released.details[AMOUNT_FEN], released.details[REST_FEN]) == (
        Outcome.SUCCEEDED,
        "4000",
        "0",
    )
    assert (released.details["total_pay_fen"], released.details["order_status"]) == ("6000", "FINISH")
    assert holds(sim, hold) == {
        "auth_no": hold.channel_hold_id,
        "out_order_no": hold.hold_no,
        "order_status": "FINISH",
        "total_freeze_fen": 10_000,
        "total_unfreeze_fen": 4_000,
        "total_pay_fen": 6_000,
        "rest_fen": 0,
    }
    ledger = [(r["operation"], r["amount_fen"], r["executions"], r["requests"]) for r in sim.fund_auth.ledger()]
    assert ledger == [("FREEZE", 10_000, 1, 1), ("UNFREEZE", 4_000, 1, 1), ("PAY", 6_000, 1, 1)]
    assert channel.execute(step(HoldStep.RELEASE, 1, hold)).code == "ORDER_ALREADY_FINISH"


def test_finish_on_completion_releases_the_rest_in_the_same_call(sim: AlipaySimulator) -> None:
    finishing = make_channel(sim, finish_on_completion=True)
    hold = frozen(finishing, 10_000)
    paid = finishing.execute(step(HoldStep.COMPLETE, 3_000, hold))
    assert paid.outcome is Outcome.SUCCEEDED
    summary = holds(sim, hold)
    assert (summary["order_status"], summary["total_pay_fen"], summary["total_unfreeze_fen"], summary["rest_fen"]) == (
        "FINISH",
        3_000,
        7_000,
        0,
    )
    refused = finishing.execute(step(HoldStep.RELEASE, 100, hold))
    assert (refused.outcome, refused.code) == (Outcome.DECLINED, "ORDER_ALREADY_FINISH")


# ---- the protocol: fields and signatures ---------------------------------------------------------------------


def test_requests_carry_exactly_alipays_fields(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, dict[str, Any]] = {}
    book = sim.fund_auth.book
    for name in ("freeze", "unfreeze", "detail_query", "cancel", "trade_pay", "trade_query"):
        real = getattr(book, name)
        monkeypatch.setattr(book, name, lambda biz, _n=name, _r=real: (seen.__setitem__(_n, biz), _r(biz))[1])
    hold = frozen(channel, 10_000)
    convert = step(HoldStep.COMPLETE, 2_000, hold)
    channel.execute(convert)
    channel.query(convert)
    release = step(HoldStep.RELEASE, 500, hold)
    channel.execute(release)
    channel.cancel_freeze(step(HoldStep.HOLD, 1, new_hold(1)))

    assert seen["freeze"] == {
        "out_order_no": hold.hold_no,
        "out_request_no": seen["freeze"]["out_request_no"],
        "order_title": "客房押金",
        "amount": "100.00",
        "product_code": "PRE_AUTH",
        "auth_code": PAYER_CODE,
        "auth_code_type": "bar_code",
    }
    assert seen["trade_pay"] == {
        "out_trade_no": convert.operation_no,
        "total_amount": "20.00",
        "subject": "客房押金",
        "product_code": "PRE_AUTH",
        "auth_no": hold.channel_hold_id,
        "auth_confirm_mode": "NOT_COMPLETE",
    }
    assert seen["trade_query"] == {"out_trade_no": convert.operation_no}
    assert seen["unfreeze"] == {
        "auth_no": hold.channel_hold_id,
        "out_request_no": release.operation_no,
        "amount": "5.00",
        "remark": "客房押金",
    }
    assert seen["detail_query"] == {"auth_no": hold.channel_hold_id, "out_request_no": release.operation_no}
    assert set(seen["cancel"]) == {"out_order_no", "out_request_no", "remark"}


def _raw_call(sim: AlipaySimulator, method: str, biz: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A request signed here, without the library: the exact answer text and its parsed envelope."""
    params = {
        "app_id": sim.app_id,
        "method": method,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": datetime.now(BEIJING).strftime(TIME_FORMAT),
        "version": "1.0",
        "biz_content": json.dumps(biz, ensure_ascii=False),
    }
    params["sign"] = rsa2_sign(sim.keys.app_private_key, sign_content(params))
    body = urlencode(params).encode()
    request = urllib.request.Request(
        sim.gateway_url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        text = str(answer.read().decode())
    return text, json.loads(text)


def test_answers_are_named_by_method_and_signed_over_their_exact_text(sim: AlipaySimulator) -> None:
    biz = {
        "out_order_no": "HOLDRAW1",
        "out_request_no": "OPRAW1",
        "order_title": "押金",
        "amount": "12.34",
        "product_code": "PRE_AUTH",
        "auth_code": PAYER_CODE,
        "auth_code_type": "bar_code",
    }
    text, envelope = _raw_call(sim, "alipay.fund.auth.order.freeze", biz)
    assert set(envelope) == {"alipay_fund_auth_order_freeze_response", "sign"}
    inner = text[text.index("{", 1) : text.index(',"sign"')]
    assert rsa2_verify(sim.keys.alipay_private_key.public_key(), inner, envelope["sign"])
    answer = envelope["alipay_fund_auth_order_freeze_response"]
    assert set(answer) == {
        "code",
        "msg",
        "auth_no",
        "out_order_no",
        "operation_id",
        "out_request_no",
        "amount",
        "status",
        "payer_logon_id",
        "payer_user_id",
        "gmt_trans",
    }
    assert (answer["code"], answer["amount"], answer["status"]) == ("10000", "12.34", "SUCCESS")
    _, detail = _raw_call(
        sim, "alipay.fund.auth.operation.detail.query", {"auth_no": answer["auth_no"], "out_request_no": "OPRAW1"}
    )
    fields = detail["alipay_fund_auth_operation_detail_query_response"]
    assert (fields["order_status"], fields["total_freeze_amount"], fields["rest_amount"]) == (
        "AUTHORIZED",
        "12.34",
        "12.34",
    )
    assert (fields["operation_type"], fields["total_pay_amount"]) == ("FREEZE", "0.00")


def test_a_request_signed_with_another_app_key_is_refused_before_anything_runs(sim: AlipaySimulator) -> None:
    stranger = make_channel(sim, app_private_key=AlipayKeys.generate().app_private_key_pem)
    hold = new_hold()
    answer = stranger.execute(step(HoldStep.HOLD, 10_000, hold))
    assert (answer.outcome, answer.code, answer.details["code"]) == (Outcome.DECLINED, "isv.invalid-signature", "40002")
    assert sim.fund_auth.ledger() == []


def test_an_answer_under_another_alipay_key_says_nothing_and_the_query_tells(sim: AlipaySimulator) -> None:
    trusting_the_wrong_key = make_channel(sim, alipay_public_key=AlipayKeys.generate().alipay_public_key_pem)
    order = step(HoldStep.HOLD, 10_000, new_hold())
    answer = trusting_the_wrong_key.execute(order)
    assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "RESPONSE_NOT_VERIFIED")
    assert row(sim, order.operation_no)["executions"] == 1  # it did happen: only a believed query may say so
    assert make_channel(sim).query(order).outcome is Outcome.SUCCEEDED


def test_certificate_mode_signs_and_verifies_the_fund_auth_calls() -> None:
    from posrefund.adapters.channels.alipay.certs import certificate_mode

    cert_keys = AlipayKeys.generate(certificate_mode=True)
    files = cert_keys.credentials()
    mode = certificate_mode(files["app_cert"], files["alipay_cert"], files["alipay_root_cert"])
    with AlipaySimulator(keys=cert_keys, max_clock_skew=300.0) as s:
        channel = make_channel(s, alipay_public_key=mode.alipay_public_key_pem, certificate=mode)
        assert channel.execute(step(HoldStep.HOLD, 100, new_hold(100))).outcome is Outcome.SUCCEEDED


# ---- faults --------------------------------------------------------------------------------------------------


def test_a_lost_freeze_answer_is_unknown_and_the_query_finds_the_freeze(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    order = step(HoldStep.HOLD, 10_000, new_hold())
    sim.fund_auth.set_fault(order.operation_no, "no_answer_after_accept")
    lost = channel.execute(order)
    assert (lost.outcome, lost.code, lost.details[ASK_AGAIN_SOON]) == (Outcome.UNKNOWN, "TIMEOUT", "yes")
    found = channel.query(order)
    assert (found.outcome, found.details[REST_FEN], found.details["order_status"]) == (
        Outcome.SUCCEEDED,
        "10000",
        "AUTHORIZED",
    )
    assert (row(sim, order.operation_no)["executions"], row(sim, order.operation_no)["requests"]) == (1, 1)


def test_a_slow_answer_past_the_timeout_is_unknown_and_executed_once(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    order = step(HoldStep.HOLD, 10_000, new_hold())
    sim.fund_auth.set_fault(order.operation_no, "latency", seconds=1.0)
    assert channel.execute(order).code == "TIMEOUT"
    again = channel.execute(order)  # the same number and body: the same freeze, answered as it stands
    assert (again.outcome, again.details[REST_FEN]) == (Outcome.SUCCEEDED, "10000")
    assert (row(sim, order.operation_no)["executions"], row(sim, order.operation_no)["requests"]) == (1, 2)


def test_a_5xx_without_effect_is_unknown_then_not_found_then_the_same_number_freezes(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    order = step(HoldStep.HOLD, 10_000, new_hold())
    sim.fund_auth.set_fault(order.operation_no, "http_500", applied=False)
    failed = channel.execute(order)
    assert (failed.outcome, failed.code) == (Outcome.UNKNOWN, "HTTP_500")
    missing = channel.query(order)
    assert (missing.outcome, missing.code) == (Outcome.NOT_FOUND, "AUTH_ORDER_NOT_EXIST")
    assert channel.execute(order).outcome is Outcome.SUCCEEDED
    assert (row(sim, order.operation_no)["executions"], row(sim, order.operation_no)["requests"]) == (1, 2)


def test_a_system_error_that_froze_all_the_same_is_unknown_and_the_query_tells(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    order = step(HoldStep.HOLD, 10_000, new_hold())
    sim.fund_auth.set_fault(order.operation_no, "system_error", applied=True)
    hidden = channel.execute(order)
    assert (hidden.outcome, hidden.code, hidden.details[ASK_AGAIN_SOON]) == (Outcome.UNKNOWN, "SYSTEM_ERROR", "yes")
    assert channel.query(order).outcome is Outcome.SUCCEEDED


def test_a_lost_unfreeze_answer_retried_with_the_same_number_unfreezes_once(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    hold = frozen(channel, 10_000)
    release = step(HoldStep.RELEASE, 2_500, hold)
    sim.fund_auth.set_fault(release.operation_no, "drop_after_accept")
    lost = channel.execute(release)
    assert (lost.outcome, lost.code) == (Outcome.UNKNOWN, "CONNECTION_ERROR")
    retried = channel.execute(release)
    assert (retried.outcome, retried.details[AMOUNT_FEN], retried.details[REST_FEN]) == (
        Outcome.SUCCEEDED,
        "2500",
        "7500",
    )
    assert (row(sim, release.operation_no)["executions"], row(sim, release.operation_no)["requests"]) == (1, 2)
    assert (holds(sim, hold)["total_unfreeze_fen"], holds(sim, hold)["rest_fen"]) == (2_500, 7_500)
    other_amount = channel.execute(step(HoldStep.RELEASE, 2_000, hold, number=release.operation_no))
    assert (other_amount.outcome, other_amount.code) == (Outcome.DECLINED, "ILLEGAL_ARGUMENT")
    assert holds(sim, hold)["rest_fen"] == 7_500


def test_a_conversion_sent_twice_pays_once_and_the_repeat_is_settled_by_the_trade_query(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    hold = frozen(channel, 10_000)
    convert = step(HoldStep.COMPLETE, 4_000, hold)
    sim.fund_auth.set_fault(convert.operation_no, "no_answer_after_accept")
    assert channel.execute(convert).code == "TIMEOUT"
    repeat = channel.execute(convert)  # Alipay answers ACQ.TRADE_HAS_SUCCESS; the adapter asks the trade query
    assert (repeat.outcome, repeat.code, repeat.details[AMOUNT_FEN]) == (Outcome.SUCCEEDED, "TRADE_SUCCESS", "4000")
    assert (row(sim, convert.operation_no)["executions"], holds(sim, hold)["total_pay_fen"]) == (1, 4_000)
    discordant = channel.execute(step(HoldStep.COMPLETE, 5_000, hold, number=convert.operation_no))
    assert (discordant.outcome, discordant.code) == (Outcome.DECLINED, "ACQ.CONTEXT_INCONSISTENT")


def test_a_freeze_the_payer_has_not_confirmed_is_unknown_until_cancelled(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    hold = new_hold(10_000)
    order = step(HoldStep.HOLD, 10_000, hold)
    sim.fund_auth.set_fault(order.operation_no, "payer_confirming")
    waiting = channel.execute(order)
    assert (waiting.outcome, waiting.code) == (Outcome.UNKNOWN, "INIT")
    assert (channel.query(order).outcome, channel.query(order).code) == (Outcome.UNKNOWN, "INIT")
    cancelled = channel.cancel_freeze(order)
    assert (cancelled.outcome, cancelled.code) == (Outcome.CLOSED, "CANCEL_CLOSE")
    assert channel.cancel_freeze(order).code == "CANCEL_CLOSE"
    assert (channel.query(order).outcome, holds(sim, hold)["total_freeze_fen"], holds(sim, hold)["order_status"]) == (
        Outcome.CLOSED,
        0,
        "CLOSED",
    )
    assert sim.fund_auth.payer_confirms(order.operation_no) is False  # too late: nothing is frozen after a cancel


def test_a_freeze_whose_answer_was_lost_is_cancelled_and_the_money_goes_back(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    hold = new_hold(10_000)
    order = step(HoldStep.HOLD, 10_000, hold)
    sim.fund_auth.set_fault(order.operation_no, "no_answer_after_accept")
    assert channel.execute(order).outcome is Outcome.UNKNOWN
    cancelled = channel.cancel_freeze(order)
    assert (cancelled.outcome, cancelled.code, cancelled.details["action"]) == (
        Outcome.CLOSED,
        "CANCEL_UNFREEZE",
        "unfreeze",
    )
    summary = holds(sim, hold)
    assert (summary["order_status"], summary["total_unfreeze_fen"], summary["rest_fen"]) == ("CLOSED", 10_000, 0)


# ---- refusals ------------------------------------------------------------------------------------------------


def test_refusals_are_declined_with_alipays_code_and_move_nothing(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    hold = frozen(channel, 10_000)
    too_much = channel.execute(step(HoldStep.RELEASE, 10_001, hold))
    assert (too_much.outcome, too_much.code, too_much.details["code"]) == (
        Outcome.DECLINED,
        "REQUEST_AMOUNT_EXCEED",
        "40004",
    )
    pay_too_much = channel.execute(step(HoldStep.COMPLETE, 10_001, hold))
    assert (pay_too_much.outcome, pay_too_much.code) == (Outcome.DECLINED, "ACQ.AUTH_AMOUNT_NOT_ENOUGH")
    assert holds(sim, hold)["rest_fen"] == 10_000

    assert channel.execute(step(HoldStep.RELEASE, 10_000, hold)).outcome is Outcome.SUCCEEDED  # all of it back
    closed = channel.execute(step(HoldStep.RELEASE, 1, hold))
    assert (closed.outcome, closed.code) == (Outcome.DECLINED, "ORDER_ALREADY_CLOSED")
    pay_closed = channel.execute(step(HoldStep.COMPLETE, 1, hold))
    assert (pay_closed.outcome, pay_closed.code) == (Outcome.DECLINED, "ACQ.AUTH_ORDER_HAS_CLOSED")
    summary = holds(sim, hold)
    assert (summary["order_status"], summary["total_pay_fen"], summary["total_unfreeze_fen"]) == ("CLOSED", 0, 10_000)


def test_a_planned_business_refusal_is_declined_with_its_code(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    order = step(HoldStep.HOLD, 10_000, new_hold())
    sim.fund_auth.set_fault(order.operation_no, "decline", code="PAYER_BALANCE_NOT_ENOUGH")
    answer = channel.execute(order)
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "PAYER_BALANCE_NOT_ENOUGH")
    assert channel.query(order).outcome is Outcome.NOT_FOUND


def test_what_is_no_alipay_operation_or_lacks_its_references_is_refused_before_sending(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    hold = new_hold(10_000, auth_no="2026120410002001000000000001")
    refusals = [
        channel.execute(step(HoldStep.CANCEL_COMPLETION, 100, hold)),
        channel.query(step(HoldStep.CANCEL_COMPLETION, 100, hold)),
        channel.execute(step(HoldStep.RELEASE, 100, new_hold())),  # no auth_no yet
        channel.execute(step(HoldStep.HOLD, 0, new_hold())),
        channel.execute(HoldOrder("OPX", HoldStep.HOLD, 100, "CNY", new_hold())),  # no payment code
        channel.execute(HoldOrder("OPY", HoldStep.COMPLETE, 100, "USD", hold)),
    ]
    assert [(a.outcome, a.code) for a in refusals] == [
        (Outcome.DECLINED, "posrefund.not_an_alipay_operation"),
        (Outcome.DECLINED, "posrefund.not_an_alipay_operation"),
    ] + [(Outcome.DECLINED, "posrefund.invalid_order")] * 4
    assert sim.fund_auth.ledger() == []


def test_queries_of_numbers_alipay_never_saw_are_not_found(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    hold = frozen(channel, 10_000)
    answers = [
        channel.query(step(HoldStep.HOLD, 100, new_hold())),
        channel.query(step(HoldStep.RELEASE, 100, hold)),
        channel.query(step(HoldStep.COMPLETE, 100, hold)),
    ]
    assert [(a.outcome, a.code) for a in answers] == [
        (Outcome.NOT_FOUND, "AUTH_ORDER_NOT_EXIST"),
        (Outcome.NOT_FOUND, "AUTH_OPERATION_NOT_EXIST"),
        (Outcome.NOT_FOUND, "ACQ.TRADE_NOT_EXIST"),
    ]


def test_a_refused_connection_is_not_sent(sim: AlipaySimulator) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    nowhere = make_channel(sim, gateway_url=f"http://127.0.0.1:{port}/gateway.do")
    order = step(HoldStep.HOLD, 100, new_hold(100))
    assert (nowhere.execute(order).outcome, nowhere.query(order).outcome) == (Outcome.NOT_SENT, Outcome.NOT_SENT)


def test_every_fund_auth_fault_can_be_planned(sim: AlipaySimulator) -> None:
    for name in sorted(FUND_AUTH_FAULTS):
        sim.fund_auth.set_fault(f"N-{name}", name)
    assert sim.fund_auth.supported_faults() == ["latency", "no_answer_after_accept", "system_error", "decline"]


# ---- configuration -------------------------------------------------------------------------------------------


def test_the_alipay_section_of_the_channels_file_builds_the_fund_auth_channel(sim: AlipaySimulator) -> None:
    section: dict[str, Any] = {
        "app_id": sim.app_id,
        "app_private_key": sim.app_private_key_pem,
        "alipay_public_key": sim.alipay_public_key_pem,
        "gateway_url": sim.gateway_url,
        "seller_id": "2088101106499364",
        "timeout": 2,
        "fund_auth_finish_on_completion": True,
    }

    def secret(s: dict[str, Any], key: str) -> str:
        return str(s[key])

    channel = alipay_fund_auth_from(section, secret)
    hold = frozen(channel, 1_000)
    assert channel.execute(step(HoldStep.COMPLETE, 400, hold)).outcome is Outcome.SUCCEEDED
    assert (holds(sim, hold)["order_status"], holds(sim, hold)["total_unfreeze_fen"]) == ("FINISH", 600)
    with pytest.raises(ConfigError, match="fund_auth_finish_on_completion must be true or false"):
        alipay_fund_auth_from(section | {"fund_auth_finish_on_completion": "yes"}, secret)


def test_side_doors_plan_fund_auth_faults_and_show_the_freezes(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    def side(method: str, name: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"{sim.base_url}/__sim__/{name}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.loads(answer.read())

    hold = new_hold(10_000)
    order = step(HoldStep.HOLD, 10_000, hold)
    assert side("POST", "fund-auth/faults", {"refund_no": order.operation_no, "fault": "payer_confirming"}) == {
        "ok": True
    }
    assert channel.execute(order).code == "INIT"
    assert side("POST", "fund-auth/confirm", {"out_request_no": order.operation_no}) == {"confirmed": True}
    assert channel.query(order).outcome is Outcome.SUCCEEDED
    [summary] = side("GET", "fund-auth/holds")
    assert (summary["out_order_no"], summary["rest_fen"], summary["order_status"]) == (
        hold.hold_no,
        10_000,
        "AUTHORIZED",
    )
    [entry] = side("GET", "fund-auth/ledger")
    assert (entry["refund_no"], entry["operation"], entry["executions"]) == (order.operation_no, "FREEZE", 1)


def test_concurrent_repeats_of_one_unfreeze_number_unfreeze_once(
    sim: AlipaySimulator, channel: AlipayFundAuthChannel
) -> None:
    hold = frozen(channel, 10_000)
    release = step(HoldStep.RELEASE, 3_000, hold)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: channel.execute(release), range(4)))
    assert [a.outcome for a in answers] == [Outcome.SUCCEEDED] * 4
    assert len({a.channel_refund_id for a in answers}) == 1  # one operation_id: the same unfreeze every time
    assert (row(sim, release.operation_no)["executions"], row(sim, release.operation_no)["requests"]) == (1, 4)
    assert holds(sim, hold)["rest_fen"] == 7_000
