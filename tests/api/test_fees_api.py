"""Fee contracts over HTTP on SQLite and PostgreSQL: set a contract, import an acquirer's settlement file, run the
fee-refund check, read the case and its statement, approve it and record the transfer; a one-off charge asked back.
Bad input is refused with its exact code and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.adapters.settlement import file_fingerprint, parse_card_settlement
from posrefund.bootstrap import engine_of
from posrefund.service import reconciliation
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World

HEADER = "交易日期,交易时间,商户号,终端号,卡号,卡类型,交易类型,交易金额,手续费,凭证号,参考号,批次号,授权码"
# date, card type, kind, amount, fee: worked by hand against CONTRACT and RAISE below
ROWS = [
    ("20261102", "贷记卡", "消费", "100.00", "0.60"),  # 0.60 % of 100 yuan: right
    ("20261102", "借记卡", "消费", "10000.00", "50.00"),  # debit capped at 20.00: 30.00 overcharged
    ("20261103", "借记卡", "消费", "1000.00", "5.00"),  # 0.50 % under the cap: right
    ("20261103", "", "消费", "100.00", "0.60"),  # card type not printed: credit's 0.60 is the highest, right
    ("20261104", "贷记卡", "退货", "-100.00", "0.00"),  # the fee was not given back: 0.60 owed
    ("20261120", "贷记卡", "消费", "100.00", "0.65"),  # 0.65 % from 15 Nov, never agreed: 0.05 owed
]
CONTRACT = {
    "effective_from": "2026-11-01",
    "consented_on": "2026-10-25",
    "consent_ref": "HT-2026-118",
    "rules": [
        {"channel": "card", "card_type": "credit", "rate_ppm": 6000},
        {"channel": "card", "card_type": "debit", "rate_ppm": 5000, "cap_fen": 2000},
        {"channel": "wechat", "rate_ppm": 3800},
        {"channel": "wechat", "rate_ppm": 5500, "band_from_fen": 100_000},
    ],
}
RAISE = {**CONTRACT, "effective_from": "2026-11-15", "consented_on": None, "consent_ref": ""}
RAISE["rules"] = [{"channel": "card", "card_type": "credit", "rate_ppm": 6500}, *CONTRACT["rules"][1:]]


def settlement_csv() -> bytes:
    lines = [HEADER]
    for i, (day, card, kind, amount, fee) in enumerate(ROWS, start=1):
        lines.append(f"{day},1000{i:02d},898310058120001,MA01,622202******0128,{card},{kind},{amount},{fee},"
                     f"00010{i},10000000000{i},000012,A1B2C{i}")  # fmt: skip
    total = sum(round(float(r[3]) * 100) for r in ROWS if r[2] != "消费撤销")
    fees = sum(round(float(r[4]) * 100) for r in ROWS)
    lines.append(f"合计,,,,,,,{total / 100:.2f},{fees / 100:.2f},,,,")
    return ("\n".join(lines) + "\n").encode("utf-8")


def import_card_file(deps: Deps, world: World, folder: Path) -> None:
    """The settlement file above, imported for merchant A by its finance (the service, not the route)."""
    csv = folder / "card.csv"
    csv.write_bytes(settlement_csv())
    reconciliation.import_file(
        deps, world.a.actors["finance"], source="card", filename=csv.name, fingerprint=file_fingerprint(csv),
        size=csv.stat().st_size, lines=parse_card_settlement(csv),
    )  # fmt: skip


def _p(world: World, tail: str = "") -> str:
    return f"/v1/fees/{world.a.id}{tail}"


def _fee_events(deps: Deps, merchant_id: str) -> list[str]:
    e = tables.audit_events.c
    with engine_of(deps).connect() as c:
        rows = c.execute(select(e.action).where(e.chain == merchant_id, e.action.like("fees.%")).order_by(e.id)).all()
    return [r[0] for r in rows]


def _count(deps: Deps, table: Any) -> int:
    with engine_of(deps).connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def test_fee_refund_check_from_contract_to_transfer(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    fin, boss = auth("a.finance"), auth("a.admin")
    made = client.post(_p(world, "/periods"), json=CONTRACT, headers=fin)
    assert made.status_code == 201, made.text
    assert [r["description"] for r in made.json()["rules"]][:2] == [
        "银行卡 贷记卡 0.60%",
        "银行卡 借记卡 0.50%，封顶 20.00 元",
    ]
    assert client.post(_p(world, "/periods"), json=RAISE, headers=fin).status_code == 201
    periods = client.get(_p(world, "/periods"), headers=fin).json()["items"]
    assert [(p["effective_from"], p["ends_on"], p["consented_on"]) for p in periods] == [
        ("2026-11-01", "2026-11-14", "2026-10-25"),
        ("2026-11-15", None, None),
    ]
    imported = client.post(
        "/v1/reconciliation/files?source=card",
        files={"file": ("card.csv", settlement_csv(), "text/csv")},
        headers=fin,
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["bad_lines"] == 0

    body = {"date_from": "2026-11-01", "date_to": "2026-11-30"}
    checked = client.post(_p(world, "/checks"), json=body, headers=fin)
    assert checked.status_code == 201, checked.text
    statement = [(s["date"], s["kind"], s["amount_fen"], s["charged_fen"], s["due_fen"], s["difference_fen"])
                 for s in checked.json()["statement"]]  # fmt: skip
    assert statement == [
        ("2026-11-02", "sale", 1_000_000, 5_000, 2_000, 3_000),
        ("2026-11-04", "refund", 10_000, 0, -60, 60),
        ("2026-11-20", "sale", 10_000, 65, 60, 5),
    ]
    rules = [s["rule"] for s in checked.json()["statement"]]
    assert rules[2] == "银行卡 贷记卡 0.60%（2026-11-15 起的调价商户未同意，按原费率）"
    case = checked.json()["case"]
    assert (case["status"], case["amount_fen"], case["kind"]) == ("open", 3_065, "overcharge")
    assert case["explanation"] == "2026-11-01 至 2026-11-30 共 3 笔手续费高于合同约定，合计多收 30.65 元。"

    again = client.post(_p(world, "/checks"), json=body, headers=fin)  # the lines are claimed once
    assert (again.status_code, again.json()["case"]) == (200, None)

    got = client.get(_p(world, f"/payouts/{case['id']}"), headers=boss).json()
    assert [s["difference_fen"] for s in got["statement"]] == [3_000, 60, 5]
    assert client.get(_p(world, f"/payouts/{case['id']}"), headers=auth("b.finance")).status_code == 404

    mine = client.post(_p(world, f"/payouts/{case['id']}/approve"), headers=fin)
    assert (mine.status_code, mine.json()["code"]) == (403, "fees.self_approval")
    early = client.post(_p(world, f"/payouts/{case['id']}/pay"), json={"transfer_ref": "TR1"}, headers=boss)
    assert (early.status_code, early.json()["code"]) == (409, "fees.case_not_approved")
    assert client.post(_p(world, f"/payouts/{case['id']}/approve"), headers=boss).json()["status"] == "approved"
    same = client.post(_p(world, f"/payouts/{case['id']}/pay"), json={"transfer_ref": "TR1"}, headers=boss)
    assert (same.status_code, same.json()["code"]) == (403, "fees.same_person")
    paid = client.post(_p(world, f"/payouts/{case['id']}/pay"), json={"transfer_ref": "CMB202611300001"}, headers=fin)
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["transfer_ref"]) == ("paid", "CMB202611300001")
    assert _fee_events(deps, world.a.id) == [
        "fees.period_added",
        "fees.period_added",
        "fees.overcharge_case_opened",
        "fees.check_clean",
        "fees.case_approved",
        "fees.case_paid",
    ]


def test_consent_is_recorded_once(client: TestClient, auth: Auth, world: World) -> None:
    fin = auth("a.finance")
    client.post(_p(world, "/periods"), json=CONTRACT, headers=fin)
    raised = client.post(_p(world, "/periods"), json=RAISE, headers=fin).json()
    body = {"consented_on": "2026-11-18", "reference": "BG-2026-031"}
    ok = client.post(_p(world, f"/periods/{raised['id']}/consent"), json=body, headers=fin)
    assert (ok.status_code, ok.json()["consented_on"], ok.json()["consent_ref"]) == (200, "2026-11-18", "BG-2026-031")
    twice = client.post(_p(world, f"/periods/{raised['id']}/consent"), json=body, headers=fin)
    assert (twice.status_code, twice.json()["code"]) == (409, "fees.consent_already_recorded")


def _rule(**kw: Any) -> dict[str, Any]:
    return {
        "effective_from": "2026-12-01",
        "rules": [{"channel": "card", "card_type": "debit", "rate_ppm": 5000, **kw}],
    }


BAD = [
    ({**CONTRACT}, 409, "fees.period_overlap"),  # the same first day
    ({**CONTRACT, "effective_from": "2026-10-01"}, 409, "fees.period_overlap"),  # before the existing period
    (_rule(rate_ppm=-1), 422, "fees.invalid_rate"),
    (_rule(cap_fen=5, min_fen=10), 422, "fees.cap_below_minimum"),
    (_rule(channel="paypal"), 422, "fees.unknown_channel"),
    (_rule(card_type="gold"), 422, "fees.unknown_card_type"),
    ({"effective_from": "2026-12-01", "rules": []}, 422, "fees.no_rules"),
]


def test_bad_contracts_are_refused_and_change_nothing(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    fin = auth("a.finance")
    assert client.post(_p(world, "/periods"), json=CONTRACT, headers=fin).status_code == 201
    before = (client.get(_p(world, "/periods"), headers=fin).json(), _count(deps, tables.fee_rules))
    for body, status, code in BAD:
        r = client.post(_p(world, "/periods"), json=body, headers=fin)
        assert (r.status_code, r.json()["code"]) == (status, code), body
    assert (client.get(_p(world, "/periods"), headers=fin).json(), _count(deps, tables.fee_rules)) == before
    assert _fee_events(deps, world.a.id) == ["fees.period_added"]
    floats = client.post(_p(world, "/periods"), json=_rule(rate_ppm=0.6), headers=fin)
    assert (floats.status_code, floats.json()["code"]) == (422, "request.invalid")
    unknown = client.post(
        f"/v1/fees/{world.b.id}/checks",
        json={"date_from": "2026-11-01", "date_to": "2026-11-30"},
        headers=auth("b.finance"),
    )
    assert (unknown.status_code, unknown.json()["code"]) == (409, "fees.no_contract")


ACTIVATION = {
    "kind": "activation",
    "amount_fen": 29_900,
    "charged_on": "2026-11-01",
    "terms": {"kind": "volume", "volume_fen": 5_000_000, "within_days": 90, "channels": ["card"]},
    "description": "POS 激活费（活动期内刷卡满 5 万元返还）",
}
DEVICE = {
    "kind": "device",
    "amount_fen": 9_900,
    "charged_on": "2026-11-15",
    "terms": {"kind": "device_return", "within_days": 7},
}


def test_one_off_charges_asked_back(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    provider, fin, boss = auth("provider"), auth("a.finance"), auth("a.admin")
    charge = client.post(_p(world, "/charges"), json=ACTIVATION, headers=provider)
    assert charge.status_code == 201, charge.text
    client.post("/v1/reconciliation/files?source=card", files={"file": ("c.csv", settlement_csv(), "text/csv")},
                headers=fin)  # fmt: skip
    asked = client.post(_p(world, f"/charges/{charge.json()['id']}/refund-request"), json={}, headers=fin)
    assert asked.status_code == 201, asked.text
    d = asked.json()
    assert (d["refundable"], d["code"], d["volume_fen"], d["case"]["status"]) == (
        False, "fees.volume_not_reached", 1_120_000, "refused",
    )  # fmt: skip
    assert d["explanation"] == (
        "激活日 2026-11-01 起 90 天内（至 2027-01-29），银行卡交易净额 11,200.00 元，尚差 38,800.00 元达到 "
        "50,000.00 元；期限未到，可稍后再申请。"
    )
    device = client.post(_p(world, "/charges"), json=DEVICE, headers=provider).json()
    back = client.post(
        _p(world, f"/charges/{device['id']}/refund-request"), json={"device_returned_on": "2026-11-20"}, headers=fin
    ).json()
    assert (back["refundable"], back["amount_fen"], back["case"]["status"]) == (True, 9_900, "open")
    assert back["explanation"] == "机具已于 2026-11-20 退回，99.00 元予以退还。"
    twice = client.post(_p(world, f"/charges/{device['id']}/refund-request"), json={}, headers=fin)
    assert (twice.status_code, twice.json()["code"]) == (409, "fees.charge_refund_pending")
    case_id = back["case"]["id"]
    assert client.post(_p(world, f"/payouts/{case_id}/approve"), headers=boss).json()["status"] == "approved"
    paid = client.post(_p(world, f"/payouts/{case_id}/pay"), json={"transfer_ref": "TR-99"}, headers=provider)
    assert (paid.status_code, paid.json()["status"]) == (200, "paid")
    bad = client.post(_p(world, "/charges"), json={**ACTIVATION, "amount_fen": 0}, headers=provider)
    assert (bad.status_code, bad.json()["code"]) == (422, "fees.invalid_charge_amount")
    terms = client.post(_p(world, "/charges"), json={**ACTIVATION, "terms": {"kind": "volume"}}, headers=provider)
    assert (terms.status_code, terms.json()["code"]) == (422, "fees.invalid_terms")
    assert [c["kind"] for c in client.get(_p(world, "/charges"), headers=fin).json()["items"]] == [
        "activation",
        "device",
    ]
