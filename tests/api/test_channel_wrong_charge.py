"""Seed 004, end to end through the API, the worker and the WeChat Pay simulator: a customer charged twice, the
second charge only in the channel's bill (the terminal timed out and never recorded it). Finance imports the bill,
runs reconciliation, opens a wrong-charge case from the finding in one step and starts its correction: the refund
names WeChat's own transaction_id (not an order of ours), the simulator — which charged both payments that day —
executes it exactly once, and never more than the channel line's amount goes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from posrefund.demo import channels
from posrefund.demo.settlement import Faults, from_ledger
from posrefund.domain.reconciliation import FeeRate
from posrefund.service import execution, sales
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import FixedClock, World
from tests.support.helpers import captured_again, new_sale

R = "/v1/reconciliation"


@pytest.fixture
def sims() -> Iterator[channels.Simulated]:
    simulated = channels.start("http://127.0.0.1:9", timeout=2.0)  # no callbacks: the worker asks
    yield simulated
    simulated.close()


def seed_004(
    client: TestClient, auth: Auth, deps: Deps, world: World, sims: channels.Simulated, tmp_path: Path, *, known: bool
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Our sale, the channel's bill listing it and a second capture (a new order no. the POS never kept), imported
    and reconciled by finance; the simulated day charged both payments (``known``) or only ours. Returns our sale,
    the second capture and the one finding."""
    m = world.a
    ours = new_sale(deps, m, channel="wechat", amount_fen=5_000, payer_masked="o***7c")
    day = deps.local_date(ours.paid_at)
    with deps.uow(readonly=True) as uow:
        [row] = uow.ledger.ledger_sales(m.id, ["wechat"], day, day)
    twice = {**captured_again(row), "order_no": f"{ours.order_no}-2"}
    wechat = sims.simulators["wechat"]
    for sale in (row, twice) if known else (row,):
        wechat.book.add_payment(
            str(sale["order_no"]), 5_000, paid_at=sale["paid_at"], transaction_id=f"42000{sale['rrn']}"
        )
    bill = tmp_path / "wechat.csv"
    from_ledger(bill, "wechat", day, [row, twice], [], Faults(), {"wechat": FeeRate("wechat", 38)})
    finance = auth("a.finance")
    files = {"file": (bill.name, bill.read_bytes(), "text/csv")}
    assert client.post(f"{R}/files?source=wechat", files=files, headers=finance).status_code == 201
    body = {"source": "wechat", "date_from": str(day), "date_to": str(day)}
    run = client.post(f"{R}/runs", json=body, headers=finance)
    assert run.status_code == 201, run.text
    [finding] = client.get(f"{R}/runs/{run.json()['id']}/discrepancies", headers=finance).json()["items"]
    assert (finding["class"], finding["theirs_fen"]) in {("missing_here", 5_000), ("duplicate_charge", 5_000)}
    return ours, twice, finding


def test_a_charge_only_the_channel_shows_is_refunded_by_its_transaction_id_once(
    client: TestClient,
    auth: Auth,
    deps: Deps,
    world: World,
    sims: channels.Simulated,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    m = world.a
    ours, twice, finding = seed_004(client, auth, deps, world, sims, tmp_path, known=True)
    wechat = sims.simulators["wechat"]
    finance = auth("a.finance")
    opened = client.post(
        f"{R}/discrepancies/{finding['id']}/wrong-charge", json={"cause": "system_fault"}, headers=finance
    )
    assert opened.status_code == 201, opened.text
    wc = opened.json()
    too_much = client.post(
        f"{R}/wrong-charges/{wc['id']}/correction",
        json={"by_channel_reference": True, "amount_fen": 5_001},
        headers=finance,
    )
    assert (too_much.status_code, too_much.json()["code"]) == (422, "refund.exceeds_refundable")
    assert client.get(f"{R}/wrong-charges/{wc['id']}", headers=finance).json()["status"] == "open"  # nothing left
    started = client.post(
        f"{R}/wrong-charges/{wc['id']}/correction", json={"by_channel_reference": True}, headers=finance
    )
    assert started.status_code == 201, started.text
    refund = started.json()["refund"]
    assert refund["amount_fen"] == 5_000 and refund["sale_id"] != ours.id
    if refund["status"] == "pending_review":
        approved = client.post(f"/v1/refunds/{refund['id']}/approve", json={}, headers=auth("a.supervisor"))
        assert approved.status_code == 200, approved.text

    for _ in range(20):
        execution.sweep(deps, sims.router)
        status = client.get(f"/v1/refunds/{refund['id']}", headers=finance).json()["status"]
        if status == "succeeded":
            break
        clock.advance(seconds=61)
        wechat.book.settle(refund["refund_no"])
    assert status == "succeeded"
    clock.advance(hours=1)
    execution.sweep(deps, sims.router)  # nothing is ever asked again
    finance = Auth(client.app, world)("a.finance")  # a token of this hour

    [executed] = wechat.ledger()
    assert (executed["refund_no"], executed["transaction_id"], executed["out_trade_no"]) == (
        refund["refund_no"],
        f"42000{twice['rrn']}",
        twice["order_no"],
    )
    assert (executed["amount_fen"], executed["executed"], executed["requests"]) == (5_000, True, 1)
    charged = sales.get_sale(deps, m.actors["finance"], refund["sale_id"])
    assert (charged.kind.value, charged.amount_fen, charged.refunded_fen) == ("channel_charge", 5_000, 5_000)
    assert charged.channel_trade_no == f"42000{twice['rrn']}"
    assert sales.get_sale(deps, m.actors["finance"], ours.id).refunded_fen == 0
    got = client.get(f"{R}/wrong-charges/{wc['id']}", headers=finance)
    assert got.status_code == 200, got.text
    view = got.json()
    assert (view["status"], view["correction_status"]) == ("correcting", "succeeded")
    actions = [e["action"] for e in view["events"]]
    assert actions == [
        "wrong_charge.opened",
        "wrong_charge.channel_charge_recorded",
        "wrong_charge.correction_started",
    ]
    again = client.post(
        f"{R}/wrong-charges/{wc['id']}/correction", json={"by_channel_reference": True}, headers=finance
    )
    assert (again.status_code, again.json()["code"]) == (409, "recon.correction_started")


def test_a_refund_naming_a_transaction_the_channel_never_charged_is_refused_and_nothing_moves(
    client: TestClient, auth: Auth, deps: Deps, world: World, sims: channels.Simulated, tmp_path: Path
) -> None:
    _, _, finding = seed_004(client, auth, deps, world, sims, tmp_path, known=False)
    finance = auth("a.finance")
    wc = client.post(f"{R}/discrepancies/{finding['id']}/wrong-charge", json={}, headers=finance).json()
    started = client.post(
        f"{R}/wrong-charges/{wc['id']}/correction", json={"by_channel_reference": True}, headers=finance
    )
    assert started.status_code == 201, started.text
    refund = started.json()["refund"]
    if refund["status"] == "pending_review":
        client.post(f"/v1/refunds/{refund['id']}/approve", json={}, headers=auth("a.supervisor"))
    execution.sweep(deps, sims.router)
    after = client.get(f"/v1/refunds/{refund['id']}", headers=finance).json()
    assert after["status"] == "failed"
    assert sims.simulators["wechat"].ledger() == []  # WeChat knows no such transaction: nothing was refunded
    assert sales.get_sale(deps, world.a.actors["finance"], refund["sale_id"]).refunded_fen == 0
