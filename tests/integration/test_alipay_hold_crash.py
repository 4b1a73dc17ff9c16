"""An Alipay fund freeze (资金授权) taken through to its end with every process that calls Alipay killed by SIGKILL
right after the call, before it could write what Alipay answered: the freeze, which the API makes itself while the
payer stands at the counter (the API process is killed), then the conversion (冻结转支付, alipay.trade.pay with the
auth_no) and the release of the rest (解冻), which the worker makes (the worker is killed, their answers lost on the
way too). Each fresh worker asks Alipay before anything is sent again: the simulator executed one freeze, one
payment and one unfreeze of exactly the rest, and the hold ends released with the conversion taken."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.config import Settings
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.api.test_alipay_holds_api import hold, steps
from tests.conftest import World
from tests.integration.test_hold_crash import KILLS, app, auth, child, client, conf_of, killed, real_time
from tests.support.alipay_holds import PAYER_CODE, Alipay, alipay_line

__all__ = ["app", "auth", "client", "real_time"]  # the fixtures this module shares


@pytest.fixture
def alipay(app: FastAPI, deps: Deps, monkeypatch: pytest.MonkeyPatch) -> Iterator[Alipay]:
    with alipay_line(app, deps, monkeypatch) as line:
        yield line


def alipay_conf(settings: Settings, alipay: Alipay) -> dict[str, Any]:
    """The children's Alipay adapter: the parent's simulator, its app keys, a short timeout."""
    sim = alipay.sim
    gateway = {
        "app_id": sim.app_id,
        "app_private_key": sim.app_private_key_pem,
        "alipay_public_key": sim.alipay_public_key_pem,
        "gateway_url": sim.gateway_url,
        "timeout": 0.5,
    }
    return conf_of(settings) | {"alipay": gateway}


def freeze_request(auth: Auth, world: World, status: int) -> dict[str, Any]:
    """The counter's freeze as the terminal sends it (the payer's code good for this one request)."""
    body = {
        "terminal_id": world.a.terminal_id,
        "amount_fen": 10_000,
        "payer_code": PAYER_CODE,
        "title": "房间押金",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
    return {"method": "POST", "path": "/v1/holds/alipay", "json": body, "headers": auth("a.terminal"), "status": status}


def test_freeze_convert_release_each_killed_after_its_call_runs_once(
    client: TestClient, auth: Auth, world: World, deps: Deps, settings: Settings, alipay: Alipay
) -> None:
    conf = alipay_conf(settings, alipay)
    killed(deps, conf, "hold.after_call", 1, "api", request=freeze_request(auth, world, 201))
    [asked] = client.get("/v1/holds", headers=auth("a.auditor")).json()["items"]
    assert (asked["state"], asked["auth_no"]) == ("holding", "")
    killed(deps, conf, "hold.after_call", KILLS - 1)  # the worker asks Alipay (never freezes again): killed too
    assert child(conf, "") == 0
    made = hold(client, auth, asked["id"])
    assert (made["state"], made["held_fen"], steps(made)) == (
        "held",
        10_000,
        [("hold", "succeeded", 10_000, KILLS + 1)],
    )

    convert_no = alipay.next_number()
    alipay.sim.fund_auth.set_fault(convert_no, "no_answer_after_accept")
    r = client.post(f"/v1/holds/{made['id']}/complete", json={"amount_fen": 3_000}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["operation_no"]) == (202, convert_no)
    killed(deps, conf, "hold.after_call", KILLS)
    assert child(conf, "") == 0
    part = hold(client, auth, made["id"])
    assert (part["state"], part["held_fen"], part["taken_fen"]) == ("held", 7_000, 3_000)
    sale = client.get(f"/v1/sales/{part['sale_id']}", headers=auth("a.auditor")).json()
    assert (sale["channel"], sale["amount_fen"], sale["order_no"]) == ("alipay", 3_000, convert_no)

    release_no = alipay.next_number()
    alipay.sim.fund_auth.set_fault(release_no, "drop_after_accept")
    r = client.post(f"/v1/holds/{made['id']}/release", json={"reason": "退房"}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["amount_fen"], r.json()["operation_no"]) == (202, 7_000, release_no)
    killed(deps, conf, "hold.after_call", KILLS)
    assert child(conf, "") == 0

    done = hold(client, auth, made["id"])
    assert (done["state"], done["held_fen"], done["taken_fen"]) == ("released", 0, 3_000)
    assert sorted(steps(done)) == [("complete", "succeeded", 3_000, KILLS + 1), ("hold", "succeeded", 10_000, KILLS + 1),
                                   ("release", "succeeded", 7_000, KILLS + 1)]  # fmt: skip
    ledger = [(r["operation"], r["amount_fen"], r["executions"]) for r in alipay.sim.fund_auth.ledger()]
    assert ledger == [("FREEZE", 10_000, 1), ("UNFREEZE", 7_000, 1), ("PAY", 3_000, 1)]
    assert [alipay.row(n)["requests"] > 1 for n in (convert_no, release_no)] == [True, True]  # asked, not resent
    totals = alipay.freeze(done["auth_no"])
    assert (totals["total_freeze_fen"], totals["total_pay_fen"], totals["total_unfreeze_fen"], totals["rest_fen"]) == (
        10_000,
        3_000,
        7_000,
        0,
    )
