"""Contract: AlipayChannel (through python-alipay-sdk) against the Alipay simulator, over real sockets.

Every request the adapter sent was checked against the app's public key (RSA2 over the sorted ``k=v&…``
string) and every answer it believed was signed with "Alipay's" key; notifications are received by a real HTTP
server here and verified with AlipayCallbackVerifier.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from alipay import AliPay, DCAliPay
from alipay.exceptions import AliPayException

from posrefund.adapters.channels.alipay.certs import certificate_mode
from posrefund.adapters.channels.alipay.client import AlipayCallbackVerifier, AlipayChannel
from posrefund.adapters.channels.alipay.mapping import fen_to_yuan, yuan_to_fen
from posrefund.domain.channel import (
    ASK_AGAIN_SOON,
    QUERY_NOW,
    REFUNDED_FEN,
    TRADE_REFUNDED_FEN,
    CallbackRejected,
    ChannelAnswer,
    Method,
    OriginalSale,
    Outcome,
    RefundOrder,
)
from posrefund.simulators.alipay.crypto import rsa2_sign, sign_content
from posrefund.simulators.alipay.server import FAULTS, AlipayKeys, AlipaySimulator

TIMEOUT = 0.5  # the adapter's timeout in these tests
NOTIFY_DELAY = 0.2  # ordinary notifications leave this long after the refund; early ones come before the answer
_ids = itertools.count(1)


# ---- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> AlipayKeys:
    return AlipayKeys.generate()


@pytest.fixture(scope="module")
def other_keys() -> AlipayKeys:
    """A second, unrelated key set: the "wrong key" in signature tests."""
    return AlipayKeys.generate(app_id="2021000000000999")


class Receiver:
    """The merchant's notify_url: a real HTTP server that records every body and answers ``success`` (or the
    replies queued in ``replies``, one per request)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.replies: list[str] = []
        self._cv = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cv:
                    receiver.bodies.append(body)
                    reply = receiver.replies.pop(0) if receiver.replies else "success"
                    receiver._cv.notify_all()
                raw = reply.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/alipay/notify"

    def wait(self, count: int, timeout: float = 3.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        with self._cv:
            while len(self.bodies) < count and (left := deadline - time.monotonic()) > 0:
                self._cv.wait(left)
            return list(self.bodies)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


def make_sim(keys: AlipayKeys, receiver: Receiver, **kw: Any) -> AlipaySimulator:
    args: dict[str, Any] = {
        "keys": keys,
        "notify_url": receiver.url,
        "notify_delay": NOTIFY_DELAY,
        "notify_retry_delays": (0.05, 0.05),
        "hang_seconds": 1.5,
        "min_gap_same_trade": 0.0,
        "max_clock_skew": 300.0,
    }
    args.update(kw)
    return AlipaySimulator(**args)


@pytest.fixture
def sim(keys: AlipayKeys, receiver: Receiver) -> Iterator[AlipaySimulator]:
    with make_sim(keys, receiver) as s:
        yield s


def make_channel(sim: AlipaySimulator, **kw: Any) -> AlipayChannel:
    args: dict[str, Any] = {
        "app_id": sim.app_id,
        "app_private_key": sim.app_private_key_pem,
        "alipay_public_key": sim.alipay_public_key_pem,
        "gateway_url": sim.gateway_url,
        "timeout": TIMEOUT,
    }
    args.update(kw)
    return AlipayChannel(**args)


@pytest.fixture
def channel(sim: AlipaySimulator) -> AlipayChannel:
    return make_channel(sim)


def make_verifier(sim: AlipaySimulator, **kw: Any) -> AlipayCallbackVerifier:
    args: dict[str, Any] = {"alipay_public_key": sim.alipay_public_key_pem, "app_id": sim.app_id}
    args.update(kw)
    return AlipayCallbackVerifier(**args)


def new_sale(sim: AlipaySimulator, amount_fen: int = 10_000, **kw: Any) -> OriginalSale:
    """A paid trade the simulator knows, as our side records it."""
    order_no = f"ORD{next(_ids):08d}"
    paid_at = kw.pop("paid_at", datetime.now(UTC) - timedelta(days=1))
    sim.add_payment(order_no, amount_fen, paid_at, **kw)
    return OriginalSale(channel="alipay", order_no=order_no, amount_fen=amount_fen, currency="CNY", paid_at=paid_at)


def order_for(sale: OriginalSale, amount_fen: int, refund_no: str | None = None) -> RefundOrder:
    return RefundOrder(
        refund_no=refund_no or f"RF{next(_ids):010d}",
        amount_fen=amount_fen,
        currency="CNY",
        reason="goods_quality",
        method=Method.REFUND,
        sale=sale,
    )


def rows(sim: AlipaySimulator, refund_no: str) -> list[dict[str, Any]]:
    return [r for r in sim.ledger() if r["refund_no"] == refund_no]


def trade_no_of(sim: AlipaySimulator, sale: OriginalSale) -> str:
    return sim.add_payment(sale.order_no, sale.amount_fen)  # registering again returns the existing trade_no


# ---- amounts -------------------------------------------------------------------------------------------------


def test_fen_become_yuan_with_two_decimals_using_integers_only() -> None:
    assert [fen_to_yuan(f) for f in (0, 1, 10, 100, 12_345, 123_456_789)] == [
        "0.00",
        "0.01",
        "0.10",
        "1.00",
        "123.45",
        "1234567.89",
    ]
    assert [yuan_to_fen(y) for y in ("0.01", "0.1", "12", "123.45")] == [1, 10, 1200, 12_345]
    assert [yuan_to_fen(y) for y in ("-1.00", "1.234", "1e3", "", " 1.00", None)] == [None] * 6
    with pytest.raises(ValueError):
        fen_to_yuan(-1)


# ---- submit and query ----------------------------------------------------------------------------------------


def test_refund_succeeds_with_fund_change_y_and_the_query_agrees(sim: AlipaySimulator, channel: AlipayChannel) -> None:
    sale = new_sale(sim, 20_000)
    orders = [order_for(sale, fen) for fen in (5, 100, 12_345)]
    answers = [channel.submit(o) for o in orders]

    trade_no = trade_no_of(sim, sale)
    for o, a in zip(orders, answers, strict=True):
        assert a.outcome is Outcome.SUCCEEDED, a
        assert a.channel_refund_id == trade_no
        assert a.details["fund_change"] == "Y"
        assert a.succeeded_at is not None and a.succeeded_at.tzinfo is not None
        assert [(r["amount_fen"], r["executed"], r["status"]) for r in rows(sim, o.refund_no)] == [
            (o.amount_fen, True, "REFUND_SUCCESS")
        ]
    assert answers[-1].details["refund_fee"] == "124.50"  # cumulative, in yuan: 0.05 + 1.00 + 123.45

    q = channel.query(orders[2])
    assert q.outcome is Outcome.SUCCEEDED
    assert (q.channel_refund_id, q.code, q.details["refund_amount"]) == (trade_no, "REFUND_SUCCESS", "123.45")
    assert q.succeeded_at == answers[2].succeeded_at.replace(microsecond=0)


def test_same_refund_no_twice_refunds_once_and_the_repeat_says_accepted(
    sim: AlipaySimulator, channel: AlipayChannel
) -> None:
    sale = new_sale(sim)
    order = order_for(sale, 3_000)

    first, second = channel.submit(order), channel.submit(order)

    assert first.outcome is Outcome.SUCCEEDED
    # Alipay answers a repeat with fund_change=N (nothing moved this time): not success by itself, so query.
    assert (second.outcome, second.code) == (Outcome.UNKNOWN, "FUND_CHANGE_N")
    assert (second.channel_refund_id, second.details["fund_change"]) == (first.channel_refund_id, "N")
    assert second.details["refund_fee"] == "30.00"
    assert len(rows(sim, order.refund_no)) == 1
    assert channel.query(order).outcome is Outcome.SUCCEEDED


def test_concurrent_repeats_of_one_refund_no_execute_once(sim: AlipaySimulator, channel: AlipayChannel) -> None:
    sale = new_sale(sim)
    order = order_for(sale, 2_500)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: channel.submit(order), range(6)))

    assert sorted(a.outcome for a in answers) == sorted([Outcome.SUCCEEDED] + [Outcome.UNKNOWN] * 5)
    assert [r["executed"] for r in sim.ledger()] == [True]


