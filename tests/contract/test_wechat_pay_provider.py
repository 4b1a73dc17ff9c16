"""WeChat Pay as a payment service provider (服务商) uses it, and what a correct signature does not prove.

Real HTTP to the simulator: a provider's refund and query name the sub-merchant (``sub_mchid``); a connection
that was never made is NOT_SENT, not unknown. Through the real callback route and ``execution.apply_callback``:
a correctly signed notification that states another refund amount, order total or refund number never succeeds
a case; the receiving account (零钱 or a bank card) sets the expected arrival.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
import urllib3
from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.channels.wechatpay.client import transport_answer
from posrefund.domain.channel import Method, OriginalSale, Outcome, RefundOrder
from posrefund.domain.channel_facts import checked_against
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.entrypoints.api.app import create_app
from posrefund.service import channel_accounts, execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from posrefund.simulators.wechatpay.crypto import encrypt_resource
from posrefund.simulators.wechatpay.gateway import signed_headers
from posrefund.simulators.wechatpay.server import WeChatPayKeys, WeChatPaySimulator
from tests.conftest import World
from tests.contract.test_wechat_pay import make_channel, make_verifier
from tests.support.helpers import new_sale

SUB = "1900000109"
OTHER_SUB = "1900000110"


@pytest.fixture(scope="module")
def keys() -> WeChatPayKeys:
    return WeChatPayKeys.generate()


def order(refund_no: str, sale: OriginalSale, amount_fen: int = 2_500) -> RefundOrder:
    return RefundOrder(refund_no, amount_fen, "CNY", "goods_quality", Method.REFUND, sale)


def paid(sim: WeChatPaySimulator, order_no: str, sub_mchid: str = "", total_fen: int = 10_000) -> OriginalSale:
    at = datetime.now(UTC) - timedelta(days=1)
    sim.add_payment(order_no, total_fen, at, sub_mchid=sub_mchid)
    return OriginalSale("wechat", order_no, total_fen, "CNY", at, merchant_no=sub_mchid)


# ---- 服务商 mode --------------------------------------------------------------------------------------------


@pytest.fixture
def provider_sim(keys: WeChatPayKeys) -> Iterator[WeChatPaySimulator]:
    with WeChatPaySimulator(keys=keys, sub_merchants=[SUB], notify_retry_delays=(0.05,)) as sim:
        yield sim


def test_provider_refund_and_query_carry_the_sub_merchant(provider_sim: WeChatPaySimulator) -> None:
    sim = provider_sim
    channel = make_channel(sim, service_provider=True)
    sale = paid(sim, "ORD-SP-1", SUB)

    accepted = channel.submit(order("RF-SP-1", sale))
    found = channel.query(order("RF-SP-1", sale))

    assert (accepted.outcome, accepted.code) == (Outcome.ACCEPTED, "PROCESSING")
    assert found.outcome in (Outcome.ACCEPTED, Outcome.SUCCEEDED)
    assert [(row["refund_no"], row["sub_mchid"], row["amount_fen"]) for row in sim.ledger()] == [
        ("RF-SP-1", SUB, 2_500)
    ]


def test_provider_query_for_another_sub_merchant_finds_nothing(provider_sim: WeChatPaySimulator) -> None:
    sim = provider_sim
    channel = make_channel(sim, service_provider=True)
    sale = paid(sim, "ORD-SP-2", SUB)
    assert channel.submit(order("RF-SP-2", sale)).outcome is Outcome.ACCEPTED

    other = OriginalSale("wechat", "ORD-SP-2", 10_000, "CNY", sale.paid_at, merchant_no=OTHER_SUB)
    answer = channel.query(order("RF-SP-2", other))

    assert (answer.outcome, answer.code) == (Outcome.NOT_FOUND, "RESOURCE_NOT_EXISTS")


def test_provider_refund_for_an_unbound_sub_merchant_is_declined(provider_sim: WeChatPaySimulator) -> None:
    sim = provider_sim
    sale = paid(sim, "ORD-SP-3", OTHER_SUB)

    answer = make_channel(sim, service_provider=True).submit(order("RF-SP-3", sale))

    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "NO_AUTH")
    assert sim.ledger() == []


def test_direct_merchant_request_to_a_provider_account_is_declined(provider_sim: WeChatPaySimulator) -> None:
    sim = provider_sim
    sale = paid(sim, "ORD-SP-4", SUB)

    answer = make_channel(sim).submit(order("RF-SP-4", sale))

    assert (answer.outcome, answer.code) == (Outcome.DECLINED, "PARAM_ERROR")
    assert sim.ledger() == []


def test_provider_without_a_sub_merchant_sends_nothing_and_asks_a_person(provider_sim: WeChatPaySimulator) -> None:
    sim = provider_sim
    sale = paid(sim, "ORD-SP-5", "")

    answer = make_channel(sim, service_provider=True).submit(order("RF-SP-5", sale))

    assert (answer.outcome, answer.code) == (Outcome.ABNORMAL, "NO_SUB_MCHID")
    assert sim.ledger() == []


def test_provider_notification_names_both_merchants(keys: WeChatPayKeys) -> None:
    with WeChatPaySimulator(keys=keys, sub_merchants=[SUB]) as sim:
        sale = paid(sim, "ORD-SP-6", SUB)
        refund = sim.book.create(
            {
                "out_refund_no": "RF-SP-6",
                "out_trade_no": "ORD-SP-6",
                "sub_mchid": SUB,
                "notify_url": "",
                "amount": {"refund": 2_500, "total": 10_000, "currency": "CNY"},
            }
        )
        assert refund.status == 200
        sim.complete("RF-SP-6")
        plain = sim.book.notification_plain(sim.book._refunds["RF-SP-6"])
    assert (plain["sp_mchid"], plain["sub_mchid"]) == (sim.mchid, SUB)
    assert "mchid" not in plain
    headers, body = _signed(keys, plain)
    notice = make_verifier(sim, service_provider=True).verify(headers, body)
    assert checked_against(notice.answer, order("RF-SP-6", sale)).outcome is Outcome.SUCCEEDED
    wrong_sub = OriginalSale("wechat", "ORD-SP-6", 10_000, "CNY", sale.paid_at, merchant_no=OTHER_SUB)
    mismatch = checked_against(notice.answer, order("RF-SP-6", wrong_sub))
    assert (mismatch.outcome, mismatch.code) == (Outcome.ABNORMAL, "MISMATCH_SUB_MERCHANT")


# ---- NOT_SENT -------------------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_connection_refused_is_not_sent(keys: WeChatPayKeys) -> None:
    with WeChatPaySimulator(keys=keys) as sim:
        channel = make_channel(sim, base_url=f"http://127.0.0.1:{_closed_port()}")
        sale = paid(sim, "ORD-NS")

    submitted = channel.submit(order("RF-NS", sale))
    queried = channel.query(order("RF-NS", sale))

    assert (submitted.outcome, submitted.code) == (Outcome.NOT_SENT, "CONNECTION_REFUSED")
    assert (queried.outcome, queried.code) == (Outcome.NOT_SENT, "CONNECTION_REFUSED")


def test_unresolvable_host_is_not_sent(keys: WeChatPayKeys) -> None:
    with WeChatPaySimulator(keys=keys) as sim:
        channel = make_channel(sim, base_url="http://posrefund-nowhere.invalid")
        sale = paid(sim, "ORD-DNS")

    answer = channel.submit(order("RF-DNS", sale))

    assert (answer.outcome, answer.code, answer.message) == (
        Outcome.NOT_SENT,
        "CONNECTION_REFUSED",
        "NameResolutionError",
    )


@pytest.mark.parametrize(
    "error,outcome,code",
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), Outcome.NOT_SENT, "CONNECT_TIMEOUT"),
        (requests.exceptions.ReadTimeout("read timed out"), Outcome.UNKNOWN, "TIMEOUT"),
        (  # the connection was made and dropped mid-answer: the request may have been read
            requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.")),
            Outcome.UNKNOWN,
            "CONNECTION_ERROR",
        ),
    ],
    ids=["connect_timeout", "read_timeout", "dropped"],
)
def test_only_errors_before_the_request_left_are_not_sent(error: OSError, outcome: Outcome, code: str) -> None:
    answer = transport_answer(error)
    assert (answer.outcome, answer.code) == (outcome, code)


def test_a_request_that_reached_wechat_and_timed_out_stays_unknown(keys: WeChatPayKeys) -> None:
    with WeChatPaySimulator(keys=keys, hang_seconds=2.0) as sim:
        sale = paid(sim, "ORD-TO")
        sim.set_fault("RF-TO", "no_answer_after_accept")
        answer = make_channel(sim).submit(order("RF-TO", sale))
    assert (answer.outcome, answer.code) == (Outcome.UNKNOWN, "TIMEOUT")


@pytest.mark.parametrize(
    "account,kind",
    [("支付用户零钱", "balance"), ("招商银行信用卡0403", "bank_card"), ("商户基本账户", "merchant_account")],
)
def test_the_answer_names_the_kind_of_receiving_account(keys: WeChatPayKeys, account: str, kind: str) -> None:
    with WeChatPaySimulator(keys=keys, processing_queries=0) as sim:
        at = datetime.now(UTC) - timedelta(days=1)
        sim.add_payment("ORD-ACC", 10_000, at, user_received_account=account)
        sale = OriginalSale("wechat", "ORD-ACC", 10_000, "CNY", at)
        channel = make_channel(sim)
        assert channel.submit(order("RF-ACC", sale)).outcome is Outcome.ACCEPTED
        done = channel.query(order("RF-ACC", sale))
    assert (done.outcome, done.details["user_received_account"], done.details["receiving_account"]) == (
        Outcome.SUCCEEDED,
        account,
        kind,
    )


# ---- notifications through the API --------------------------------------------------------------------------


def _signed(keys: WeChatPayKeys, plain: dict[str, Any], event: str = "REFUND.SUCCESS") -> tuple[dict[str, str], bytes]:
    """A notification as WeChat Pay signs it: whatever it states, the signature and encryption are genuine."""
    resource = encrypt_resource(keys.apiv3_key, json.dumps(plain, ensure_ascii=False).encode(), "refund")
    envelope = {
        "id": f"EV-{plain['out_refund_no']}-{plain['amount']['refund']}-{plain['amount']['total']}",
        "create_time": "2026-11-20T10:00:00+08:00",
        "resource_type": "encrypt-resource",
        "event_type": event,
        "summary": "退款成功",
        "resource": resource,
    }
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    return signed_headers(keys, body, "application/json"), body


def _plain(sim: WeChatPaySimulator, case: RefundCase, order_no: str, total: int, **kw: Any) -> dict[str, Any]:
    plain: dict[str, Any] = {
        "mchid": sim.mchid,
        "out_trade_no": order_no,
        "transaction_id": "4200000001202611200000000001",
        "out_refund_no": case.refund_no,
        "refund_id": "50000000012026112000000000001",
        "refund_status": "SUCCESS",
        "success_time": "2026-11-20T15:00:00+08:00",
        "user_received_account": "支付用户零钱",
        "amount": {"total": total, "refund": case.amount_fen, "payer_total": total, "payer_refund": case.amount_fen},
    }
    plain.update(kw)
    return plain


class Setting:
    def __init__(self, deps: Deps, world: World, sim: WeChatPaySimulator, router: Router, sub_mchid: str = "") -> None:
        self.deps, self.world, self.sim, self.router, self.sub_mchid = deps, world, sim, router, sub_mchid

    def processing_case(self, total: int = 10_000, amount: int = 2_500) -> tuple[RefundCase, str]:
        sale = new_sale(self.deps, self.world.a, channel="wechat", amount_fen=total)
        self.sim.add_payment(sale.order_no, total, sale.paid_at, sub_mchid=self.sub_mchid)
        case = refunds.request_refund(
            self.deps, self.world.a.actors["cashier"], RefundRequest(sale.id, amount, "other")
        )
        self.sim.set_fault(case.refund_no, "processing_then_success", times=10**6)  # only a notification finishes it
        execution.advance(self.deps, self.router, case.merchant_id, case.id)
        assert self.case(case).status is RefundStatus.PROCESSING
        return case, sale.order_no

    def case(self, case: RefundCase) -> RefundCase:
        return refunds.get_case(self.deps, self.world.a.actors["auditor"], case.id).case


@pytest.fixture
def setting(deps: Deps, world: World, keys: WeChatPayKeys) -> Iterator[Setting]:
    with WeChatPaySimulator(keys=keys, processing_queries=10**6) as sim:
        calendar = ChineseCalendar(overrides={date(2026, 11, 24): False})  # a one-day closure: not a working day
        router = Router(
            channels={"wechat": make_channel(sim, timeout=2.0)},
            is_workday=calendar.is_workday,
            verifiers={"wechat": make_verifier(sim)},
            overrides=calendar.overrides,
        )
        yield Setting(deps, world, sim, router)


def _post(setting: Setting, backend: str, headers: dict[str, str], body: bytes) -> int:
    app = create_app(setting.deps, inline=backend == "sqlite", router=setting.router)
    with TestClient(app) as client:
        return client.post("/v1/callbacks/wechatpay", content=body, headers=headers).status_code


@pytest.mark.parametrize(
    "stated,code",
    [
        (
            {"amount": {"total": 10_000, "refund": 1, "payer_total": 10_000, "payer_refund": 1}},
            "MISMATCH_REFUND_AMOUNT",
        ),
        (
            {"amount": {"total": 99_999, "refund": 2_500, "payer_total": 99_999, "payer_refund": 2_500}},
            "MISMATCH_TOTAL_AMOUNT",
        ),
    ],
    ids=["refund_amount", "total"],
)
def test_signed_notification_with_another_amount_goes_to_a_person(
    setting: Setting, backend: str, stated: dict[str, Any], code: str
) -> None:
    case, order_no = setting.processing_case()
    headers, body = _signed(setting.sim.keys, _plain(setting.sim, case, order_no, 10_000, **stated))

    assert _post(setting, backend, headers, body) == 200

    after = setting.case(case)
    assert (after.status, after.last_code, after.succeeded_at) == (RefundStatus.ABNORMAL, code, None)


def test_signed_notification_naming_another_refund_number_succeeds_neither_case(setting: Setting, backend: str) -> None:
    mine, my_order = setting.processing_case(total=10_000)
    other, _other_order = setting.processing_case(total=8_000)
    # Our sale and amounts, but the other case's refund number; and one for a number nobody sent.
    wrong = _plain(setting.sim, mine, my_order, 10_000, out_refund_no=other.refund_no)
    unknown = _plain(setting.sim, mine, my_order, 10_000, out_refund_no="RF-NOBODY-SENT-THIS")

    assert _post(setting, backend, *_signed(setting.sim.keys, wrong)) == 200
    assert _post(setting, backend, *_signed(setting.sim.keys, unknown)) == 404

    assert setting.case(mine).status is RefundStatus.PROCESSING
    assert (setting.case(other).status, setting.case(other).last_code) == (
        RefundStatus.ABNORMAL,
        "MISMATCH_TOTAL_AMOUNT",
    )


@pytest.mark.parametrize(
    "account,channel,arrival",
    [
        ("支付用户零钱", "ORIGINAL", date(2026, 11, 20)),  # 零钱: minutes, the same day
        ("招商银行信用卡0403", "ORIGINAL", date(2026, 11, 26)),  # Fri → Mon, (Tue closed), Wed, Thu
        ("工商银行借记卡1234", "OTHER_BANKCARD", date(2026, 11, 26)),
    ],
    ids=["balance", "original_card", "other_bankcard"],
)
def test_receiving_account_sets_the_expected_arrival(
    setting: Setting, backend: str, account: str, channel: str, arrival: date
) -> None:
    case, order_no = setting.processing_case()
    plain = _plain(setting.sim, case, order_no, 10_000, user_received_account=account, channel=channel)

    assert _post(setting, backend, *_signed(setting.sim.keys, plain)) == 200

    after = setting.case(case)
    assert (after.status, after.expected_arrival) == (RefundStatus.SUCCEEDED, arrival)


def test_wrong_amount_fault_notification_is_signed_but_not_this_refund(keys: WeChatPayKeys) -> None:
    with WeChatPaySimulator(keys=keys) as sim:
        sale = paid(sim, "ORD-WA")
        sim.set_fault("RF-WA", "wrong_amount_callback")
        assert make_channel(sim).submit(order("RF-WA", sale)).outcome is Outcome.ACCEPTED
        sim.complete("RF-WA")
        plain = sim.book.notification_plain(sim.book._refunds["RF-WA"])
    notice = make_verifier(sim).verify(*_signed(keys, plain))
    assert notice.answer.outcome is Outcome.SUCCEEDED  # genuine signature, genuine decryption
    checked = checked_against(notice.answer, order("RF-WA", sale))
    assert (checked.outcome, checked.code) == (Outcome.ABNORMAL, "MISMATCH_REFUND_AMOUNT")


# ---- 服务商 mode through the worker and the callback route ---------------------------------------------------


@pytest.fixture
def provider_setting(deps: Deps, world: World, keys: WeChatPayKeys) -> Iterator[Setting]:
    with WeChatPaySimulator(keys=keys, processing_queries=10**6, sub_merchants=[SUB]) as sim:
        calendar = ChineseCalendar()
        router = Router(
            channels={"wechat": make_channel(sim, timeout=2.0, service_provider=True)},
            is_workday=calendar.is_workday,
            verifiers={"wechat": make_verifier(sim, service_provider=True)},
        )
        channel_accounts.set_channel_account(deps, world.provider, world.a.id, "wechat", sub_mchid=SUB)
        yield Setting(deps, world, sim, router, sub_mchid=SUB)


def test_provider_worker_sends_the_merchants_sub_mchid(provider_setting: Setting) -> None:
    case, order_no = provider_setting.processing_case()

    assert [(r["refund_no"], r["out_trade_no"], r["sub_mchid"]) for r in provider_setting.sim.ledger()] == [
        (case.refund_no, order_no, SUB)
    ]


@pytest.mark.parametrize(
    "stated_sub,status,code",
    [(SUB, RefundStatus.SUCCEEDED, "SUCCESS"), (OTHER_SUB, RefundStatus.ABNORMAL, "MISMATCH_SUB_MERCHANT")],
)
def test_provider_notification_must_name_the_merchants_sub_mchid(
    provider_setting: Setting, backend: str, stated_sub: str, status: RefundStatus, code: str
) -> None:
    setting = provider_setting
    case, order_no = setting.processing_case()
    plain = _plain(setting.sim, case, order_no, 10_000)
    del plain["mchid"]
    plain |= {"sp_mchid": setting.sim.mchid, "sub_mchid": stated_sub}

    assert _post(setting, backend, *_signed(setting.sim.keys, plain)) == 200

    after = setting.case(case)
    assert (after.status, after.last_code) == (status, code)
