"""The till check through the API: a cashier counts the drawer at the end of the shift; a shortfall beyond the
merchant's tolerance opens an investigation naming the shift's cash transactions, a difference within it does
not; a supervisor signs off, never the cashier who counted. Bad counts are refused with their code, nothing kept."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app as cli
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.api.conftest import Auth
from tests.conftest import FixedClock, World
from tests.support.desk import cli_env
from tests.support.helpers import new_sale

T = "/v1/tills"


def shift(deps: Deps, world: World, hours_ago: int = 1, **kw: Any) -> dict[str, Any]:
    closed = deps.clock.now() - timedelta(hours=hours_ago)
    body = {
        "terminal_id": world.a.terminal_id,
        "opened_at": (closed - timedelta(hours=8)).isoformat(),
        "closed_at": closed.isoformat(),
        "float_fen": 50_000,
    }
    return {**body, **kw}


def a_days_cash(deps: Deps, world: World, clock: FixedClock) -> list[str]:
    """Two cash sales (328.00 and 56.50 yuan) three hours ago and a cash refund of 20.00 paid out two hours ago."""
    now = deps.clock.now()
    sold = [
        new_sale(deps, world.a, channel="cash", amount_fen=fen, fee_fen=0, paid_at=now - timedelta(hours=3))
        for fen in (32_800, 5_650)
    ]
    new_sale(deps, world.a, channel="wechat", amount_fen=9_900, paid_at=now - timedelta(hours=3))  # not the drawer's
    new_sale(deps, world.a, channel="cash", amount_fen=7_000, paid_at=now - timedelta(hours=20))  # an earlier shift's
    case = refunds.request_refund(
        deps, world.a.actors["cashier"], RefundRequest(sold[1].id, 2_000, "customer_cancelled")
    )
    if case.status.value == "pending_review":
        refunds.approve(deps, world.a.actors["supervisor"], case.id)
    execution.sweep(deps, Router(channels={}, is_workday=ChineseCalendar().is_workday))
    execution.confirm_payout(deps, world.a.actors["supervisor"], case.id, "现金已当面退还")
    assert refunds.get_case(deps, world.a.actors["auditor"], case.id).case.status.value == "succeeded"
    return [s.id for s in sold] + [case.id]


def test_a_shortfall_beyond_tolerance_opens_an_investigation_and_a_supervisor_signs_off(
    client: TestClient, auth: Auth, deps: Deps, world: World, clock: FixedClock
) -> None:
    clock.advance(hours=-1)
    *sale_ids, refund_id = a_days_cash(deps, world, clock)
    clock.advance(hours=1)
    # 500.00 float + 384.50 sales − 20.00 refund = 864.50 expected; 854.50 counted: 10.00 short, tolerance 5.00
    notes = {"10000": 8, "2000": 2, "1000": 1, "100": 4, "50": 1}
    r = client.post(T, json=shift(deps, world, 0, denominations=notes), headers=auth("a.cashier"))
    assert r.status_code == 201, r.text
    till = r.json()
    assert (till["expected_fen"], till["counted_fen"], till["difference_fen"]) == (86_450, 85_450, -1_000)
    assert (till["tolerance_fen"], till["investigation"], till["status"]) == (500, "open", "counted")
    assert till["transactions"] == {"sales": sorted(sale_ids), "refunds": [refund_id]}

    own = client.post(f"{T}/{till['id']}/sign-off", json={"note": "自己签"}, headers=auth("a.cashier"))
    assert (own.status_code, own.json()["code"]) == (403, "auth.forbidden")
    mute = client.post(f"{T}/{till['id']}/sign-off", json={}, headers=auth("a.supervisor"))
    assert (mute.status_code, mute.json()["code"]) == (422, "till.note_required")
    done = client.post(
        f"{T}/{till['id']}/sign-off", json={"note": "找零多给顾客 10 元，已记录培训"}, headers=auth("a.supervisor")
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["investigation"]) == ("signed_off", "closed")
    trail = client.get(f"{T}/{till['id']}", headers=auth("a.auditor")).json()["events"]
    assert [e["action"] for e in trail] == [
        "till.counted",
        "till.investigation_opened",
        "till.investigation_closed",
        "till.signed_off",
    ]
    assert client.get(f"{T}/{till['id']}", headers=auth("b.supervisor")).status_code == 404


def test_a_till_within_tolerance_opens_nothing_and_the_counter_cannot_sign_it_off(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    assert client.put(f"{T}/tolerance", json={"tolerance_fen": 1_000}, headers=auth("a.admin")).status_code == 200
    r = client.post(T, json=shift(deps, world, counted_fen=49_100), headers=auth("a.supervisor"))
    assert r.status_code == 201, r.text
    till = r.json()
    assert (till["difference_fen"], till["tolerance_fen"], till["investigation"]) == (-900, 1_000, "")
    own = client.post(f"{T}/{till['id']}/sign-off", json={}, headers=auth("a.supervisor"))
    assert (own.status_code, own.json()["code"]) == (403, "till.own_shift")
    signed = client.post(f"{T}/{till['id']}/sign-off", json={}, headers=auth("a.admin"))
    assert (signed.status_code, signed.json()["status"]) == (200, "signed_off")
    again = client.post(f"{T}/{till['id']}/sign-off", json={}, headers=auth("a.admin"))
    assert (again.status_code, again.json()["code"]) == (409, "till.already_signed_off")
    trail = client.get(f"{T}/{till['id']}", headers=auth("a.auditor")).json()["events"]
    assert [e["action"] for e in trail] == ["till.counted", "till.signed_off"]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"counted_fen": -100}, 422, "till.negative_amount"),
        ({"float_fen": -1, "counted_fen": 100}, 422, "till.negative_amount"),
        ({"denominations": {"10000": -2}}, 422, "till.negative_amount"),
        ({"denominations": {"300": 1}}, 422, "till.bad_denomination"),
        ({}, 422, "till.count_required"),
        ({"counted_fen": 100, "denominations": {"100": 1}}, 422, "till.count_required"),
        ({"counted_fen": 100, "terminal_id": "trm_nope"}, 404, "till.terminal_not_found"),
    ],
)
def test_a_bad_count_is_refused_and_nothing_kept(
    change: dict[str, Any], status: int, code: str, client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    r = client.post(T, json=shift(deps, world, **change), headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert client.get(T, headers=auth("a.supervisor")).json()["items"] == []


def test_one_shift_per_drawer_and_time(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    assert client.post(T, json=shift(deps, world, counted_fen=50_000), headers=auth("a.cashier")).status_code == 201
    later = shift(deps, world, 0, counted_fen=50_000)  # overlaps the first by seven hours
    r = client.post(T, json=later, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (409, "till.shift_overlaps")
    future = shift(deps, world, -2, counted_fen=50_000)
    r = client.post(T, json=future, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (422, "till.bad_window")
    assert len(client.get(T, headers=auth("a.cashier")).json()["items"]) == 1


def test_the_cli_counts_a_shift_and_a_supervisor_signs_it_off(
    client: TestClient, auth: Auth, deps: Deps, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_env(settings, monkeypatch)
    window = shift(deps, world)
    args = ["till", "count", "-m", world.a.id, "--terminal", world.a.terminal_id, "--json"]
    args += ["--opened", window["opened_at"], "--closed", window["closed_at"], "--float", "500.00"]
    negative = CliRunner().invoke(cli, [*args, "--counted", "-12.00"])
    assert negative.exit_code == 1 and "till.negative_amount" in negative.output
    counted = CliRunner().invoke(cli, [*args, "--counted", "480.00"])
    assert counted.exit_code == 0, counted.output
    row = json.loads(counted.stdout)
    assert (row["difference_fen"], row["investigation"]) == (-2_000, "open")
    r = client.post(
        f"{T}/{row['id']}/sign-off", json={"note": "少收 20 元，收银员已补齐"}, headers=auth("a.supervisor")
    )
    assert (r.status_code, r.json()["investigation"]) == (200, "closed")
    listed = CliRunner().invoke(cli, ["till", "list", "-m", world.a.id])
    assert listed.exit_code == 0 and "已签核" in listed.stdout and "已结案" in listed.stdout