def test_same_refund_no_with_another_amount_is_a_discordant_repeat(
    sim: AlipaySimulator, channel: AlipayChannel
) -> None:
    sale = new_sale(sim)
    order = order_for(sale, 1_000)
    assert channel.submit(order).outcome is Outcome.SUCCEEDED

    other = channel.submit(replace(order, amount_fen=1_001))

    assert (other.outcome, other.code) == (Outcome.DECLINED, "ACQ.DISCORDANT_REPEAT_REQUEST")
    assert [r["amount_fen"] for r in rows(sim, order.refund_no)] == [1_000]


def test_query_states_the_amount_alipay_refunded_under_our_number(sim: AlipaySimulator, channel: AlipayChannel) -> None:
    """The success names the amount refunded under the number (REFUNDED_FEN): a case of another amount sends it
    to a person (domain.refund), one rule for every channel."""
    order = order_for(new_sale(sim), 1_000)
    assert channel.submit(order).outcome is Outcome.SUCCEEDED

    answer = channel.query(replace(order, amount_fen=999))

    assert (answer.outcome, answer.details[REFUNDED_FEN], answer.details["refund_amount"]) == (
        Outcome.SUCCEEDED,
        "1000",
        "10.00",
    )


def test_simulator_restarts_on_the_same_object(sim: AlipaySimulator) -> None:
    sim.stop()
    sim.start()
    order = order_for(new_sale(sim), 100)
    assert make_channel(sim).submit(order).outcome is Outcome.SUCCEEDED


