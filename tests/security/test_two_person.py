"""Two-person control end to end over HTTP: a refund sent off the channel (to cash or a bank transfer) is
confirmed paid by someone other than who rerouted it, and other than who asked for it."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.api.conftest import Auth
from tests.conftest import World
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale


def abnormal_case(deps: Deps, world: World) -> str:
    """A small refund, approved at once, that the channel answers abnormal (the payer's account is closed)."""
    sale = new_sale(deps, world.a)
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=3_000, reason="customer_cancelled")
    )
    fake = FakeChannel()
    fake.script[case.refund_no] = ["abnormal"]
    execution.sweep(deps, Router(channels={"wechat": fake}, is_workday=ChineseCalendar().is_workday))
    return case.id


def reroute(client: TestClient, auth: Auth, case_id: str, who: str) -> Any:
    body = {"method": "cash", "reason": "卡已注销，现金退款"}
    return client.post(f"/v1/refunds/{case_id}/reroute", json=body, headers=auth(who))


def confirm(client: TestClient, auth: Auth, case_id: str, who: str) -> Any:
    return client.post(f"/v1/refunds/{case_id}/confirm-payout", json={"reference": "TILL-1"}, headers=auth(who))


@pytest.mark.parametrize("reviewer", ["a.supervisor", "a.admin"])
def test_whoever_rerouted_cannot_confirm_the_payout(
    reviewer: str, client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    case_id = abnormal_case(deps, world)
    assert reroute(client, auth, case_id, reviewer).status_code == 200
    r = confirm(client, auth, case_id, reviewer)
    assert (r.status_code, r.json()["code"]) == (403, "review.same_person"), r.text
    assert "现金" in r.json()["message"]
    english = client.post(
        f"/v1/refunds/{case_id}/confirm-payout",
        json={"reference": "TILL-1"},
        headers=auth(reviewer, **{"Accept-Language": "en"}),
    )
    assert "another person" in english.json()["message"]


def test_a_second_person_confirms_the_payout(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    case_id = abnormal_case(deps, world)
    reroute(client, auth, case_id, "a.supervisor")
    r = confirm(client, auth, case_id, "a.supervisor2")
    assert (r.status_code, r.json()["status"]) == (200, "succeeded"), r.text


def test_the_requester_cannot_confirm_the_payout(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    case_id = abnormal_case(deps, world)
    reroute(client, auth, case_id, "a.supervisor")
    r = confirm(client, auth, case_id, "a.cashier")
    assert (r.status_code, r.json()["code"]) == (403, "refund.second_person_required"), r.text


def test_the_refused_confirmation_leaves_the_case_awaiting_payout(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    case_id = abnormal_case(deps, world)
    reroute(client, auth, case_id, "a.supervisor")
    confirm(client, auth, case_id, "a.supervisor")
    r = client.get(f"/v1/refunds/{case_id}", headers=auth("a.auditor"))
    assert (r.json()["status"], r.json()["method"]) == ("processing", "cash")
