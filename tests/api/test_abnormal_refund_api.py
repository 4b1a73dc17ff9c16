"""An abnormal WeChat Pay refund sent to the customer's bank card, end to end through the API, the worker and the
WeChat Pay simulator (on SQLite and PostgreSQL): refund → ABNORMAL (the payer's card account closed) → a supervisor
applies with the customer's consent → processing → the worker follows it to succeeded, exactly once. A lost answer
to the application is followed by a query, so the money is never sent twice; every refusal is a 4xx with a code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from posrefund.demo import channels
from posrefund.entrypoints.api.app import create_app
from posrefund.service import execution
from posrefund.service.deps import Deps
from posrefund.simulators.wechatpay.server import WeChatPaySimulator
from tests.api.conftest import Auth, refund_body
from tests.conftest import FixedClock, World
from tests.support.helpers import new_sale
from tests.support.limits import RELAXED

ACCOUNT = "6222021234567890128"


@pytest.fixture
def sims() -> Iterator[channels.Simulated]:
    simulated = channels.start("http://127.0.0.1:9", timeout=2.0)  # no callbacks: the worker asks
    yield simulated
    simulated.close()


@pytest.fixture
def app(deps: Deps, backend: str, sims: channels.Simulated) -> FastAPI:
    return create_app(deps, inline=backend == "sqlite", rate_limits=RELAXED, router=sims.router)


def application(**kw: Any) -> dict[str, Any]:
    return {
        "type": "USER_BANK_CARD",
        "bank_type": "ICBC_DEBIT",
        "bank_account": "6222 0212 3456 7890 128",
        "real_name": "张三",
        "consent_by": "张三",
        "consent_how": "phone",
        "consent_at": "2026-11-20T09:30:00+08:00",
        "reason": "原卡已注销，顾客来电同意退至工行借记卡",
        **kw,
    }


def drive(deps: Deps, sims: channels.Simulated, clock: FixedClock, merchant_id: str, case_id: str, want: str) -> str:
    """Run the worker (as time passes) until the case reaches ``want``; its status at the end."""
    status = ""
    for _ in range(12):
        execution.sweep(deps, sims.router)
        with deps.uow(readonly=True) as uow:
            case = uow.refunds.get_case(merchant_id, case_id)
        status = case.status.value if case else ""
        if status == want:
            break
        clock.advance(seconds=61)
    return status


def abnormal_case(
    client: TestClient, auth: Auth, deps: Deps, world: World, sims: channels.Simulated, clock: FixedClock
) -> dict[str, Any]:
    """A WeChat Pay refund the channel reported ABNORMAL, as the API shows it."""
    sale = new_sale(deps, world.a, channel="wechat", amount_fen=5_000)
    made = client.post(
        "/v1/refunds", json=refund_body(sale.id, 2_000), headers=auth("a.cashier", **{"Idempotency-Key": sale.id})
    )
    assert made.status_code == 201, made.text
    case = made.json()
    if case["status"] == "pending_review":
        approved = client.post(f"/v1/refunds/{case['id']}/approve", json={}, headers=auth("a.supervisor"))
        assert approved.status_code == 200, approved.text
    sims.simulators["wechat"].set_fault(case["refund_no"], "abnormal")
    assert drive(deps, sims, clock, world.a.id, case["id"], "abnormal") == "abnormal"
    return dict(client.get(f"/v1/refunds/{case['id']}", headers=auth("a.supervisor")).json())


def applications(wechat: WeChatPaySimulator, refund_no: str) -> int:
    row = wechat.book.lookup(refund_no)
    assert row is not None
    return int(row["abnormal_applications"])


def test_abnormal_refund_to_the_customers_card_succeeds_once(
    client: TestClient, auth: Auth, deps: Deps, world: World, sims: channels.Simulated, clock: FixedClock
) -> None:
    case = abnormal_case(client, auth, deps, world, sims, clock)
    auth = Auth(client.app, world)  # tokens of the time the worker got to
    wechat = sims.simulators["wechat"]

    applied = client.post(f"/v1/refunds/{case['id']}/abnormal-refund", json=application(), headers=auth("a.supervisor"))

    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert body["refund"]["status"] == "processing"
    shown = body["application"]
    assert (shown["kind"], shown["bank_type"], shown["account_masked"]) == ("USER_BANK_CARD", "ICBC_DEBIT", "****0128")
    assert (shown["real_name_masked"], shown["consent_how"], shown["status"], shown["sends"]) == (
        "张*",
        "phone",
        "accepted",
        1,
    )
    assert ACCOUNT not in applied.text
    assert drive(deps, sims, clock, world.a.id, case["id"], "succeeded") == "succeeded"
    auth = Auth(client.app, world)
    assert applications(wechat, case["refund_no"]) == 1
    assert wechat.book.lookup(case["refund_no"])["status"] == "SUCCESS"

    again = client.post(f"/v1/refunds/{case['id']}/abnormal-refund", json=application(), headers=auth("a.supervisor"))
    assert (again.status_code, again.json()["code"]) == (409, "abnormal_refund.not_abnormal")
    events = client.get(f"/v1/refunds/{case['id']}/events", headers=auth("a.supervisor")).json()["items"]
    actions = [e["action"] for e in events]
    assert actions[-3:] == ["refund.abnormal_refund_applied", "refund.processing", "refund.succeeded"]
    [applied_event] = [e for e in events if e["action"] == "refund.abnormal_refund_applied"]
    assert applied_event["reason"] == application()["reason"]
    assert ACCOUNT not in str(events) and "张三" not in str(events)
    read = client.get(f"/v1/refunds/{case['id']}/abnormal-refund", headers=auth("a.cashier"))
    assert (read.status_code, read.json()["account_masked"]) == (200, "****0128")


def test_a_lost_answer_is_asked_about_and_never_applied_twice(
    client: TestClient, auth: Auth, deps: Deps, world: World, sims: channels.Simulated, clock: FixedClock
) -> None:
    case = abnormal_case(client, auth, deps, world, sims, clock)
    auth = Auth(client.app, world)  # tokens of the time the worker got to
    wechat = sims.simulators["wechat"]
    wechat.book.set_apply_fault(case["refund_no"], "drop_after_accept")

    applied = client.post(f"/v1/refunds/{case['id']}/abnormal-refund", json=application(), headers=auth("a.supervisor"))

    assert applied.status_code == 200, applied.text
    # The answer was lost; the query that followed found the refund already paid to the card (the simulator
    # finishes a PROCESSING refund when asked): the case is settled from it, and nothing is sent again.
    assert (applied.json()["refund"]["status"], applied.json()["application"]["status"]) == ("succeeded", "accepted")
    assert drive(deps, sims, clock, world.a.id, case["id"], "succeeded") == "succeeded"
    auth = Auth(client.app, world)
    assert applications(wechat, case["refund_no"]) == 1


def test_an_application_that_never_took_is_sent_once_more(
    client: TestClient, auth: Auth, deps: Deps, world: World, sims: channels.Simulated, clock: FixedClock
) -> None:
    case = abnormal_case(client, auth, deps, world, sims, clock)
    auth = Auth(client.app, world)  # tokens of the time the worker got to
    wechat = sims.simulators["wechat"]
    wechat.book.set_apply_fault(case["refund_no"], "system_error_no_effect")

    body = application(type="MERCHANT_BANK_CARD", bank_type="", bank_account="", real_name="", consent_how="counter")
    applied = client.post(f"/v1/refunds/{case['id']}/abnormal-refund", json=body, headers=auth("a.supervisor"))

    assert applied.status_code == 200, applied.text
    assert (applied.json()["application"]["sends"], applied.json()["application"]["account_masked"]) == (1, "")
    assert drive(deps, sims, clock, world.a.id, case["id"], "succeeded") == "succeeded"
    auth = Auth(client.app, world)
    assert applications(wechat, case["refund_no"]) == 1


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"consent_by": ""}, 422, "abnormal_refund.consent_required"),
        ({"consent_at": None}, 422, "abnormal_refund.consent_required"),
        ({"consent_how": "email"}, 422, "abnormal_refund.consent_channel"),
        ({"consent_at": "2099-01-01T00:00:00+08:00"}, 422, "abnormal_refund.consent_time"),
        ({"bank_account": "62220212345abc"}, 422, "abnormal_refund.invalid_account"),
        ({"bank_account": "1234567"}, 422, "abnormal_refund.invalid_account"),
        ({"bank_type": "HXB_DEBIT"}, 422, "abnormal_refund.invalid_bank"),
        ({"real_name": ""}, 422, "abnormal_refund.invalid_name"),
        ({"type": "WALLET"}, 422, "abnormal_refund.invalid_kind"),
        ({"reason": "卡号 4111 1111 1111 1111"}, 422, "pan_detected"),
    ],
)
def test_refusals_name_what_is_wrong(
    client: TestClient,
    auth: Auth,
    deps: Deps,
    world: World,
    sims: channels.Simulated,
    clock: FixedClock,
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    case = abnormal_case(client, auth, deps, world, sims, clock)
    auth = Auth(client.app, world)  # tokens of the time the worker got to
    refused = client.post(
        f"/v1/refunds/{case['id']}/abnormal-refund", json=application(**change), headers=auth("a.supervisor")
    )
    assert (refused.status_code, refused.json()["code"]) == (status, code)
    zh = client.post(
        f"/v1/refunds/{case['id']}/abnormal-refund",
        json=application(**change),
        headers=auth("a.supervisor", **{"Accept-Language": "en"}),
    )
    assert zh.json()["message"] and zh.json()["message"] != refused.json()["message"]
    assert client.get(f"/v1/refunds/{case['id']}", headers=auth("a.supervisor")).json()["status"] == "abnormal"
    assert applications(sims.simulators["wechat"], case["refund_no"]) == 0


def test_who_and_which_case_may_apply(
    client: TestClient, auth: Auth, deps: Deps, world: World, sims: channels.Simulated, clock: FixedClock
) -> None:
    case = abnormal_case(client, auth, deps, world, sims, clock)
    auth = Auth(client.app, world)  # tokens of the time the worker got to
    url = f"/v1/refunds/{case['id']}/abnormal-refund"
    cashier = client.post(url, json=application(), headers=auth("a.cashier"))
    assert (cashier.status_code, cashier.json()["code"]) == (403, "auth.forbidden")
    other = client.post(url, json=application(), headers=auth("b.supervisor"))
    assert (other.status_code, other.json()["code"]) == (404, "refund.not_found")
    none_yet = client.get(url, headers=auth("a.supervisor"))
    assert (none_yet.status_code, none_yet.json()["code"]) == (404, "abnormal_refund.none")

    card_sale = new_sale(deps, world.a, channel="card", amount_fen=3_000)
    card = client.post(
        "/v1/refunds", json=refund_body(card_sale.id, 1_000), headers=auth("a.cashier", **{"Idempotency-Key": "c1"})
    ).json()
    not_wechat = client.post(
        f"/v1/refunds/{card['id']}/abnormal-refund", json=application(), headers=auth("a.supervisor")
    )
    assert (not_wechat.status_code, not_wechat.json()["code"]) == (409, "abnormal_refund.not_wechat")

    sale = new_sale(deps, world.a, channel="wechat", amount_fen=3_000)
    fresh = client.post(
        "/v1/refunds", json=refund_body(sale.id, 1_000), headers=auth("a.cashier", **{"Idempotency-Key": "w1"})
    ).json()
    not_abnormal = client.post(
        f"/v1/refunds/{fresh['id']}/abnormal-refund", json=application(), headers=auth("a.supervisor")
    )
    assert (not_abnormal.status_code, not_abnormal.json()["code"]) == (409, "abnormal_refund.not_abnormal")

    first = client.post(url, json=application(), headers=auth("a.supervisor"))
    assert first.status_code == 200, first.text
    clock.advance(seconds=1)
    second = client.post(url, json=application(), headers=auth("a.supervisor"))
    assert (second.status_code, second.json()["code"]) == (409, "abnormal_refund.not_abnormal")
    assert applications(sims.simulators["wechat"], case["refund_no"]) == 1


def test_a_second_application_is_refused_even_when_the_card_failed_too(
    client: TestClient, auth: Auth, deps: Deps, world: World, sims: channels.Simulated, clock: FixedClock
) -> None:
    case = abnormal_case(client, auth, deps, world, sims, clock)
    auth = Auth(client.app, world)
    wechat = sims.simulators["wechat"]
    wechat.book.set_apply_fault(case["refund_no"], "abnormal")  # the second card is refused by its bank too
    url = f"/v1/refunds/{case['id']}/abnormal-refund"
    assert client.post(url, json=application(), headers=auth("a.supervisor")).status_code == 200
    assert drive(deps, sims, clock, world.a.id, case["id"], "abnormal") == "abnormal"
    auth = Auth(client.app, world)

    again = client.post(url, json=application(), headers=auth("a.supervisor"))

    assert (again.status_code, again.json()["code"]) == (409, "abnormal_refund.already_applied")
    assert applications(wechat, case["refund_no"]) == 1


def test_two_supervisors_applying_at_once_send_the_money_once(
    client: TestClient, auth: Auth, deps: Deps, world: World, sims: channels.Simulated, clock: FixedClock
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from posrefund.domain.errors import Conflict
    from posrefund.service import abnormal_refunds
    from posrefund.service.abnormal_refunds import CardRefundRequest

    case = abnormal_case(client, auth, deps, world, sims, clock)
    body = application()
    req = CardRefundRequest(
        body["type"],
        body["bank_type"],
        body["bank_account"],
        body["real_name"],
        body["consent_by"],
        body["consent_how"],
        datetime.fromisoformat(body["consent_at"]),
        body["reason"],
    )
    actors = (world.a.actors["supervisor"], world.a.actors["admin"])

    def apply(actor: Any) -> str:
        try:
            abnormal_refunds.apply_to_card(deps, sims.router.channels, actor, case["id"], req)
        except Conflict as refused:
            return refused.code
        return "applied"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(apply, actors))

    # One is taken; the other is refused (the application is taken, or the first one is already through and the
    # case is no longer abnormal), or finds (by asking WeChat Pay) that the first one's was applied.
    assert outcomes in (
        ["abnormal_refund.already_applied", "applied"],
        ["abnormal_refund.not_abnormal", "applied"],
        ["applied", "applied"],
    )
    assert applications(sims.simulators["wechat"], case["refund_no"]) == 1
