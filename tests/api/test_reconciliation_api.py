"""Reconciliation over HTTP: upload, run, totals, pages, CSV, wrong charge and its correction — and bad input
answered 4xx in the caller's language, with nothing changed."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from starlette.testclient import TestClient

from posrefund.demo.settlement import Faults, from_ledger
from posrefund.domain.reconciliation import FeeRate
from posrefund.domain.sale import Sale
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World
from tests.support.helpers import captured_again, new_sale

P = "/v1/reconciliation"


def a_wechat_bill(
    client: TestClient, auth: Auth, deps: Deps, world: World, tmp_path: Path
) -> tuple[Path, date, Sale, list[Sale]]:
    """A day of WeChat sales (one charged twice by the channel) and the channel's bill for it with two lines we
    do not have and one wrong fee: (the bill, the day, the twice-charged sale, the other sales)."""
    m = world.a
    twin = new_sale(deps, m, amount_fen=4_000, fee_fen=15, payer_masked="o***9z")
    others = [new_sale(deps, m, amount_fen=1_000 + k) for k in range(6)]
    day = deps.local_date(twin.paid_at)
    r = client.put(f"{P}/fee-rates", json={"channel": "wechat", "rate_bp": 38}, headers=auth("a.admin"))
    assert r.status_code == 200, r.text
    with deps.uow(readonly=True) as uow:
        rows = list(uow.ledger.ledger_sales(m.id, ["wechat"], day, day))
    rows.append(captured_again(next(row for row in rows if row["id"] == twin.id)))
    path = tmp_path / "bill.csv"
    from_ledger(
        path, "wechat", day, rows, [], Faults(missing_here=2, fee_mismatch=1), {"wechat": FeeRate("wechat", 38)}, seed=7
    )
    return path, day, twin, others


def open_and_correct(client: TestClient, auth: Auth, discrepancy_id: int, twin_id: str) -> None:
    """A twice-charged sale: its wrong-charge case, the customer told, the correction refund started."""
    finance = auth("a.finance")
    wc = client.post(
        f"{P}/discrepancies/{discrepancy_id}/wrong-charge",
        json={"cause": "operator_error", "responsible": "merchant_staff", "analysis": "重复扫码"},
        headers=finance,
    )
    assert wc.status_code == 201, wc.text
    wc_id = wc.json()["id"]
    patched = client.patch(
        f"{P}/wrong-charges/{wc_id}", json={"contact_method": "sms", "contact_note": "已短信致歉"}, headers=finance
    )
    assert patched.status_code == 200 and patched.json()["contact_method"] == "sms"
    corr = client.post(f"{P}/wrong-charges/{wc_id}/correction", json={}, headers=finance)
    assert corr.status_code == 201, corr.text
    refund = corr.json()["refund"]
    assert (refund["sale_id"], refund["amount_fen"], refund["status"]) == (twin_id, 4_000, "approved")
    view = client.get(f"{P}/wrong-charges/{wc_id}", headers=auth("a.risk")).json()
    assert (view["correction_refund_id"], view["correction_status"]) == (refund["id"], "approved")
    timeline = client.get(f"/v1/refunds/{refund['id']}/events", headers=auth("a.auditor")).json()
    assert "wrong_charge.correction_linked" in str(timeline)


def test_upload_run_page_export_and_correct(
    client: TestClient, auth: Auth, deps: Deps, world: World, tmp_path: Path
) -> None:
    path, day, twin, others = a_wechat_bill(client, auth, deps, world, tmp_path)
    finance = auth("a.finance")

    up = client.post(
        f"{P}/files?source=wechat", files={"file": ("bill.csv", path.read_bytes(), "text/csv")}, headers=finance
    )
    assert up.status_code == 201, up.text
    assert (up.json()["lines"], up.json()["bad_lines"]) == (len(others) + 2 + 2, 0)
    again = client.post(
        f"{P}/files?source=wechat", files={"file": ("copy.csv", path.read_bytes(), "text/csv")}, headers=finance
    )
    assert (again.status_code, again.json()["duplicate"], again.json()["file_id"]) == (200, True, up.json()["file_id"])

    body = {"source": "wechat", "date_from": day.isoformat(), "date_to": day.isoformat()}
    run = client.post(f"{P}/runs", json=body, headers=finance)
    assert run.status_code == 201, run.text
    totals = run.json()["totals"]
    assert totals["discrepancies"] == {
        "missing_at_channel": 0,
        "missing_here": 2,
        "amount_mismatch": 0,
        "fee_mismatch": 1,
        "duplicate_charge": 1,
        "refund_status_mismatch": 0,
        "completion_missing_here": 0,
        "completion_missing_at_channel": 0,
    }
    rerun = client.post(f"{P}/runs", json=body, headers=finance)
    assert (rerun.status_code, rerun.json()["id"], rerun.json()["totals"], rerun.json()["changed"]) == (
        200,
        run.json()["id"],
        totals,
        False,
    )
    run_id = run.json()["id"]
    page = client.get(f"{P}/runs/{run_id}/discrepancies?limit=2", headers=auth("a.risk")).json()
    assert (page["total"], len(page["items"])) == (4, 2)
    dup = client.get(f"{P}/runs/{run_id}/discrepancies?class=duplicate_charge", headers=finance).json()["items"]
    assert [(d["class"], d["sale_id"], d["theirs_fen"]) for d in dup] == [("duplicate_charge", twin.id, 4_000)]

    exported = client.get(f"{P}/runs/{run_id}/discrepancies.csv", headers=finance)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(row["class"] for row in table) == ["duplicate_charge", "fee_mismatch", "missing_here", "missing_here"]

    open_and_correct(client, auth, dup[0]["id"], twin.id)


def test_bad_input_is_a_4xx_in_the_callers_language_and_changes_nothing(
    client: TestClient, auth: Auth, world: World
) -> None:
    finance = auth("a.finance")
    r = client.post(
        f"{P}/files?source=card", files={"file": ("x.csv", b"not,a,settlement\n1,2,3\n", "text/csv")}, headers=finance
    )
    assert (r.status_code, r.json()["code"]) == (422, "recon.bad_file")
    assert "无法读取" in r.json()["message"]
    weird = b"\xf0\xb9\xa7\xbf`\xc3\x88r!\r?"  # a bare CR: the csv module refuses the header (found by schemathesis)
    r = client.post(f"{P}/files?source=card", files={"file": ("f", weird, "text/csv")}, headers=finance)
    assert (r.status_code, r.json()["code"]) == (422, "recon.bad_file")
    header = "交易日期,交易时间,商户号,终端号,卡号,交易类型,交易金额,手续费,凭证号,参考号,批次号,授权码\n"
    nul = (
        header
        + "20261120,093015,898310058120001,1000\x0001,622202******0128,消费,128.00,0.77,000101,093015123456,000012,A\n"
        + "合计,,,,,,128.00,0.77,,,,\n"  # a whole file: its footer is there
    )
    r = client.post(f"{P}/files?source=card", files={"file": ("nul.csv", nul.encode(), "text/csv")}, headers=finance)
    assert (r.status_code, r.json()["lines"], r.json()["bad_lines"]) == (201, 0, 1)  # no database text holds NUL
    r = client.post(
        f"{P}/runs",
        json={"source": "card", "date_from": "2026-11-20", "date_to": "2026-11-20"},
        headers=auth("a.finance", **{"Accept-Language": "en"}),
    )
    assert (r.status_code, r.json()["code"]) == (422, "recon.no_files")
    assert r.json()["message"].startswith("No imported Bank card (acquirer) settlement file")
    r = client.post(
        f"{P}/runs", json={"source": "card", "date_from": "2026-11-20", "date_to": "2026-10-01"}, headers=finance
    )
    assert (r.status_code, r.json()["code"]) == (422, "request.bad_range")
    r = client.get(f"{P}/runs/nope/discrepancies?class=bogus", headers=finance)
    assert (r.status_code, r.json()["code"]) == (422, "recon.invalid_class")
    r = client.get(f"{P}/runs/nope/discrepancies", headers=finance)
    assert (r.status_code, r.json()["code"]) == (404, "recon.run_not_found")
    r = client.get(f"{P}/discrepancies/abc", headers=finance)
    assert r.status_code == 422
    r = client.put(f"{P}/fee-rates", json={"channel": "cash", "rate_bp": 60}, headers=auth("a.admin"))
    assert r.status_code == 422
    assert client.get(f"{P}/fee-rates", headers=finance).json() == {"items": []}
