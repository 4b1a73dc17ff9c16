"""The demo's local SMS gateway over real HTTP: the bearer credential guards both the send and the inbox, a
repeated Idempotency-Key is stored once and answered with the same id, a malformed send is a 400, the inbox
is newest first with the time each message came in; and posrefund's own HTTP gateway adapter, configured as
the demo configures it, sends to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from posrefund.demo import sms_inbox
from posrefund.domain.notification import OutgoingMessage
from posrefund.simulators.sms_gateway.server import SmsGatewaySimulator


@pytest.fixture
def sink() -> Iterator[SmsGatewaySimulator]:
    with SmsGatewaySimulator() as s:
        yield s


def _send(sink: SmsGatewaySimulator, body: object, key: str = "", authorization: str | None = None) -> httpx.Response:
    headers = {"Authorization": authorization if authorization is not None else f"Bearer {sink.credential}"}
    if key:
        headers["Idempotency-Key"] = key
    return httpx.post(sink.send_url, json=body, headers=headers, timeout=5)


def _inbox(sink: SmsGatewaySimulator) -> list[dict[str, str]]:
    answer = httpx.get(sink.messages_url, headers={"Authorization": f"Bearer {sink.credential}"}, timeout=5)
    assert answer.status_code == 200
    return list(answer.json()["messages"])


def test_a_repeated_idempotency_key_is_stored_once_and_answered_with_the_same_id(sink: SmsGatewaySimulator) -> None:
    body = {"phone": "13912345678", "content": "您的退款已受理", "out_id": "prn-ev0000000001-sms"}
    first = _send(sink, body, key="prn-ev0000000001-sms")
    again = _send(sink, body, key="prn-ev0000000001-sms")
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert [m["id"] for m in _inbox(sink)] == [first.json()["id"]]


def test_the_inbox_is_newest_first_with_the_time_each_came_in(sink: SmsGatewaySimulator) -> None:
    ids = [
        _send(sink, {"phone": "13912345678", "content": f"第{n}条", "out_id": f"m{n}"}, key=f"k{n}").json()["id"]
        for n in (1, 2, 3)
    ]
    received = _inbox(sink)
    assert [m["id"] for m in received] == ids[::-1]
    assert [(m["phone"], m["text"], m["out_id"]) for m in received] == [
        ("13912345678", "第3条", "m3"),
        ("13912345678", "第2条", "m2"),
        ("13912345678", "第1条", "m1"),
    ]
    assert all(datetime.fromisoformat(m["received_at"]).utcoffset() is not None for m in received)


def test_sends_without_a_key_are_each_stored(sink: SmsGatewaySimulator) -> None:
    body = {"phone": "13912345678", "content": "同一条"}
    assert _send(sink, body).json()["id"] != _send(sink, body).json()["id"]
    assert len(_inbox(sink)) == 2


@pytest.mark.parametrize("given", ["none", "wrong", "basic"])
def test_the_send_and_the_inbox_need_the_credential(sink: SmsGatewaySimulator, given: str) -> None:
    authorization = {"none": "", "wrong": "Bearer wrong-credential", "basic": f"Basic {sink.credential}"}[given]
    sent = _send(sink, {"phone": "13912345678", "content": "x"}, key="k", authorization=authorization)
    assert (sent.status_code, sent.json()["code"]) == (401, "unauthorized")
    read = httpx.get(sink.messages_url, headers={"Authorization": authorization}, timeout=5)
    assert (read.status_code, read.json()["code"]) == (401, "unauthorized")
    assert _inbox(sink) == []


def test_each_sink_makes_its_own_credential() -> None:
    with SmsGatewaySimulator() as one, SmsGatewaySimulator() as other:
        assert one.credential != other.credential
        assert len(one.credential) >= 32


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"content": "x"}, "bad_phone"),
        ({"phone": "not a number", "content": "x"}, "bad_phone"),
        ({"phone": "13912345678"}, "bad_content"),
        ({"phone": "13912345678", "content": "   "}, "bad_content"),
        ({"phone": "13912345678", "content": "x" * 4097}, "bad_content"),
        ({"phone": "13912345678", "content": "x", "out_id": "m" * 129}, "bad_out_id"),
        (["13912345678", "x"], "bad_json"),
    ],
)
def test_a_malformed_send_is_refused_and_not_stored(sink: SmsGatewaySimulator, body: object, code: str) -> None:
    answer = _send(sink, body)
    assert (answer.status_code, answer.json()["code"]) == (400, code)
    assert _inbox(sink) == []


def test_a_body_that_is_not_json_is_refused(sink: SmsGatewaySimulator) -> None:
    answer = httpx.post(
        sink.send_url, content=b"phone=139", headers={"Authorization": f"Bearer {sink.credential}"}, timeout=5
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "bad_json")


def test_posrefunds_gateway_adapter_sends_to_it_once_per_message_id(sink: SmsGatewaySimulator) -> None:
    gateway = sms_inbox.gateway(sink)
    message = OutgoingMessage("prn-ev0000000007-sms", "sms", "13912345678", "", "您的退款已到账", "zh", "paid")
    first, repeat = gateway.send(message), gateway.send(message)  # a send repeated after a crash
    assert first.ok and repeat.ok
    assert first.provider_message_id == repeat.provider_message_id != ""
    assert [(m["out_id"], m["phone"], m["text"]) for m in _inbox(sink)] == [
        ("prn-ev0000000007-sms", "13912345678", "您的退款已到账")
    ]
    assert sms_inbox.reader(sink).messages() == _inbox(sink)


def test_the_reader_says_none_when_the_sink_is_gone() -> None:
    with SmsGatewaySimulator() as gone:
        reader = sms_inbox.reader(gone)
    assert reader.messages() is None
