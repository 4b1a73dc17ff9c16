"""Contract: WeChatPayChannel (through wechatpayv3) against the WeChat Pay simulator, over real sockets.

Every answer the adapter reads was signed by the simulator's platform key and every request it sent was
checked against the merchant key; notifications are received by a real HTTP server here and verified.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from wechatpayv3 import WeChatPay, WeChatPayType

from posrefund.adapters.channels.wechatpay.client import WeChatPayCallbackVerifier, WeChatPayChannel
from posrefund.domain.channel import ASK_AGAIN_SOON, CallbackRejected, Method, OriginalSale, Outcome, RefundOrder
from posrefund.simulators.wechatpay.crypto import b64_sign, platform_message
from posrefund.simulators.wechatpay.server import FAULTS, WeChatPayKeys, WeChatPaySimulator
from tests.support.ports import free_port as _free_port

TIMEOUT = 0.5  # the adapter's read timeout in these tests


@pytest.fixture(scope="module")
def keys() -> WeChatPayKeys:
    return WeChatPayKeys.generate()


@pytest.fixture(scope="module")
def other_keys() -> WeChatPayKeys:
    """A second, unrelated key set: the "wrong key" in signature tests."""
    return WeChatPayKeys.generate()


@pytest.fixture
def sim(keys: WeChatPayKeys) -> Iterator[WeChatPaySimulator]:
    with WeChatPaySimulator(keys=keys, hang_seconds=2.0, notify_retry_delays=(0.05, 0.05, 0.1)) as s:
        yield s


def make_channel(sim: WeChatPaySimulator, **kw: Any) -> WeChatPayChannel:
    args: dict[str, Any] = {
        "base_url": sim.base_url,
        "mchid": sim.mchid,
        "merchant_private_key": sim.merchant_private_key_pem,
        "merchant_serial_no": sim.merchant_serial_no,
        "platform_public_key": sim.platform_public_key_pem,
        "platform_public_key_id": sim.platform_public_key_id,
        "apiv3_key": sim.apiv3_key,
        "timeout": TIMEOUT,
        "connect_timeout": TIMEOUT,
    }
    args.update(kw)
    return WeChatPayChannel(**args)


def make_verifier(sim: WeChatPaySimulator, **kw: Any) -> WeChatPayCallbackVerifier:
    args: dict[str, Any] = {
        "platform_public_key": sim.platform_public_key_pem,
        "platform_public_key_id": sim.platform_public_key_id,
        "apiv3_key": sim.apiv3_key,
        "mchid": sim.mchid,
    }
    args.update(kw)
    return WeChatPayCallbackVerifier(**args)


@pytest.fixture
def channel(sim: WeChatPaySimulator) -> WeChatPayChannel:
    return make_channel(sim)


def paid(
    sim: WeChatPaySimulator, order_no: str = "ORD001", total_fen: int = 10_000, days_ago: float = 1
) -> OriginalSale:
    paid_at = datetime.now(UTC) - timedelta(days=days_ago)
    sim.add_payment(order_no, total_fen, paid_at)
    return OriginalSale(channel="wechat", order_no=order_no, amount_fen=total_fen, currency="CNY", paid_at=paid_at)


def refund(sale: OriginalSale, refund_no: str, amount_fen: int, reason: str = "goods_quality") -> RefundOrder:
    return RefundOrder(refund_no, amount_fen, "CNY", reason, Method.REFUND, sale)


def entries(sim: WeChatPaySimulator, refund_no: str) -> list[dict[str, Any]]:
    return [e for e in sim.ledger() if e["refund_no"] == refund_no]


# ---- a real notify_url -----------------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """The merchant's notify_url: answers 200 when the verifier accepts the notification, 401 otherwise."""

    verifier: Callable[[dict[str, str], bytes], Any] | None = None
    fail_first: int = 0  # answer 500 to this many notifications first (to see the platform retry)
    received: list[Received] = field(default_factory=list)
    cv: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self.cv:
            n = len(self.received)
        if n < self.fail_first:
            status = 500
        elif self.verifier is None:
            status = 200
        else:
            try:
                self.verifier(headers, body)
                status = 200
            except CallbackRejected:
                status = 401
        with self.cv:
            self.received.append(Received(headers, body, status))
            self.cv.notify_all()
        return status

    def wait(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.cv:
            while len(self.received) < count and (left := deadline - time.monotonic()) > 0:
                self.cv.wait(left)
            assert len(self.received) >= count, f"expected {count} notifications, got {len(self.received)}"
            return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = rec.handle(dict(self.headers.items()), body)
            raw = json.dumps({"code": "SUCCESS", "message": "成功"} if status == 200 else {"code": "FAIL"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/v1/callbacks/wechatpay"
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def notifying_sim(keys: WeChatPayKeys) -> Iterator[WeChatPaySimulator]:
    """Refunds finish on their own right away, so their notifications go out without a query."""
    with WeChatPaySimulator(keys=keys, settle_after=0.0, notify_retry_delays=(0.05, 0.05, 0.1)) as s:
        yield s


# ---- the refund API --------------------------------------------------------------------------------------


def test_success_is_accepted_then_succeeded_on_query(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    order = refund(paid(sim), "RF0001", 2_500)

    first = channel.submit(order)
    assert first.outcome is Outcome.ACCEPTED
    assert first.code == "PROCESSING"
    assert first.channel_refund_id.startswith("50")
    assert first.details["refund_fen"] == "2500"

    final = channel.query(order)
    assert final.outcome is Outcome.SUCCEEDED
    assert final.channel_refund_id == first.channel_refund_id
    assert final.succeeded_at is not None and final.succeeded_at.tzinfo is not None
    assert abs(final.succeeded_at - datetime.now(UTC)) < timedelta(minutes=1)

    [entry] = sim.ledger()
    assert entry | {"history": []} == entry | {
        "refund_no": "RF0001",
        "amount_fen": 2_500,
        "total_fen": 10_000,
        "out_trade_no": "ORD001",
        "channel_refund_id": first.channel_refund_id,
        "status": "SUCCESS",
        "executed": True,
        "paid_out": True,
        "history": [],
    }


def test_same_refund_no_twice_is_executed_once(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    order = refund(paid(sim), "RF0002", 3_000)

    first = channel.submit(order)
    again = channel.submit(order)

    assert first.outcome is again.outcome is Outcome.ACCEPTED
    assert again.channel_refund_id == first.channel_refund_id
    assert len(sim.ledger()) == 1
    # After it finished, the same request answers the finished refund, still one entry.
    assert channel.query(order).outcome is Outcome.SUCCEEDED
    third = channel.submit(order)
    assert (third.outcome, third.channel_refund_id) == (Outcome.SUCCEEDED, first.channel_refund_id)
    assert [e["amount_fen"] for e in sim.ledger()] == [3_000]


def test_same_refund_no_with_another_amount_is_declined(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    sale = paid(sim)
    assert channel.submit(refund(sale, "RF0003", 3_000)).outcome is Outcome.ACCEPTED

    other = channel.submit(refund(sale, "RF0003", 4_000))

    assert (other.outcome, other.code) == (Outcome.DECLINED, "INVALID_REQUEST")
    assert [(e["refund_no"], e["amount_fen"]) for e in sim.ledger()] == [("RF0003", 3_000)]


def test_query_of_an_unknown_refund_no_is_not_found(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    answer = channel.query(refund(paid(sim), "NEVER-SENT", 100))

    assert (answer.outcome, answer.code) == (Outcome.NOT_FOUND, "RESOURCE_NOT_EXISTS")


def test_over_refund_is_declined(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    sale = paid(sim, total_fen=1_000)
    assert channel.submit(refund(sale, "RF-A", 600)).outcome is Outcome.ACCEPTED

    over = channel.submit(refund(sale, "RF-B", 401))

    assert (over.outcome, over.code) == (Outcome.DECLINED, "INVALID_REQUEST")
    assert "可退金额" in over.message
    assert channel.query(refund(sale, "RF-B", 401)).outcome is Outcome.NOT_FOUND
    assert channel.submit(refund(sale, "RF-C", 400)).outcome is Outcome.ACCEPTED  # exactly the rest is fine
    assert sum(e["amount_fen"] for e in sim.ledger()) == 1_000


def test_unknown_order_is_declined(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    ghost = OriginalSale("wechat", "NO-SUCH-ORDER", 500, "CNY", datetime.now(UTC))

    answer = channel.submit(refund(ghost, "RF0004", 500))

    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "RESOURCE_NOT_EXISTS")
    assert sim.ledger() == []


def test_order_older_than_365_days_is_declined(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    answer = channel.submit(refund(paid(sim, days_ago=366), "RF0005", 100))

    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "INVALID_REQUEST")
    assert "365" in answer.message
    assert sim.ledger() == []


def test_the_51st_refund_of_one_order_is_declined(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    sale = paid(sim, total_fen=10_000)
    for i in range(50):
        assert channel.submit(refund(sale, f"P{i:03d}", 1)).outcome is Outcome.ACCEPTED

    answer = channel.submit(refund(sale, "P050", 1))

    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "INVALID_REQUEST")
    assert "50" in answer.message
    assert len(sim.ledger()) == 50


def test_refunds_of_one_order_too_close_together_are_frequency_limited(keys: WeChatPayKeys) -> None:
    with WeChatPaySimulator(keys=keys, min_gap_same_order=60) as sim:
        channel = make_channel(sim)
        sale = paid(sim)
        assert channel.submit(refund(sale, "G1", 100)).outcome is Outcome.ACCEPTED

        second = channel.submit(refund(sale, "G2", 100))

        assert (second.outcome, second.code) == (Outcome.UNKNOWN, "FREQUENCY_LIMITED")
        assert channel.query(refund(sale, "G2", 100)).outcome is Outcome.NOT_FOUND
        assert channel.submit(refund(sale, "G1", 100)).outcome is Outcome.ACCEPTED  # a replay is not a new refund


def test_concurrent_submits_of_one_refund_no_execute_once(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    order = refund(paid(sim), "RF-RACE", 1_000)
    answers: list[Any] = []
    start = threading.Barrier(6)

    def submit() -> None:
        start.wait(timeout=5)
        answers.append(channel.submit(order))

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)

    assert {(a.outcome, a.channel_refund_id) for a in answers} == {
        (Outcome.ACCEPTED, sim.ledger()[0]["channel_refund_id"])
    }
    assert len(answers) == 6
    assert len(sim.ledger()) == 1


def test_above_the_rate_limit_is_frequency_limited(keys: WeChatPayKeys) -> None:
    with WeChatPaySimulator(keys=keys, max_qps=2) as sim:
        channel = make_channel(sim)
        order = refund(paid(sim), "RF-QPS", 100)
        answers = [channel.query(order) for _ in range(3)]
    assert [a.outcome for a in answers] == [Outcome.NOT_FOUND, Outcome.NOT_FOUND, Outcome.UNKNOWN]
    assert answers[2].code == "FREQUENCY_LIMITED"


# ---- faults ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["no_answer_after_accept", "drop_after_accept"])
def test_lost_answer_is_unknown_and_the_query_finds_the_refund(
    sim: WeChatPaySimulator, channel: WeChatPayChannel, fault: str
) -> None:
    order = refund(paid(sim), "RF-LOST", 1_000)
    sim.set_fault("RF-LOST", fault)

    started = time.monotonic()
    lost = channel.submit(order)

    assert lost.outcome is Outcome.UNKNOWN
    assert lost.code == ("TIMEOUT" if fault == "no_answer_after_accept" else "CONNECTION_ERROR")
    assert lost.details.get(ASK_AGAIN_SOON) == "yes"  # the same number, soon: it is idempotent at WeChat
    assert time.monotonic() - started < TIMEOUT + 1.0
    assert [e["executed"] for e in sim.ledger()] == [True]  # the money moved although no answer came
    found = channel.query(order)
    assert found.outcome is Outcome.SUCCEEDED
    assert channel.submit(order).channel_refund_id == found.channel_refund_id
    assert len(sim.ledger()) == 1


@pytest.mark.parametrize(
    ("fault", "applied", "code"),
    [
        ("system_error", None, "SYSTEM_ERROR"),
        ("system_error", False, "SYSTEM_ERROR"),
        ("system_error_no_effect", None, "SYSTEM_ERROR"),
        ("http_500", None, "HTTP_500"),
        ("http_500", True, "HTTP_500"),
    ],
)
def test_server_errors_are_unknown_and_resolved_by_query(
    sim: WeChatPaySimulator, channel: WeChatPayChannel, fault: str, applied: bool | None, code: str
) -> None:
    order = refund(paid(sim), "RF-5XX", 1_200)
    sim.set_fault("RF-5XX", fault, applied=applied)
    executed = (fault == "system_error" and applied is None) or applied is True

    answer = channel.submit(order)

    assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, code)
    assert answer.details.get(ASK_AGAIN_SOON) == "yes"  # "请使用相同参数再次调用"
    resolved = channel.query(order)
    if executed:
        assert resolved.outcome is Outcome.SUCCEEDED
    else:
        assert resolved.outcome is Outcome.NOT_FOUND  # safe to send the same number again
        assert channel.submit(order).outcome is Outcome.ACCEPTED
    assert [(e["refund_no"], e["amount_fen"]) for e in sim.ledger()] == [("RF-5XX", 1_200)]


def test_frequency_limited_is_unknown(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    order = refund(paid(sim), "RF-429", 100)
    sim.set_fault("RF-429", "frequency_limited")

    limited = channel.submit(order)
    assert (limited.outcome, limited.code) == (Outcome.UNKNOWN, "FREQUENCY_LIMITED")
    assert ASK_AGAIN_SOON not in limited.details  # "slow down": no early look
    assert channel.submit(order).outcome is Outcome.ACCEPTED
    assert len(sim.ledger()) == 1


@pytest.mark.parametrize("code", ["NOT_ENOUGH", "USER_ACCOUNT_ABNORMAL"])
def test_decline_carries_the_channel_code(sim: WeChatPaySimulator, channel: WeChatPayChannel, code: str) -> None:
    order = refund(paid(sim), "RF-NO", 700)
    sim.set_fault("RF-NO", "decline", code="" if code == "NOT_ENOUGH" else code)

    answer = channel.submit(order)

    assert (answer.outcome, answer.code) == (Outcome.DECLINED, code)
    assert answer.message
    assert channel.query(order).outcome is Outcome.NOT_FOUND
    assert sim.ledger() == []


def test_processing_then_success(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    order = refund(paid(sim), "RF-SLOW", 900)
    sim.set_fault("RF-SLOW", "processing_then_success", times=3)

    outcomes = [channel.submit(order).outcome] + [channel.query(order).outcome for _ in range(4)]

    assert outcomes == [Outcome.ACCEPTED] * 4 + [Outcome.SUCCEEDED]
    assert [e["status"] for e in sim.ledger()] == ["SUCCESS"]


def test_processing_for_seconds_finishes_on_its_own_and_is_notified(
    notifying_sim: WeChatPaySimulator, receiver: Receiver
) -> None:
    sim = notifying_sim
    receiver.verifier = make_verifier(sim).verify
    channel = make_channel(sim, notify_url=receiver.url)
    order = refund(paid(sim), "RF-HELD", 900)
    sim.set_fault("RF-HELD", "processing", seconds=0.6)

    assert channel.submit(order).outcome is Outcome.ACCEPTED
    assert channel.query(order).outcome is Outcome.ACCEPTED  # a query does not hurry it
    assert receiver.received == []
    [got] = receiver.wait(1)  # no query needed: it finishes after its time and is notified

    assert got.status == 200
    assert channel.query(order).outcome is Outcome.SUCCEEDED
    assert [e["status"] for e in sim.ledger()] == ["SUCCESS"]


def test_abnormal_then_apply_abnormal_refund(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    order = refund(paid(sim), "RF-ABN", 800)
    sim.set_fault("RF-ABN", "abnormal")

    accepted = channel.submit(order)
    stuck = channel.query(order)

    assert stuck.outcome is Outcome.ABNORMAL
    assert [(e["status"], e["executed"], e["paid_out"]) for e in sim.ledger()] == [("ABNORMAL", True, False)]
    # A person sends it to the payer's bank card (library call; the card number is encrypted to the platform key).
    pay = WeChatPay(
        wechatpay_type=WeChatPayType.CODEPAY,
        mchid=sim.mchid,
        private_key=sim.merchant_private_key_pem,
        cert_serial_no=sim.merchant_serial_no,
        appid="",
        apiv3_key=sim.apiv3_key,
        public_key=sim.platform_public_key_pem,
        public_key_id=sim.platform_public_key_id,
        timeout=(TIMEOUT, TIMEOUT),
    )
    pay._core._gate_way = sim.base_url
    status, text = pay.abnormal_refund(
        accepted.channel_refund_id, "RF-ABN", "USER_BANK_CARD", "ICBC_DEBIT", "6222020200112233445", "张三"
    )
    assert status == 200, text
    assert json.loads(text)["status"] == "PROCESSING"
    assert channel.query(order).outcome is Outcome.SUCCEEDED
    assert "6222020200112233445" not in json.dumps(sim.ledger(), ensure_ascii=False)


def test_closed_refund_gives_the_amount_back(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    sale = paid(sim, total_fen=1_000)
    sim.set_fault("RF-CLS", "closed")
    assert channel.submit(refund(sale, "RF-CLS", 1_000)).outcome is Outcome.ACCEPTED

    assert channel.query(refund(sale, "RF-CLS", 1_000)).outcome is Outcome.CLOSED
    # CLOSED needs a new number, and the whole amount is refundable again.
    assert channel.submit(refund(sale, "RF-CLS2", 1_000)).outcome is Outcome.ACCEPTED
    assert [(e["status"], e["executed"]) for e in sim.ledger()] == [("CLOSED", False), ("PROCESSING", True)]


def test_seeded_fault_rate_faults_every_new_refund(keys: WeChatPayKeys) -> None:
    with WeChatPaySimulator(keys=keys, fault_rate=1.0, rate_faults=["system_error_no_effect"], seed=7) as sim:
        channel = make_channel(sim)
        sale = paid(sim)
        answers = [channel.submit(refund(sale, f"RATE{i}", 100)).outcome for i in range(3)]
    assert answers == [Outcome.UNKNOWN] * 3
    assert sim.ledger() == []


def test_every_fault_name_is_known() -> None:
    assert {
        "no_answer_after_accept",
        "drop_after_accept",
        "system_error",
        "system_error_no_effect",
        "http_500",
        "decline",
        "frequency_limited",
        "processing_then_success",
        "abnormal",
        "closed",
        "duplicate_callback",
        "bad_signature_callback",
        "callback_before_query",
        "wrong_amount_callback",
        "late_callback",  # shared names (simulators.common.faults)
        "latency",
    } == FAULTS


# ---- signatures on the wire --------------------------------------------------------------------------------


def test_request_signed_with_the_wrong_merchant_key_is_refused(
    sim: WeChatPaySimulator, other_keys: WeChatPayKeys
) -> None:
    impostor = make_channel(sim, merchant_private_key=other_keys.merchant_private_key_pem)

    answer = impostor.submit(refund(paid(sim), "RF-SIG", 100))

    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "SIGN_ERROR")
    assert impostor.query(refund(paid(sim, "ORD002"), "RF-SIG", 100)).outcome is Outcome.UNKNOWN
    assert sim.ledger() == []


def _raw_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status, response.read(), dict(response.headers.items())
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers.items())


def test_unsigned_and_tampered_requests_get_401_sign_error(sim: WeChatPaySimulator) -> None:
    paid(sim)
    path = "/v3/refund/domestic/refunds"
    body = json.dumps(
        {"out_refund_no": "RAW1", "out_trade_no": "ORD001", "amount": {"refund": 1, "total": 10_000, "currency": "CNY"}}
    ).encode()
    ts, nonce = str(int(time.time())), "N0NCE"
    message = f"POST\n{path}\n{ts}\n{nonce}\n".encode() + body + b"\n"
    signature = b64_sign(sim.keys.merchant_private_key, message)
    auth = (
        f'WECHATPAY2-SHA256-RSA2048 mchid="{sim.mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{ts}",serial_no="{sim.merchant_serial_no}"'
    )
    signed = {"Content-Type": "application/json", "Authorization": auth}
    url = sim.base_url + path

    unsigned = _raw_post(url, body, {"Content-Type": "application/json"})
    tampered = _raw_post(url, body.replace(b'"refund": 1', b'"refund": 9'), signed)
    genuine = _raw_post(url, body, signed)

    assert (unsigned[0], json.loads(unsigned[1])["code"]) == (401, "SIGN_ERROR")
    assert (tampered[0], json.loads(tampered[1])["code"]) == (401, "SIGN_ERROR")
    assert (genuine[0], json.loads(genuine[1])["status"]) == (200, "PROCESSING")
    # Every /v3 answer, errors included, carries the platform's signature over timestamp\nnonce\nbody\n.
    platform_key = sim.keys.platform_private_key.public_key()
    for _status, raw, headers in (unsigned, genuine):
        assert headers["Wechatpay-Serial"] == sim.platform_public_key_id
        message = platform_message(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], raw)
        platform_key.verify(base64.b64decode(headers["Wechatpay-Signature"]), message, PKCS1v15(), SHA256())
    assert [e["refund_no"] for e in sim.ledger()] == ["RAW1"]


def test_answer_not_signed_by_the_platform_key_is_unknown(sim: WeChatPaySimulator, other_keys: WeChatPayKeys) -> None:
    fooled = make_channel(sim, platform_public_key=other_keys.platform_public_key_pem)
    order = refund(paid(sim), "RF-MITM", 100)

    answer = fooled.submit(order)

    assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "RESPONSE_NOT_VERIFIED")
    assert make_channel(sim).query(order).outcome is Outcome.SUCCEEDED  # it did happen: the query tells


def test_unreachable_channel_is_not_sent(keys: WeChatPayKeys) -> None:
    with WeChatPaySimulator(keys=keys) as sim:
        channel = make_channel(sim)
        sale = paid(sim)
    # The simulator is gone: nothing listens on its port any more.
    answer = channel.submit(refund(sale, "RF-DOWN", 100))
    assert (answer.outcome, answer.code) == (Outcome.NOT_SENT, "CONNECTION_REFUSED")
    assert channel.query(refund(sale, "RF-DOWN", 100)).outcome is Outcome.NOT_SENT


# ---- notifications ------------------------------------------------------------------------------------------


def test_notification_is_verified_and_mapped(notifying_sim: WeChatPaySimulator, receiver: Receiver) -> None:
    sim = notifying_sim
    verifier = make_verifier(sim)
    receiver.verifier = verifier.verify
    order = refund(paid(sim), "RF-CB", 4_200)

    accepted = make_channel(sim, notify_url=receiver.url).submit(order)
    [got] = receiver.wait(1)

    assert got.status == 200
    notice = verifier.verify(got.headers, got.body)
    assert notice.refund_no == "RF-CB"
    assert notice.notice_id.startswith("EV-")
    assert notice.answer.outcome is Outcome.SUCCEEDED
    assert notice.answer.channel_refund_id == accepted.channel_refund_id
    assert notice.answer.succeeded_at is not None
    assert notice.answer.details["refund_fen"] == "4200"
    envelope = json.loads(got.body)
    assert envelope["event_type"] == "REFUND.SUCCESS"
    assert envelope["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert "RF-CB" not in got.body.decode()  # the refund itself travels encrypted
    assert [(d["kind"], d["status"]) for d in sim.wait_notifications(1)] == [("genuine", 200)]


def _flip_one_byte(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
    i = body.index(b'"summary"') + 2
    return headers, body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]


def _wrong_signature(other: WeChatPayKeys) -> Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]:
    def mutate(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        message = platform_message(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], body)
        return headers | {"Wechatpay-Signature": b64_sign(other.platform_private_key, message)}, body

    return mutate


def _without(name: str) -> Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]:
    return lambda headers, body: ({k: v for k, v in headers.items() if k.lower() != name.lower()}, body)


def _garbage_signature(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
    return headers | {"Wechatpay-Signature": "not base64 at all!"}, body


def _other_key_id(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
    return headers | {"Wechatpay-Serial": "PUB_KEY_ID_0000000000000000000000000000"}, body


@pytest.mark.parametrize(
    "mutation",
    ["one_byte", "wrong_signature", "no_signature", "no_timestamp", "garbage_signature", "other_key_id"],
)
def test_tampered_or_unsigned_notification_is_rejected(
    notifying_sim: WeChatPaySimulator, receiver: Receiver, other_keys: WeChatPayKeys, mutation: str
) -> None:
    sim = notifying_sim
    make_channel(sim, notify_url=receiver.url).submit(refund(paid(sim), "RF-TMP", 100))
    [got] = receiver.wait(1)
    verifier = make_verifier(sim)
    verifier.verify(got.headers, got.body)  # the genuine one passes
    mutate = {
        "one_byte": _flip_one_byte,
        "wrong_signature": _wrong_signature(other_keys),
        "no_signature": _without("Wechatpay-Signature"),
        "no_timestamp": _without("Wechatpay-Timestamp"),
        "garbage_signature": _garbage_signature,
        "other_key_id": _other_key_id,
    }[mutation]

    headers, body = mutate(got.headers, got.body)

    with pytest.raises(CallbackRejected):
        verifier.verify(headers, body)


def test_stale_notification_is_rejected(notifying_sim: WeChatPaySimulator, receiver: Receiver) -> None:
    sim = notifying_sim
    make_channel(sim, notify_url=receiver.url).submit(refund(paid(sim), "RF-OLD", 100))
    [got] = receiver.wait(1)
    later = datetime.now(UTC) + timedelta(minutes=6)

    make_verifier(sim, clock=lambda: datetime.now(UTC) + timedelta(minutes=4)).verify(got.headers, got.body)
    with pytest.raises(CallbackRejected, match="stale"):
        make_verifier(sim, clock=lambda: later).verify(got.headers, got.body)


def test_notification_with_the_wrong_apiv3_key_is_rejected(
    notifying_sim: WeChatPaySimulator, receiver: Receiver, other_keys: WeChatPayKeys
) -> None:
    sim = notifying_sim
    make_channel(sim, notify_url=receiver.url).submit(refund(paid(sim), "RF-KEY", 100))
    [got] = receiver.wait(1)

    with pytest.raises(CallbackRejected, match="decrypt"):
        make_verifier(sim, apiv3_key=other_keys.apiv3_key).verify(got.headers, got.body)


@pytest.mark.parametrize(
    ("fault", "event", "outcome"),
    [("abnormal", "REFUND.ABNORMAL", Outcome.ABNORMAL), ("closed", "REFUND.CLOSED", Outcome.CLOSED)],
)
def test_abnormal_and_closed_notifications(
    notifying_sim: WeChatPaySimulator, receiver: Receiver, fault: str, event: str, outcome: Outcome
) -> None:
    sim = notifying_sim
    sim.set_fault("RF-EV", fault)
    make_channel(sim, notify_url=receiver.url).submit(refund(paid(sim), "RF-EV", 100))
    [got] = receiver.wait(1)

    notice = make_verifier(sim).verify(got.headers, got.body)

    assert json.loads(got.body)["event_type"] == event
    assert (notice.refund_no, notice.answer.outcome, notice.answer.succeeded_at) == ("RF-EV", outcome, None)


def test_duplicate_notification_has_the_same_id(notifying_sim: WeChatPaySimulator, receiver: Receiver) -> None:
    sim = notifying_sim
    verifier = make_verifier(sim)
    receiver.verifier = verifier.verify
    sim.set_fault("RF-DUP", "duplicate_callback")
    make_channel(sim, notify_url=receiver.url).submit(refund(paid(sim), "RF-DUP", 100))

    got = receiver.wait(2)

    notices = [verifier.verify(r.headers, r.body) for r in got]
    assert [n.notice_id for n in notices] == [notices[0].notice_id] * 2  # the service de-duplicates on it
    assert {n.refund_no for n in notices} == {"RF-DUP"}
    assert [r.status for r in got] == [200, 200]


def test_forged_notification_is_rejected_and_the_genuine_one_accepted(
    notifying_sim: WeChatPaySimulator, receiver: Receiver
) -> None:
    sim = notifying_sim
    receiver.verifier = make_verifier(sim).verify
    sim.set_fault("RF-FAKE", "bad_signature_callback")
    make_channel(sim, notify_url=receiver.url).submit(refund(paid(sim), "RF-FAKE", 100))

    got = receiver.wait(2)

    assert [r.status for r in got] == [401, 200]
    deliveries = sim.wait_notifications(2)
    assert [(d["kind"], d["status"]) for d in deliveries] == [("forged", 401), ("genuine", 200)]


def test_early_notification_arrives_before_the_query_knows(sim: WeChatPaySimulator, receiver: Receiver) -> None:
    verifier = make_verifier(sim)
    sim.set_fault("RF-EARLY", "callback_before_query")
    channel = make_channel(sim, notify_url=receiver.url)
    order = refund(paid(sim), "RF-EARLY", 100)

    channel.submit(order)
    [got] = receiver.wait(1)

    assert verifier.verify(got.headers, got.body).answer.outcome is Outcome.SUCCEEDED
    assert channel.query(order).outcome is Outcome.ACCEPTED  # the query lags behind the notification
    assert channel.query(order).outcome is Outcome.SUCCEEDED


def test_unacknowledged_notification_is_retried(notifying_sim: WeChatPaySimulator, receiver: Receiver) -> None:
    sim = notifying_sim
    receiver.fail_first = 2
    make_channel(sim, notify_url=receiver.url).submit(refund(paid(sim), "RF-RETRY", 100))

    got = receiver.wait(3)

    assert [r.status for r in got] == [500, 500, 200]
    assert len({json.loads(r.body)["id"] for r in got}) == 1
    assert [(d["attempt"], d["status"]) for d in sim.wait_notifications(3)] == [(0, 500), (1, 500), (2, 200)]


# ---- side doors and the command line ------------------------------------------------------------------------


def _sim_json(url: str, payload: dict[str, Any] | None = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=2) as response:
        return json.loads(response.read())


def test_side_doors_register_payments_set_faults_and_show_the_ledger(
    sim: WeChatPaySimulator, channel: WeChatPayChannel
) -> None:
    base = sim.base_url
    paid_at = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    _sim_json(f"{base}/__sim__/payments", {"out_trade_no": "HTTP-ORD", "total_fen": 5_000, "paid_at": paid_at})
    _sim_json(f"{base}/__sim__/faults", {"refund_no": "RF-HTTP", "fault": "processing_then_success", "times": 1})
    sale = OriginalSale("wechat", "HTTP-ORD", 5_000, "CNY", datetime.fromisoformat(paid_at))
    order = refund(sale, "RF-HTTP", 5_000)

    assert [channel.submit(order).outcome, channel.query(order).outcome] == [Outcome.ACCEPTED, Outcome.ACCEPTED]
    _sim_json(f"{base}/__sim__/complete", {"refund_no": "RF-HTTP"})

    ledger = _sim_json(f"{base}/__sim__/ledger")
    assert [(e["refund_no"], e["status"], e["executed"]) for e in ledger] == [("RF-HTTP", "SUCCESS", True)]
    assert channel.query(order).outcome is Outcome.SUCCEEDED
    creds = _sim_json(f"{base}/__sim__/credentials")
    assert creds["platform_public_key_id"] == sim.platform_public_key_id and "platform_private_key" not in creds


def test_main_serves_in_the_foreground(tmp_path: Path) -> None:
    port = _free_port()
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "posrefund.simulators.wechatpay.server",
        "--port",
        str(port),
        "--keys-dir",
        str(tmp_path),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line
        base = f"http://127.0.0.1:{port}"
        creds = _sim_json(f"{base}/__sim__/credentials")
        _sim_json(f"{base}/__sim__/payments", {"out_trade_no": "CLI-ORD", "total_fen": 900})
        channel = WeChatPayChannel(
            base_url=base,
            mchid=creds["mchid"],
            merchant_private_key=creds["merchant_private_key"],
            merchant_serial_no=creds["merchant_serial_no"],
            platform_public_key=creds["platform_public_key"],
            platform_public_key_id=creds["platform_public_key_id"],
            apiv3_key=creds["apiv3_key"],
            timeout=1.0,
        )
        sale = OriginalSale("wechat", "CLI-ORD", 900, "CNY", datetime.now(UTC))
        assert channel.submit(refund(sale, "RF-CLI", 900)).outcome is Outcome.ACCEPTED
        assert (tmp_path / "ids.txt").read_text().split()[0] == creds["mchid"]  # keys kept for the next start
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == 0
