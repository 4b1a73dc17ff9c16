"""Contract: the abnormal refund to a bank card (``apply-abnormal-refund``), WeChatPayChannel against the WeChat Pay
simulator over real sockets: the request is signed by the merchant key, its field names are the documented ones,
``bank_account`` and ``real_name`` travel RSA-OAEP encrypted to the platform key named by ``Wechatpay-Serial``
(decrypted by the simulator), and the answer maps to the refund's outcome. One application moves money once."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.hashes import SHA1

from posrefund.adapters.channels.wechatpay.client import WeChatPayChannel
from posrefund.domain.abnormal_refund import CardDetails, CardKind, CardRefund
from posrefund.domain.channel import Outcome, RefundOrder
from posrefund.simulators.wechatpay import server as sim_server
from posrefund.simulators.wechatpay.crypto import decrypt_sensitive
from posrefund.simulators.wechatpay.gateway import check_sensitive
from posrefund.simulators.wechatpay.server import WeChatPayKeys, WeChatPaySimulator
from tests.contract.test_wechat_pay import keys, make_channel, paid, refund

__all__ = ["keys"]  # the module-scoped key pair, shared with the refund contract

CARD = CardDetails(CardKind.USER_BANK_CARD, "ICBC_DEBIT", "6222021234567890128", "张三")
DOCUMENTED = {"out_refund_no", "type", "bank_type", "bank_account", "real_name"}


@pytest.fixture
def sim(keys: WeChatPayKeys) -> Iterator[WeChatPaySimulator]:
    with WeChatPaySimulator(keys=keys, hang_seconds=2.0, notify_retry_delays=(0.05,)) as s:
        yield s


@pytest.fixture
def channel(sim: WeChatPaySimulator) -> WeChatPayChannel:
    return make_channel(sim)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Message, Any]]:
    """Every abnormal-refund request as the simulator received it: headers and JSON body."""
    calls: list[tuple[Message, Any]] = []

    def recording(keys: WeChatPayKeys, headers: Message, payload: Any) -> dict[str, Any] | None:
        calls.append((headers, payload))
        return check_sensitive(keys, headers, payload)

    monkeypatch.setattr(sim_server, "check_sensitive", recording)
    return calls


def abnormal(sim: WeChatPaySimulator, channel: WeChatPayChannel, refund_no: str) -> tuple[RefundOrder, str]:
    """A refund WeChat Pay took and then reported ABNORMAL (the payer's card account was closed)."""
    order = refund(paid(sim, f"O{refund_no}"), refund_no, 2_500)
    sim.set_fault(refund_no, "abnormal")
    assert channel.submit(order).outcome is Outcome.ACCEPTED
    stuck = channel.query(order)
    assert (stuck.outcome, stuck.code) == (Outcome.ABNORMAL, "ABNORMAL")
    return order, stuck.channel_refund_id


def applications(sim: WeChatPaySimulator, refund_no: str) -> int:
    row = sim.book.lookup(refund_no)
    assert row is not None
    return int(row["abnormal_applications"])


def test_to_the_customers_card_is_encrypted_applied_once_and_then_succeeds(
    sim: WeChatPaySimulator, channel: WeChatPayChannel, seen: list[tuple[Message, Any]]
) -> None:
    order, refund_id = abnormal(sim, channel, "AB0001")

    taken = channel.apply_abnormal_refund(CardRefund(order, refund_id, CARD))

    assert (taken.outcome, taken.code, taken.channel_refund_id) == (Outcome.ACCEPTED, "PROCESSING", refund_id)
    [(headers, body)] = seen
    assert set(body) == DOCUMENTED
    assert (body["out_refund_no"], body["type"], body["bank_type"]) == ("AB0001", "USER_BANK_CARD", "ICBC_DEBIT")
    assert headers["Wechatpay-Serial"] == sim.platform_public_key_id
    assert headers["Authorization"].startswith('WECHATPAY2-SHA256-RSA2048 mchid="')
    assert CARD.account not in str(body) and CARD.real_name not in str(body)  # never in clear on the wire
    platform = sim.keys.platform_private_key
    assert decrypt_sensitive(platform, body["bank_account"]) == CARD.account
    assert decrypt_sensitive(platform, body["real_name"]) == CARD.real_name
    oaep = OAEP(mgf=MGF1(algorithm=SHA1()), algorithm=SHA1(), label=None)
    assert len(platform.public_key().encrypt(b"x", oaep)) * 4 // 3 <= len(body["bank_account"]) + 2

    final = channel.query(order)
    assert (final.outcome, final.details["channel"]) == (Outcome.SUCCEEDED, "OTHER_BANKCARD")
    again = channel.apply_abnormal_refund(CardRefund(order, refund_id, CARD))
    assert (again.outcome, again.code) == (Outcome.SUCCEEDED, "SUCCESS")  # the same application: its refund now
    assert applications(sim, "AB0001") == 1


def test_to_the_merchants_account_sends_no_card(
    sim: WeChatPaySimulator, channel: WeChatPayChannel, seen: list[tuple[Message, Any]]
) -> None:
    order, refund_id = abnormal(sim, channel, "AB0002")
    taken = channel.apply_abnormal_refund(CardRefund(order, refund_id, CardDetails(CardKind.MERCHANT_BANK_CARD)))
    assert taken.outcome is Outcome.ACCEPTED
    [(_headers, body)] = seen
    assert body == {"out_refund_no": "AB0002", "type": "MERCHANT_BANK_CARD"}
    assert applications(sim, "AB0002") == 1


def test_refusals_are_declined_with_the_channels_code(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    order, refund_id = abnormal(sim, channel, "AB0003")
    not_listed = CardDetails(CardKind.USER_BANK_CARD, "HXB_DEBIT", CARD.account, CARD.real_name)
    refused = channel.apply_abnormal_refund(CardRefund(order, refund_id, not_listed))
    assert (refused.outcome, refused.code) == (Outcome.DECLINED, "PARAM_ERROR")
    unknown_id = channel.apply_abnormal_refund(CardRefund(order, "50000000000000000000000000000", CARD))
    assert (unknown_id.outcome, unknown_id.code) == (Outcome.DECLINED, "RESOURCE_NOT_EXISTS")

    fine = refund(paid(sim, "OAB0004"), "AB0004", 1_000)
    assert channel.submit(fine).outcome is Outcome.ACCEPTED
    done = channel.query(fine)
    assert done.outcome is Outcome.SUCCEEDED
    not_abnormal = channel.apply_abnormal_refund(CardRefund(fine, done.channel_refund_id, CARD))
    assert (not_abnormal.outcome, not_abnormal.code) == (Outcome.DECLINED, "INVALID_REQUEST")
    assert applications(sim, "AB0003") == 0 and applications(sim, "AB0004") == 0


def test_a_card_encrypted_to_another_key_is_refused(keys: WeChatPayKeys) -> None:
    other = WeChatPayKeys.generate()
    foreign = make_channel_keys(other)
    headers = Message()
    headers["Wechatpay-Serial"] = keys.platform_public_key_id
    payload = {"type": "USER_BANK_CARD", "bank_account": foreign, "real_name": foreign}
    assert check_sensitive(keys, headers, payload) == {"code": "PARAM_ERROR", "message": "敏感信息解密失败"}
    headers.replace_header("Wechatpay-Serial", other.platform_public_key_id)
    refused = check_sensitive(keys, headers, payload)
    assert refused is not None and refused["code"] == "PARAM_ERROR"


def make_channel_keys(other: WeChatPayKeys) -> str:
    """A card number encrypted as a client holding ``other``'s platform key would."""
    from wechatpayv3.utils import rsa_encrypt

    return str(rsa_encrypt(CARD.account, other.platform_private_key.public_key()))


def test_a_lost_answer_then_a_query_shows_it_applied_once(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    order, refund_id = abnormal(sim, channel, "AB0005")
    sim.book.set_apply_fault("AB0005", "drop_after_accept")
    lost = channel.apply_abnormal_refund(CardRefund(order, refund_id, CARD))
    assert lost.outcome is Outcome.UNKNOWN
    assert channel.query(order).outcome in (Outcome.ACCEPTED, Outcome.SUCCEEDED)
    assert applications(sim, "AB0005") == 1


def test_a_system_error_applies_nothing(sim: WeChatPaySimulator, channel: WeChatPayChannel) -> None:
    order, refund_id = abnormal(sim, channel, "AB0006")
    sim.book.set_apply_fault("AB0006", "system_error_no_effect")
    failed = channel.apply_abnormal_refund(CardRefund(order, refund_id, CARD))
    assert (failed.outcome, failed.code) == (Outcome.UNKNOWN, "SYSTEM_ERROR")
    assert channel.query(order).outcome is Outcome.ABNORMAL
    assert applications(sim, "AB0006") == 0
