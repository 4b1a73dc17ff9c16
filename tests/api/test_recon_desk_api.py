"""Stored acquirer layouts through the API: finance stores one, previews a file with it (errors per column, in
Chinese), imports with it by name; the CLI imports with the same stored name. Bad layouts and undecodable
previews are refused with their exact code and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app as cli
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World
from tests.support.desk import BAD_LINE, LAYOUT, LINES, cli_env, export

P = "/v1/reconciliation/mappings"


def store(client: TestClient, auth: Auth, name: str = "lakala") -> dict[str, object]:
    r = client.post(P, json={"name": name, "spec": LAYOUT}, headers=auth("a.finance"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_stored_layout_is_previewed_then_used_by_the_import(
    client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    saved = store(client, auth)
    assert (saved["name"], saved["built_in"], saved["version"]) == ("lakala", False, 1)
    names = [m["name"] for m in client.get(P, headers=auth("a.risk")).json()["items"]]
    assert names == ["standard", "chinaums", "bank-acquirer", "lakala"]
    assert client.get(P, headers=auth("b.finance")).json()["items"][-1]["name"] == "bank-acquirer"  # not B's
    assert client.get(f"{P}/lakala", headers=auth("b.finance")).status_code == 404

    files = {"file": ("lakala.csv", export(LINES[0], BAD_LINE), "text/csv")}
    r = client.post(f"{P}/preview", data={"name": "lakala"}, files=files, headers=auth("a.finance"))
    assert r.status_code == 200, r.text
    preview = r.json()
    assert (preview["encoding"], preview["missing"], preview["ok"]) == ("gbk", [], False)
    good, bad = preview["lines"]
    assert good["line_no"] == 3 and good["errors"] == []
    assert good["parsed"] == {"amount": 12_800, "fee": 77, "kind": "sale", "occurred_at": "2026-11-20T09:30:15+08:00"}
    assert good["values"]["card_no"] == "622202******0128"
    assert {e["field"]: (e["code"], e["message"]) for e in bad["errors"]} == {
        "amount": ("recon.preview_bad_amount", "金额无法识别：abc"),
        "kind": ("recon.preview_bad_kind", "未知交易类型：预授权"),
        "datetime": ("recon.preview_bad_time", "时间“2026/11/20 11:00”与格式 %Y-%m-%d %H:%M:%S 不符"),
    }

    upload = {"file": ("lakala.csv", export(), "text/csv")}
    r = client.post("/v1/reconciliation/files?source=card&mapping=lakala", files=upload, headers=auth("a.finance"))
    assert r.status_code == 201, r.text
    assert (r.json()["lines"], r.json()["bad_lines"]) == (3, 0)
    again = client.post("/v1/reconciliation/files?source=card&mapping=lakala", files=upload, headers=auth("a.finance"))
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    plain = client.post("/v1/reconciliation/files?source=card", files=upload, headers=auth("a.finance"))
    assert (plain.status_code, plain.json()["code"]) == (422, "recon.bad_file")  # the standard layout cannot read it


def test_changing_a_layout_needs_its_version_and_built_ins_stay(client: TestClient, auth: Auth) -> None:
    store(client, auth)
    changed = {**LAYOUT, "header_rows": 1}
    taken = client.post(P, json={"name": "lakala", "spec": changed}, headers=auth("a.finance"))
    assert (taken.status_code, taken.json()["code"]) == (409, "recon.mapping_exists")
    stale = client.put(f"{P}/lakala", json={"spec": changed, "version": 7}, headers=auth("a.finance"))
    assert (stale.status_code, stale.json()["code"]) == (409, "recon.mapping_changed")
    r = client.put(f"{P}/lakala", json={"spec": changed, "version": 1}, headers=auth("a.finance"))
    assert (r.status_code, r.json()["version"], r.json()["spec"]["header_rows"]) == (200, 2, 1)
    built_in = client.post(P, json={"name": "standard", "spec": LAYOUT}, headers=auth("a.finance"))
    assert (built_in.status_code, built_in.json()["code"]) == (409, "recon.mapping_built_in")
    assert client.post(P, json={"name": "lakala2", "spec": LAYOUT}, headers=auth("a.cashier")).status_code == 403
    theirs = client.put(f"{P}/lakala", json={"spec": changed, "version": 2}, headers=auth("b.finance"))
    assert (theirs.status_code, theirs.json()["code"]) == (404, "recon.mapping_not_found")


@pytest.mark.parametrize(
    ("spec", "code", "field"),
    [
        (
            {**LAYOUT, "columns": {**LAYOUT["columns"], "card_holder": "持卡人"}},
            "recon.mapping_unknown_field",
            "card_holder",
        ),
        ({**LAYOUT, "colour": "red"}, "recon.mapping_unknown_field", "colour"),
        ({**LAYOUT, "kinds": {"refund_fee": ["退费"]}}, "recon.mapping_unknown_field", "kinds.refund_fee"),
        ({**LAYOUT, "amount_unit": "jiao"}, "recon.mapping_bad_value", "amount_unit"),
        (
            {**LAYOUT, "columns": {"date": "交易日期", "time": "交易时间", "kind": "类型"}},
            "recon.mapping_missing_field",
            "amount",
        ),
    ],
)
def test_a_bad_layout_is_refused_and_nothing_is_stored(
    spec: dict[str, object], code: str, field: str, client: TestClient, auth: Auth
) -> None:
    r = client.post(P, json={"name": "broken", "spec": spec}, headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"], r.json()["params"]["field"]) == (422, code, field)
    assert client.get(f"{P}/broken", headers=auth("a.finance")).status_code == 404


def test_preview_of_an_undecodable_file_and_imports_with_unknown_layouts(client: TestClient, auth: Auth) -> None:
    store(client, auth)
    utf8 = {**LAYOUT, "encoding": "utf-8"}
    garbage = {"file": ("x.csv", b"\xff\xfe\xfa" * 50 + "交易".encode("gbk"), "text/csv")}
    r = client.post(f"{P}/preview", data={"spec": json.dumps(utf8)}, files=garbage, headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"]) == (422, "recon.preview_undecodable")
    assert r.json()["message"] == "文件无法按 utf-8 或 UTF-8 解码，请检查映射的编码"
    upload = {"file": ("lakala.csv", export(), "text/csv")}
    r = client.post("/v1/reconciliation/files?source=card&mapping=nope", files=upload, headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"]) == (404, "recon.mapping_not_found")
    r = client.post("/v1/reconciliation/files?source=wechat&mapping=lakala", files=upload, headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"]) == (422, "recon.mapping_card_only")
    assert client.get("/v1/reconciliation/files/none", headers=auth("a.finance")).status_code == 404


def test_the_cli_imports_with_the_stored_layout(
    client: TestClient, auth: Auth, settings: Settings, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_env(settings, monkeypatch)
    store(client, auth)
    path = tmp_path / "lakala-20261120.csv"
    path.write_bytes(export())
    args = ["reconcile", str(path), "-m", world.a.id, "--channel", "card", "--date", "2026-11-20", "--json"]
    unknown = CliRunner().invoke(cli, [*args, "--mapping", "nope"])
    assert unknown.exit_code != 0 and "recon.mapping_not_found" in unknown.output
    result = CliRunner().invoke(cli, [*args, "--mapping", "lakala"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["file"]
    assert (report["lines"], report["bad_lines"], report["duplicate"]) == (3, 0, False)
    without = CliRunner().invoke(cli, [*args[:-1], "--json"])  # the standard layout cannot read it: refused whole
    assert without.exit_code != 0