def test_query_of_an_unknown_refund_no_or_trade_is_not_found(sim: AlipaySimulator, channel: AlipayChannel) -> None:
    sale = new_sale(sim)
    unknown_no = channel.query(order_for(sale, 100))
    assert unknown_no.outcome is Outcome.NOT_FOUND

    stranger = replace(sale, order_no="NEVER-PAID")
    unknown_trade = channel.query(order_for(stranger, 100))
    assert (unknown_trade.outcome, unknown_trade.code) == (Outcome.NOT_FOUND, "ACQ.TRADE_NOT_EXIST")


def test_over_refunds_are_declined_and_move_nothing(sim: AlipaySimulator, channel: AlipayChannel) -> None:
    sale = new_sale(sim, 10_000)
    too_much = channel.submit(order_for(sale, 10_001))
    assert (too_much.outcome, too_much.code) == (Outcome.DECLINED, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")

    assert channel.submit(order_for(sale, 6_000)).outcome is Outcome.SUCCEEDED
    cumulative = channel.submit(order_for(sale, 4_001))
    assert (cumulative.outcome, cumulative.code) == (Outcome.DECLINED, "ACQ.REASON_TRADE_REFUND_FEE_ERR")
    assert cumulative.message  # Alipay's sub_msg
    assert channel.submit(order_for(sale, 4_000)).outcome is Outcome.SUCCEEDED
    assert sorted(r["amount_fen"] for r in sim.ledger()) == [4_000, 6_000]


def test_refund_of_an_unknown_trade_is_declined(sim: AlipaySimulator, channel: AlipayChannel) -> None:
    stranger = OriginalSale("alipay", "NEVER-PAID", 1_000, "CNY", datetime.now(UTC))
    answer = channel.submit(order_for(stranger, 1_000))
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "ACQ.TRADE_NOT_EXIST")
    assert sim.ledger() == []


def test_refund_after_the_window_is_declined_as_finished(sim: AlipaySimulator, channel: AlipayChannel) -> None:
    sale = new_sale(sim, paid_at=datetime.now(UTC) - timedelta(days=366))
    answer = channel.submit(order_for(sale, 100))
    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "ACQ.TRADE_HAS_FINISHED")
    assert sim.ledger() == []


def test_non_cny_or_empty_orders_are_refused_before_calling(sim: AlipaySimulator, channel: AlipayChannel) -> None:
    sale = new_sale(sim)
    for bad in (replace(order_for(sale, 100), currency="USD"), order_for(sale, 0)):
        assert channel.submit(bad).outcome is Outcome.DECLINED
    assert sim.ledger() == []


# ---- faults --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "applied", "code"),
    [
        ("system_error", True, "ACQ.SYSTEM_ERROR"),
        ("service_unavailable", True, "isp.unknow-error"),
        ("http_500", True, "HTTP_500"),
        ("drop_after_accept", None, "CONNECTION_ERROR"),
        ("no_answer_after_accept", None, "TIMEOUT"),
    ],
)
def test_hidden_success_is_unknown_then_the_query_finds_it(
    sim: AlipaySimulator, channel: AlipayChannel, fault: str, applied: bool | None, code: str
) -> None:
    sale = new_sale(sim)
    order = order_for(sale, 1_500)
    sim.set_fault(order.refund_no, fault, applied=applied)

    started = time.monotonic()
    answer = channel.submit(order)

    assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, code)
    assert answer.details.get(ASK_AGAIN_SOON) == "yes"  # "retry with the same out_request_no, or query > 5 s"
    assert time.monotonic() - started < TIMEOUT + 0.5  # bounded by the adapter's timeout
    assert [r["executed"] for r in rows(sim, order.refund_no)] == [True]  # the money moved behind the error
    assert channel.query(order).outcome is Outcome.SUCCEEDED
    again = channel.submit(order)
    assert again.outcome is Outcome.UNKNOWN  # the retry with the same number moves nothing
    assert ASK_AGAIN_SOON not in again.details  # taken (fund_change=N): followed on the channel's delays
    assert len(rows(sim, order.refund_no)) == 1


