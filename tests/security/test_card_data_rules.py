"""The card-data rules beyond the written forms: track data and labelled CVVs have their own codes, long
order numbers and tokens are not mistaken for cards, signed channel callbacks are not user input, identifiers
are ASCII as their channels take them, and a worker sweep goes on past a case that raises."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.db import tables
from posrefund.config import Settings
from posrefund.domain.channel import RefundOrder
from posrefund.domain.errors import Invalid
from posrefund.entrypoints.api.app import create_app
from posrefund.service import execution, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.api.conftest import Auth, refund_body
from tests.conftest import World
from tests.security.probes import PAN, Probe, rows
from tests.support.fakes import FakeChannel, FakeVerifier
from tests.support.helpers import new_sale, sale_body, sale_input

TRACK1 = "%B4111111111111111^ZHANG/SAN^2812101000000000000000?"
TRACK2 = ";4111111111111111=28121010000000000000?"


def post_note(client: TestClient, auth: Auth, probe: Probe, note: str) -> Any:
    body = refund_body(probe.sale().id, note=note)
    return client.post("/v1/refunds", json=body, headers=auth("a.cashier", **{"Idempotency-Key": "k"}))


@pytest.mark.parametrize(
    ("note", "code"),
    [
        (f"刷卡数据 {TRACK1}", "track_data_detected"),
        (f"磁道 {TRACK2}", "track_data_detected"),
        ("4111111111111111D2812101", "track_data_detected"),
        ("CVV: 123", "cvv_detected"),
        ("顾客说安全码是 4321", "cvv_detected"),
        ("ｃｖｃ２＝０１２", "cvv_detected"),
    ],
)
def test_track_data_and_a_labelled_cvv_have_their_own_code(
    note: str, code: str, client: TestClient, auth: Auth, probe: Probe
) -> None:
    r = post_note(client, auth, probe, note)
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["params"]) == (code, {"field": "note"})
    probe.nothing_kept(PAN)


def test_messages_name_the_field_in_chinese_and_english(client: TestClient, auth: Auth, probe: Probe) -> None:
    zh = post_note(client, auth, probe, PAN).json()["message"]
    en_headers = auth("a.cashier", **{"Idempotency-Key": "k2", "Accept-Language": "en"})
    en = client.post("/v1/refunds", json={"note": PAN}, headers=en_headers).json()["message"]
    assert zh == "请勿提交完整银行卡号，请只填写卡号后四位（字段：备注）"
    assert en == "Never send a full card number, give only its last four digits (field: note)"


@pytest.mark.parametrize(
    "note",
    [
        "订单 2026120422001234567890",  # an Alipay trade no.: 22 digits, not cut into a card
        "order 20261204000012345 paid",  # 17 digits starting 2026: no card scheme issues 20…
        "小票 20261204-0031, 手机 138 1234 5678",
        "CVV 已核对，退 12 元",
    ],
)
def test_long_order_numbers_and_plain_notes_are_not_cards(
    note: str, client: TestClient, auth: Auth, probe: Probe
) -> None:
    assert post_note(client, auth, probe, note).status_code == 201


@pytest.mark.parametrize(
    ("content_type", "body", "field"),
    [
        ("text/plain", "card 4111.1111.1111.1111", "body"),
        ("TEXT/PLAIN; charset=utf-8", "４１１１ １１１１ １１１１ １１１１", "body"),
        ("application/octet-stream", "٤١١١١١١١١١١١١١١١", "body"),
        ("APPLICATION/X-WWW-FORM-URLENCODED", "note=4111%E3%80%801111%E3%80%801111%E3%80%801111", "note"),
        (
            "Multipart/Form-Data; boundary=XyZ",
            '--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
            "4111\u200b1111\u200b1111\u200b1111\r\n--XyZ--\r\n",
            "note",
        ),
    ],
)
def test_any_content_type_is_searched_whatever_its_case(
    content_type: str, body: str, field: str, client: TestClient, auth: Auth
) -> None:
    headers = {**auth("a.cashier"), "Content-Type": content_type, "Idempotency-Key": "k"}
    r = client.post("/v1/refunds", content=body.encode("utf-8"), headers=headers)
    assert r.status_code == 422 and (r.json()["code"], r.json()["params"]) == ("pan_detected", {"field": field})


def test_track_data_is_refused_even_in_the_authorization_header(client: TestClient) -> None:
    r = client.get("/v1/refunds", headers={"Authorization": f"Bearer {TRACK2}"})
    assert r.status_code == 422 and r.json()["code"] == "track_data_detected"
    assert r.json()["params"] == {"field": "headers.authorization"}


def test_digits_in_a_token_or_a_multipart_boundary_are_not_taken_for_a_card(client: TestClient, auth: Auth) -> None:
    """Bearer tokens and boundaries are random: a run of digits in one must not lock anybody out."""
    r = client.get("/v1/refunds", headers={"Authorization": f"Bearer x{PAN}y"})
    assert r.status_code == 401 and r.json()["code"].startswith("auth.")
    body = b'--b4111111111111111\r\nContent-Disposition: form-data; name="kind"\r\n\r\nreceipt\r\n--b4111111111111111--\r\n'
    headers = {**auth("a.cashier"), "Content-Type": "multipart/form-data; boundary=b4111111111111111"}
    assert client.post("/v1/evidence", content=body, headers=headers).json()["code"] == "request.invalid"


def test_a_genuine_signed_callback_is_not_refused_for_its_digits(deps: Deps, world: World, backend: str) -> None:
    """A channel's own body and headers (ids, certificate serials) are checked by its signature, not by the
    card-data guard; the callback route keeps the verified outcome, never the raw body."""
    fake, verifier = FakeChannel(script={}), FakeVerifier()
    router = Router(channels={"wechat": fake}, is_workday=ChineseCalendar().is_workday, verifiers={"wechat": verifier})
    app = create_app(deps, inline=backend == "sqlite", router=router)
    sale = new_sale(deps, world.a)
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=500, reason="other")
    )
    fake.script[case.refund_no] = ["processing"]
    execution.sweep(deps, router)
    doc = {"refund_no": case.refund_no, "outcome": "succeeded", "id": "N-1", "ts": 1, "transaction_id": PAN}
    body = json.dumps(doc).encode()
    with TestClient(app) as client:
        headers = {"x-sig": verifier.sign(body), "wechatpay-serial": PAN}
        r = client.post("/v1/callbacks/wechatpay", content=body, headers=headers)
        assert r.status_code == 200 and r.json()["code"] == "SUCCESS"
        assert client.post(f"/v1/callbacks/wechatpay?x={PAN}", content=body, headers=headers).status_code == 422
    assert refunds.get_case(deps, world.a.actors["auditor"], case.id).case.status.value == "succeeded"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("voucher_no", "٠٠٠١٢٣"),
        ("voucher_no", "０００１２３"),
        ("voucher_no", "000123\n"),
        ("batch_no", "²"),
        ("rrn", "ＡＢ１２"),
        ("order_no", "ORD١"),
    ],
)
def test_identifiers_take_only_the_ascii_their_channel_allows(
    field: str, value: str, client: TestClient, auth: Auth, deps: Deps, world: World, engine: Engine
) -> None:
    body = sale_body(world.a, deps.clock.now(), **{field: value})
    r = client.post("/v1/sales", json=body, headers=auth("a.terminal"))
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"
    with pytest.raises(Invalid) as refused:  # the console, the CLI import and scripts go through the service
        sales.record_sale(deps, world.a.actors["cashier"], sale_input(world.a, deps.clock.now(), **{field: value}))
    assert (refused.value.code, refused.value.params) == ("sale.invalid_field", {"field": field})
    assert rows(engine, tables.sales) == 0


def test_a_terminal_number_with_a_trailing_newline_is_refused(client: TestClient, auth: Auth, world: World) -> None:
    body = {"store_id": world.a.store_id, "terminal_no": "T0001\n", "device_sn": "SN1"}
    r = client.post("/v1/terminals", json=body, headers=auth("a.admin"))
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"


def test_a_case_that_raises_does_not_stop_the_sweep_and_is_logged_masked(
    deps: Deps, world: World, settings: Settings
) -> None:
    from posrefund.entrypoints import worker

    def broken(kind: str, order: RefundOrder) -> None:
        if order.refund_no == first.refund_no:
            raise ValueError(f"cannot encode voucher for card {PAN}")

    fake = FakeChannel(on_call=broken)
    router = Router(channels={"wechat": fake}, is_workday=ChineseCalendar().is_workday)
    cashier = world.a.actors["cashier"]
    first, second = (
        refunds.request_refund(
            deps, cashier, RefundRequest(sale_id=new_sale(deps, world.a).id, amount_fen=500, reason="other")
        )
        for _ in range(2)
    )
    assert execution.sweep(deps, router, failed=worker.case_failed) == 2
    auditor = world.a.actors["auditor"]
    assert refunds.get_case(deps, auditor, second.id).case.status.value == "succeeded"
    assert refunds.get_case(deps, auditor, first.id).case.status.value == "processing"  # tried again later
    log = settings.log_file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "worker.case_failed" in log and first.id in log and "[PAN]" in log and PAN not in log
