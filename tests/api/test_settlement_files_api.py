"""The settlement files the API refuses, over HTTP: exact status and code, a message in the caller's language,
and nothing changed; the same content again answers the file it already is; a withdrawn file's runs are stale."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from posrefund.service import channel_accounts
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World
from tests.recon.bills import DAY, SUB_MCHID, Tx, row_counts, wechat_bill

P = "/v1/reconciliation"
LINES = [Tx(1, 8800, 53), Tx(2, 123456, 741), Tx(1, 3000, 18, refund=True)]


def upload(client: TestClient, headers: dict[str, str], text: str, query: str = "", name: str = "bill.csv") -> Any:
    body = {"file": (name, text.encode("utf-8"), "text/csv")}
    return client.post(f"{P}/files?source=wechat{query}", files=body, headers=headers)


def test_the_same_content_again_answers_the_file_it_is(
    client: TestClient, auth: Auth, world: World, engine: Engine
) -> None:
    finance = auth("a.finance")
    text = wechat_bill(LINES)
    first = upload(client, finance, text)
    assert first.status_code == 201
    assert (first.json()["duplicate"], first.json()["lines"], first.json()["notice"]) == (False, 3, None)
    before = row_counts(engine)
    again = upload(client, finance, text.replace("\n", "\r\n"), name="copy.csv")
    assert again.status_code == 200
    body = again.json()
    assert (body["duplicate"], body["file_id"], body["notice"]["code"]) == (
        True,
        first.json()["file_id"],
        "recon.file_duplicate",
    )
    assert (
        body["notice"]["message"].startswith("该文件内容已于") and first.json()["file_id"] in body["notice"]["message"]
    )
    en = upload(client, auth("a.finance", **{"Accept-Language": "en"}), "\ufeff" + text)
    assert en.status_code == 200
    assert en.json()["notice"]["message"].startswith(f"This content was already imported as {first.json()['file_id']}")
    assert row_counts(engine) == before


def test_bad_files_are_refused_whole_with_the_line_named(
    client: TestClient, auth: Auth, world: World, deps: Deps, engine: Engine
) -> None:
    finance = auth("a.finance")
    channel_accounts.set_channel_account(deps, world.provider, world.a.id, "wechat", sub_mchid=SUB_MCHID)
    before = row_counts(engine)
    whole = wechat_bill(LINES)
    cases = [
        (whole[: whole.index("总交易单数")], "", "recon.file_truncated", "文件在第 4 行结束"),
        (whole[: whole.index("`SO0000000002") + 4], "", "recon.file_truncated", "文件在第 3 行结束"),
        (wechat_bill(LINES, 退款总金额="31.00"), "", "recon.file_totals_mismatch", "“退款总金额”为 ¥31.00"),
        (wechat_bill([Tx(1, 100, merchant_no="1900000999")]), "", "recon.file_other_merchant", "商户号 1900000999"),
        (
            wechat_bill([Tx(1, 100), Tx(2, 100, day=DAY.replace(day=21))]),
            f"&date_from={DAY}&date_to={DAY}",
            "recon.file_out_of_range",
            "第 3 行的日期 2026-11-21",
        ),
    ]
    for text, query, code, said in cases:
        r = upload(client, finance, text, query)
        assert (r.status_code, r.json()["code"]) == (422, code), r.text
        assert said in r.json()["message"], r.json()["message"]
    r = upload(client, auth("a.finance", **{"Accept-Language": "en"}), whole[: whole.index("总交易单数")])
    assert r.json()["message"].startswith("The settlement file is cut short: it ends at line 4")
    assert row_counts(engine) == before


def test_a_withdrawn_file_counts_no_more_and_its_runs_say_they_are_stale(
    client: TestClient, auth: Auth, world: World, engine: Engine
) -> None:
    finance = auth("a.finance")
    file_id = upload(client, finance, wechat_bill(LINES)).json()["file_id"]
    day = {"source": "wechat", "date_from": DAY.isoformat(), "date_to": DAY.isoformat()}
    run = client.post(f"{P}/runs", json=day, headers=finance).json()
    assert run["stale_at"] is None
    imported = client.get(f"{P}/files/{file_id}", headers=finance).json()
    assert (imported["state"], imported["heartbeat_at"]) == ("imported", None) and imported["finished_at"]

    before = row_counts(engine)
    path = f"{P}/files/{file_id}/withdraw"
    r = client.post(path, json={"reason": "账单有误"}, headers=auth("a.cashier"))
    assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden")
    r = client.post(path, json={"reason": "账单有误"}, headers=auth("b.finance"))
    assert (r.status_code, r.json()["code"]) == (404, "recon.file_not_found")
    r = client.post(path, json={"reason": " "}, headers=finance)
    assert (r.status_code, r.json()["code"]) == (422, "recon.reason_required")
    r = client.post(path, json={}, headers=finance)
    assert r.status_code == 422
    assert row_counts(engine) == before

    r = client.post(path, json={"reason": "渠道重新生成了对账单"}, headers=finance)
    assert r.status_code == 200
    body = r.json()
    assert (body["file_id"], body["lines_removed"], body["reason"]) == (file_id, 3, "渠道重新生成了对账单")
    assert [s["id"] for s in body["stale_runs"]] == [run["id"]]
    shown = client.get(f"{P}/files/{file_id}", headers=finance).json()
    assert shown["withdrawn_at"] is not None and shown["withdraw_reason"] == "渠道重新生成了对账单"
    assert shown["state"] == "withdrawn"
    stale = client.get(f"{P}/runs/{run['id']}", headers=finance).json()
    assert stale["stale_at"] is not None and "渠道重新生成了对账单" in stale["stale_reason"]
    r = client.post(path, json={"reason": "again"}, headers=finance)
    assert (r.status_code, r.json()["code"]) == (409, "recon.file_withdrawn")
    r = client.post(f"{P}/runs", json=day, headers=finance)
    assert (r.status_code, r.json()["code"]) == (422, "recon.no_files")