@pytest.mark.parametrize(
    ("fault", "applied", "code"),
    [
        ("system_error", False, "ACQ.SYSTEM_ERROR"),
        ("system_error_no_effect", None, "ACQ.SYSTEM_ERROR"),
        ("service_unavailable", None, "isp.unknow-error"),
        ("http_500", None, "HTTP_500"),
    ],
)
def test_failure_without_effect_is_unknown_then_not_found_then_the_same_number_succeeds(
    sim: AlipaySimulator, channel: AlipayChannel, fault: str, applied: bool | None, code: str
) -> None:
    sale = new_sale(sim)
    order = order_for(sale, 1_500)
    sim.set_fault(order.refund_no, fault, applied=applied)

    answer = channel.submit(order)

    assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, code)
    assert answer.details.get(ASK_AGAIN_SOON) == "yes"
    assert sim.ledger() == []
    assert channel.query(order).outcome is Outcome.NOT_FOUND
    assert channel.submit(order).outcome is Outcome.SUCCEEDED
    assert [r["executed"] for r in rows(sim, order.refund_no)] == [True]


def test_system_error_hides_success_or_not_and_the_query_always_tells(keys: AlipayKeys, receiver: Receiver) -> None:
    with make_sim(keys, receiver, seed=7) as sim:
        channel = make_channel(sim)
        sale = new_sale(sim, 100_000)
        orders = [order_for(sale, 100) for _ in range(8)]
        for o in orders:
            sim.set_fault(o.refund_no, "system_error")  # applied: decided by the seeded coin
        assert {channel.submit(o).outcome for o in orders} == {Outcome.UNKNOWN}

        executed = {r["refund_no"] for r in sim.ledger() if r["executed"]}
        found = {o.refund_no: channel.query(o).outcome for o in orders}
        assert 0 < len(executed) < len(orders)  # seed 7 gives both cases
        assert found == {
            o.refund_no: Outcome.SUCCEEDED if o.refund_no in executed else Outcome.NOT_FOUND for o in orders
        }


@pytest.mark.parametrize(
    ("fault", "code", "expected"),
    [
        ("decline", "", "ACQ.SELLER_BALANCE_NOT_ENOUGH"),
        ("decline", "ACQ.BUYER_NOT_EXIST", "ACQ.BUYER_NOT_EXIST"),
        ("closed", "", "ACQ.TRADE_HAS_CLOSE"),
        ("abnormal", "", "ACQ.BUYER_ERROR"),
    ],
)
def test_business_refusals_are_declined_with_alipays_sub_code(
    sim: AlipaySimulator, channel: AlipayChannel, fault: str, code: str, expected: str
) -> None:
    sale = new_sale(sim)
    order = order_for(sale, 800)
    sim.set_fault(order.refund_no, fault, code=code)

    answer = channel.submit(order)

    assert (answer.outcome, answer.code, answer.details["code"]) == (Outcome.DECLINED, expected, "40004")
    assert answer.message
    assert sim.ledger() == []
    # "a failed refund is resubmitted with the same number": once the cause is gone, it goes through.
    assert channel.submit(order).outcome is Outcome.SUCCEEDED


def test_fund_change_n_is_accepted_then_queries_show_no_status_until_success(
    sim: AlipaySimulator, channel: AlipayChannel
) -> None:
    sale = new_sale(sim)
    order = order_for(sale, 4_200)
    sim.set_fault(order.refund_no, "processing_then_success", times=2)

    first = channel.submit(order)
    assert (first.outcome, first.code, first.details["fund_change"]) == (Outcome.UNKNOWN, "FUND_CHANGE_N", "N")
    assert channel.query(order).outcome is Outcome.NOT_FOUND  # refund_status absent while in progress
    assert channel.submit(order).outcome is Outcome.UNKNOWN  # resubmitting the same number is harmless
    assert channel.query(order).outcome is Outcome.NOT_FOUND
    assert [r["executed"] for r in rows(sim, order.refund_no)] == [False]

    done = channel.query(order)
    assert done.outcome is Outcome.SUCCEEDED and done.succeeded_at is not None
    assert [r["executed"] for r in rows(sim, order.refund_no)] == [True]


def test_processing_for_seconds_is_done_once_its_time_has_passed(sim: AlipaySimulator, channel: AlipayChannel) -> None:
    order = order_for(new_sale(sim), 4_200)
    sim.set_fault(order.refund_no, "processing", seconds=0.5)

    assert channel.submit(order).code == "FUND_CHANGE_N"
    assert channel.query(order).outcome is Outcome.NOT_FOUND  # taken, not done yet
    time.sleep(0.6)
    assert channel.query(order).outcome is Outcome.SUCCEEDED
    assert [r["executed"] for r in rows(sim, order.refund_no)] == [True]


def test_refunds_of_one_trade_closer_than_the_gap_fail_without_effect(keys: AlipayKeys, receiver: Receiver) -> None:
    gap = 0.4
    with make_sim(keys, receiver, min_gap_same_trade=gap) as sim:
        channel = make_channel(sim)
        sale = new_sale(sim)
        first, second = order_for(sale, 100), order_for(sale, 200)
        assert channel.submit(first).outcome is Outcome.SUCCEEDED
        started = time.monotonic()

        hurried = channel.submit(second)

        assert (hurried.outcome, hurried.code) == (Outcome.UNKNOWN, "ACQ.SYSTEM_ERROR")
        assert channel.query(second).outcome is Outcome.NOT_FOUND
        time.sleep(max(0.0, gap - (time.monotonic() - started)) + 0.05)
        assert channel.submit(second).outcome is Outcome.SUCCEEDED
        assert channel.submit(first).outcome is Outcome.UNKNOWN  # a repeat is not a new refund: no gap needed


def test_rate_faults_are_seeded(keys: AlipayKeys, receiver: Receiver) -> None:
    with make_sim(keys, receiver, fault_rate=1.0, rate_faults=("system_error_no_effect",)) as sim:
        channel = make_channel(sim)
        order = order_for(new_sale(sim), 100)
        assert channel.submit(order).code == "ACQ.SYSTEM_ERROR"
        assert channel.submit(order).outcome is Outcome.SUCCEEDED  # one fault per number, then normal


def test_every_documented_fault_name_exists() -> None:
    assert {
        "no_answer_after_accept",
        "drop_after_accept",
        "system_error",
        "system_error_no_effect",
        "service_unavailable",
        "http_500",
        "decline",
        "closed",
        "abnormal",
        "processing_then_success",
        "duplicate_callback",
        "bad_signature_callback",
        "callback_before_query",
        "late_callback",  # shared names (simulators.common.faults)
        "latency",
    } == FAULTS


# ---- keys, signatures, transport -----------------------------------------------------------------------------


def test_request_signed_with_the_wrong_app_key_is_refused_before_anything_runs(
    sim: AlipaySimulator, other_keys: AlipayKeys
) -> None:
    channel = make_channel(sim, app_private_key=other_keys.app_private_key_pem)
    order = order_for(new_sale(sim), 100)

    answer = channel.submit(order)

    assert (answer.outcome, answer.code, answer.details["code"]) == (Outcome.DECLINED, "isv.invalid-signature", "40002")
    assert sim.ledger() == []
    queried = channel.query(order)  # a refused query says nothing about the refund
    assert (queried.outcome, queried.code) == (Outcome.UNKNOWN, "isv.invalid-signature")


def test_keys_may_be_given_as_bare_base64(sim: AlipaySimulator) -> None:
    def bare(pem: str) -> str:
        return "".join(line for line in pem.splitlines() if not line.startswith("-----"))

    channel = make_channel(
        sim, app_private_key=bare(sim.app_private_key_pem), alipay_public_key=bare(sim.alipay_public_key_pem)
    )
    assert channel.submit(order_for(new_sale(sim), 100)).outcome is Outcome.SUCCEEDED


def test_an_answer_that_fails_alipays_signature_is_unknown(sim: AlipaySimulator, other_keys: AlipayKeys) -> None:
    trusting_the_wrong_key = make_channel(sim, alipay_public_key=other_keys.alipay_public_key_pem)
    order = order_for(new_sale(sim), 100)

    answer = trusting_the_wrong_key.submit(order)

    assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "RESPONSE_NOT_VERIFIED")
    assert [r["executed"] for r in rows(sim, order.refund_no)] == [True]  # it did happen: only a query may say so
    assert make_channel(sim).query(order).outcome is Outcome.SUCCEEDED


def test_a_closed_port_is_unknown(sim: AlipaySimulator) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channel = make_channel(sim, gateway_url=f"http://127.0.0.1:{port}/gateway.do")
    order = order_for(new_sale(sim), 100)
    assert (channel.submit(order).outcome, channel.query(order).outcome) == (Outcome.UNKNOWN, Outcome.UNKNOWN)
    assert channel.submit(order).code == "CONNECTION_ERROR"


def test_the_gateway_wants_beijing_time_which_the_adapter_sends(sim: AlipaySimulator) -> None:
    """The library stamps ``timestamp`` with the host's local time; labelled UTC time is 8 h off and refused."""
    client = AliPay(
        appid=sim.app_id,
        app_private_key_string=sim.app_private_key_pem,
        alipay_public_key_string=sim.alipay_public_key_pem,
    )
    client._gateway = sim.gateway_url
    biz = {"out_trade_no": "ORD-X", "out_request_no": "R-X"}
    utc_wall = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    with pytest.raises(AliPayException) as refused:
        client.server_api("alipay.trade.fastpay.refund.query", biz_content=biz, timestamp=utc_wall)
    assert "isv.invalid-timestamp" in str(refused.value)
    assert make_channel(sim).query(order_for(new_sale(sim), 100)).outcome is Outcome.NOT_FOUND


# ---- notifications -------------------------------------------------------------------------------------------


def notice_of(sim: AlipaySimulator, body: bytes, **kw: Any) -> Any:
    return make_verifier(sim, **kw).verify({}, body)


def resign(body: bytes, key_pem_owner: AlipayKeys, **changes: str) -> bytes:
    """The same notification with fields changed and signed again with some key (here: a wrong one)."""
    params = dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
    params.update(changes)
    params.pop("sign", None)
    params.pop("sign_type", None)
    params["sign"] = rsa2_sign(key_pem_owner.alipay_private_key, sign_content(params, ("sign", "sign_type")))
    params["sign_type"] = "RSA2"
    return urlencode(params).encode("ascii")


def test_refund_notification_is_verified_and_mapped(
    sim: AlipaySimulator, channel: AlipayChannel, receiver: Receiver
) -> None:
    sale = new_sale(sim, 10_000)
    partial, rest = order_for(sale, 3_000), order_for(sale, 7_000)
    assert channel.submit(partial).outcome is Outcome.SUCCEEDED
    assert receiver.bodies == []  # an ordinary notification follows the answer, it does not precede it

    first = notice_of(sim, receiver.wait(1)[0])
    assert channel.submit(rest).outcome is Outcome.SUCCEEDED
    second = notice_of(sim, receiver.wait(2)[1])

    trade_no = trade_no_of(sim, sale)
    # A trade notification states what the whole trade has had refunded (总退款金额), not this refund's amount:
    # it asks for a query (QUERY_NOW) and settles nothing by itself.
    assert (first.refund_no, first.answer.outcome, first.answer.channel_refund_id) == (
        partial.refund_no,
        Outcome.UNKNOWN,
        trade_no,
    )
    assert (first.answer.code, first.answer.details[TRADE_REFUNDED_FEN], first.answer.details[QUERY_NOW]) == (
        "TRADE_SUCCESS",
        "3000",
        "yes",
    )
    assert (second.refund_no, second.answer.code, second.answer.details[TRADE_REFUNDED_FEN]) == (
        rest.refund_no,
        "TRADE_CLOSED",  # fully refunded: the trade closes
        "10000",  # both refunds: 30.00 + 70.00
    )
    assert REFUNDED_FEN not in second.answer.details
    delivered = sim.wait_notifications(2)
    assert [d["notify_id"] for d in delivered] == [first.notice_id, second.notice_id]
    assert {d["answer"] for d in delivered} == {"success"}


def test_tampered_forged_unsigned_stale_or_foreign_notifications_are_rejected(
    sim: AlipaySimulator, channel: AlipayChannel, receiver: Receiver, other_keys: AlipayKeys
) -> None:
    order = order_for(new_sale(sim, 10_000), 1_234)
    assert channel.submit(order).outcome is Outcome.SUCCEEDED
    body = receiver.wait(1)[0]
    assert notice_of(sim, body).refund_no == order.refund_no  # the genuine one passes

    params = dict(parse_qsl(body.decode("ascii")))
    at = body.index(b"&sign=") + len(b"&sign=")
    flipped = b"B" if body[at : at + 1] == b"A" else b"A"
    tampered = [
        body.replace(b"refund_fee=12.34", b"refund_fee=92.34"),  # one byte of the amount
        body.replace(f"out_biz_no={order.refund_no}".encode(), f"out_biz_no={order.refund_no[:-1]}X".encode()),
        body[:at] + flipped + body[at + 1 :],  # one byte of the signature
    ]
    for bad in tampered:
        assert bad != body
        with pytest.raises(CallbackRejected):
            notice_of(sim, bad)

    unsigned = urlencode({k: v for k, v in params.items() if k != "sign"}).encode()
    forged = resign(body, other_keys)  # well-formed, signed, but not with Alipay's key
    foreign_app = resign(body, sim.keys, app_id="2021000000000999")  # genuinely signed, for another app
    not_a_refund = resign(body, sim.keys, out_biz_no="", refund_fee="")
    rsa1 = body.replace(b"sign_type=RSA2", b"sign_type=RSA")
    for bad in (unsigned, forged, foreign_app, not_a_refund, rsa1, b"", b"\xff\xfe", body + b"&sign=again"):
        with pytest.raises(CallbackRejected):
            notice_of(sim, bad)

    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(CallbackRejected):
        notice_of(sim, body, clock=lambda: later)  # stale: sent an hour before "now"
    earlier = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(CallbackRejected):
        notice_of(sim, body, clock=lambda: earlier)  # from the future


def test_duplicate_callbacks_carry_the_same_notify_id(
    sim: AlipaySimulator, channel: AlipayChannel, receiver: Receiver
) -> None:
    order = order_for(new_sale(sim), 500)
    sim.set_fault(order.refund_no, "duplicate_callback")
    assert channel.submit(order).outcome is Outcome.SUCCEEDED

    notices = [notice_of(sim, b) for b in receiver.wait(2)]

    assert len(notices) == 2
    assert notices[0].notice_id == notices[1].notice_id
    assert {n.refund_no for n in notices} == {order.refund_no}


def test_a_wrongly_signed_callback_comes_first_and_is_rejected_then_the_genuine_one(
    sim: AlipaySimulator, channel: AlipayChannel, receiver: Receiver
) -> None:
    order = order_for(new_sale(sim), 500)
    sim.set_fault(order.refund_no, "bad_signature_callback")
    assert channel.submit(order).outcome is Outcome.SUCCEEDED

    forged, genuine = receiver.wait(2)[:2]

    with pytest.raises(CallbackRejected):
        notice_of(sim, forged)
    assert notice_of(sim, genuine).refund_no == order.refund_no
    assert [d["kind"] for d in sim.wait_notifications(2)] == ["forged", "trade"]


def test_early_callback_arrives_before_the_answer(
    sim: AlipaySimulator, channel: AlipayChannel, receiver: Receiver
) -> None:
    order = order_for(new_sale(sim), 700)
    sim.set_fault(order.refund_no, "callback_before_query")

    answer = channel.submit(order)

    assert len(receiver.bodies) == 1  # already there when the answer came back: no waiting
    assert answer.outcome is Outcome.SUCCEEDED
    assert notice_of(sim, receiver.bodies[0]).refund_no == order.refund_no


def test_early_callback_of_a_slow_refund_precedes_the_query_that_shows_it(
    sim: AlipaySimulator, channel: AlipayChannel, receiver: Receiver
) -> None:
    order = order_for(new_sale(sim), 700)
    sim.set_fault(order.refund_no, "processing_then_success", times=0)
    sim.set_fault(order.refund_no, "callback_before_query")
    assert channel.submit(order).outcome is Outcome.UNKNOWN
    assert receiver.bodies == []

    assert channel.query(order).outcome is Outcome.SUCCEEDED
    assert len(receiver.bodies) == 1
    assert notice_of(sim, receiver.bodies[0]).answer.details[QUERY_NOW] == "yes"  # the query settles it


def test_unacknowledged_notification_is_retried_with_the_same_notify_id(
    sim: AlipaySimulator, channel: AlipayChannel, receiver: Receiver
) -> None:
    receiver.replies = ["fail"]  # Alipay only stops on the exact answer "success"
    order = order_for(new_sale(sim), 900)
    assert channel.submit(order).outcome is Outcome.SUCCEEDED

    first, retry = (notice_of(sim, b) for b in receiver.wait(2)[:2])

    assert first.notice_id == retry.notice_id
    assert [(d["attempt"], d["answer"]) for d in sim.wait_notifications(2)] == [(0, "fail"), (1, "success")]


def test_slow_refund_settles_on_its_own_and_is_notified(keys: AlipayKeys, receiver: Receiver) -> None:
    with make_sim(keys, receiver, settle_after=0.1, notify_delay=0.0) as sim:
        channel = make_channel(sim)
        order = order_for(new_sale(sim), 1_100)
        sim.set_fault(order.refund_no, "processing_then_success", times=50)
        assert channel.submit(order).outcome is Outcome.UNKNOWN

        notice = notice_of(sim, receiver.wait(1)[0])

        assert notice.refund_no == order.refund_no
        assert channel.query(order).outcome is Outcome.SUCCEEDED


def test_bank_card_refund_also_sends_a_verified_deposit_back_message(
    sim: AlipaySimulator, channel: AlipayChannel, receiver: Receiver
) -> None:
    order = order_for(new_sale(sim, bank_card=True), 2_000)
    assert channel.submit(order).outcome is Outcome.SUCCEEDED

    trade, deposit_back = (notice_of(sim, b) for b in receiver.wait(2)[:2])

    assert trade.answer.code in ("TRADE_SUCCESS", "TRADE_CLOSED")
    assert (deposit_back.refund_no, deposit_back.answer.outcome, deposit_back.answer.code) == (
        order.refund_no,
        Outcome.SUCCEEDED,
        "DBACK_S",
    )
    assert deposit_back.answer.details["dback_amount"] == "20.00"
    assert deposit_back.notice_id != trade.notice_id
    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(CallbackRejected):
        notice_of(sim, receiver.bodies[1], clock=lambda: later)


# ---- side doors and the command line -------------------------------------------------------------------------


def _http(url: str, payload: dict[str, Any] | None = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=2) as response:
        return json.loads(response.read())


def test_side_doors_set_up_payments_and_faults_and_show_the_ledger(sim: AlipaySimulator) -> None:
    base = sim.base_url
    trade = _http(f"{base}/__sim__/payments", {"out_trade_no": "ORD-SIDE", "total_fen": 5_000})
    _http(f"{base}/__sim__/faults", {"refund_no": "RF-SIDE", "fault": "system_error", "applied": True})
    credentials = _http(f"{base}/__sim__/credentials")
    channel = AlipayChannel(
        app_id=credentials["app_id"],
        app_private_key=credentials["app_private_key"],
        alipay_public_key=credentials["alipay_public_key"],
        gateway_url=credentials["gateway_url"],
        timeout=TIMEOUT,
    )
    sale = OriginalSale("alipay", "ORD-SIDE", 5_000, "CNY", datetime.now(UTC))

    answer: ChannelAnswer = channel.submit(order_for(sale, 1_000, "RF-SIDE"))

    assert answer.code == "ACQ.SYSTEM_ERROR"
    ledger = _http(f"{base}/__sim__/ledger")
    assert [(r["refund_no"], r["amount_fen"], r["channel_refund_id"], r["executed"]) for r in ledger] == [
        ("RF-SIDE", 1_000, trade["trade_no"], True)
    ]
    assert "alipay_private_key" not in credentials


def test_main_serves_in_the_foreground_until_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "posrefund.simulators.alipay.server", "--port", "0", "--keys-dir", str(tmp_path)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        gateway = line.split("gateway ")[1].split()[0]
        base = gateway.removesuffix("/gateway.do")
        assert _http(f"{base}/__sim__/ledger") == []
        assert (tmp_path / "alipay_public_key.pem").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


# ---- certificate mode ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cert_keys() -> AlipayKeys:
    return AlipayKeys.generate(certificate_mode=True)


def cert_channel(sim: AlipaySimulator, **changes: str) -> AlipayChannel:
    files = sim.keys.credentials()
    mode = replace(certificate_mode(files["app_cert"], files["alipay_cert"], files["alipay_root_cert"]), **changes)
    return make_channel(sim, alipay_public_key=mode.alipay_public_key_pem, certificate=mode)


@pytest.mark.filterwarnings("ignore:X509.get_issuer is deprecated:DeprecationWarning")
def test_certificate_mode_sends_the_serial_numbers_alipay_computes(cert_keys: AlipayKeys, receiver: Receiver) -> None:
    with make_sim(cert_keys, receiver) as sim:
        assert cert_keys.certificates is not None
        mode = cert_channel(sim)
        order = order_for(new_sale(sim), 1_200)
        assert mode.submit(order).outcome is Outcome.SUCCEEDED
        assert mode.query(order).outcome is Outcome.SUCCEEDED
        files = sim.keys.credentials()
        derived = certificate_mode(files["app_cert"], files["alipay_cert"], files["alipay_root_cert"])
        assert (derived.app_cert_sn, derived.alipay_root_cert_sn, derived.alipay_cert_sn) == (
            cert_keys.certificates.app_cert_sn,
            cert_keys.certificates.alipay_root_cert_sn,
            cert_keys.certificates.alipay_cert_sn,
        )
        # python-alipay-sdk's own certificate-mode client (pyOpenSSL) computes the same SNs independently.
        assert (DCAliPay.get_cert_sn(files["app_cert"]), DCAliPay.get_root_cert_sn(files["alipay_root_cert"])) == (
            derived.app_cert_sn,
            derived.alipay_root_cert_sn,
        )


@pytest.mark.parametrize(
    "change,sub_code",
    [
        ({"app_cert_sn": "0" * 32}, "isv.invalid-app-cert-sn"),
        ({"alipay_root_cert_sn": "0" * 32}, "isv.invalid-alipay-root-cert-sn"),
    ],
)
def test_certificate_mode_with_a_wrong_serial_number_is_refused_before_anything_runs(
    cert_keys: AlipayKeys, receiver: Receiver, change: dict[str, str], sub_code: str
) -> None:
    with make_sim(cert_keys, receiver) as sim:
        order = order_for(new_sale(sim), 1_200)
        answer = cert_channel(sim, **change).submit(order)
        assert (answer.outcome, answer.code) == (Outcome.DECLINED, sub_code)
        assert sim.ledger() == []


def test_a_public_key_mode_client_is_refused_by_a_certificate_mode_app(
    cert_keys: AlipayKeys, receiver: Receiver
) -> None:
    with make_sim(cert_keys, receiver) as sim:
        answer = make_channel(sim).submit(order_for(new_sale(sim), 1_200))
        assert (answer.outcome, answer.code) == (Outcome.DECLINED, "isv.missing-app-cert-sn")


def test_an_answer_under_another_alipay_certificate_says_so(cert_keys: AlipayKeys, receiver: Receiver) -> None:
    """Alipay renews its certificate ahead of time and names the new one in ``alipay_cert_sn``: the answer is
    unknown (nothing believed) and says which certificate to download."""
    with make_sim(cert_keys, receiver) as sim:
        answer = cert_channel(sim, alipay_cert_sn="f" * 32).submit(order_for(new_sale(sim), 1_200))
        assert cert_keys.certificates is not None
        assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "ALIPAY_CERT_CHANGED")
        assert cert_keys.certificates.alipay_cert_sn in answer.message
