"""Every CSV download goes through the one writer (``entrypoints.csv_export``), so a cell that a
spreadsheet program would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return first) is
written with a leading ``'``: values planted in a settlement file or in a refund's row arrive as text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from posrefund.entrypoints.csv_export import FORMULA_STARTS
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.api.conftest import Auth
from tests.api.test_reconciliation_api import P, a_wechat_bill
from tests.conftest import World
from tests.security.test_headers import signed_in
from tests.support.helpers import new_sale

HYPERLINK = '=HYPERLINK("http://ev.il","详情")'  # a terminal number holds 32 characters
COMMAND = "+cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"


def cells(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def assert_inert(rows: list[list[str]], *planted: str) -> None:
    """No cell of the file starts as a formula, and each planted value is there, quoted with ``'``."""
    flat = [c for row in rows[1:] for c in row]
    assert [c for c in flat if c.startswith(FORMULA_STARTS)] == []
    for value in planted:
        assert "'" + value in flat, value


def planted_run(client: TestClient, auth: Auth, deps: Deps, world: World, tmp_path: Path) -> str:
    """A WeChat bill whose two lines we do not have carry formulas in their device and order numbers."""
    path, day, _twin, _others = a_wechat_bill(client, auth, deps, world, tmp_path)
    text = path.read_text(encoding="utf-8")
    for n, (device, order) in enumerate(((HYPERLINK, AT), (COMMAND, MINUS))):
        quoted = '"' + device.replace('"', '""') + '"'
        text = text.replace(f"`DEMO01,`42000X0000000000{n},`SX00000000{n},", f"{quoted},`42000X0000000000{n},{order},")
    path.write_text(text, encoding="utf-8")
    finance = auth("a.finance")
    up = client.post(
        f"{P}/files?source=wechat", files={"file": ("b.csv", path.read_bytes(), "text/csv")}, headers=finance
    )
    assert (up.status_code, up.json()["bad_lines"]) == (201, 0), up.text
    body = {"source": "wechat", "date_from": day.isoformat(), "date_to": day.isoformat()}
    run = client.post(f"{P}/runs", json=body, headers=finance)
    assert run.status_code == 201, run.text
    return str(run.json()["id"])


def test_the_apis_reconciliation_csv_quotes_planted_formulas(
    client: TestClient, auth: Auth, deps: Deps, world: World, tmp_path: Path
) -> None:
    run_id = planted_run(client, auth, deps, world, tmp_path)
    r = client.get(f"{P}/runs/{run_id}/discrepancies.csv", headers=auth("a.finance"))
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert_inert(cells(r.content), HYPERLINK, COMMAND, AT, MINUS)


def test_the_consoles_reconciliation_csv_quotes_planted_formulas(
    app: FastAPI, client: TestClient, auth: Auth, deps: Deps, world: World, tmp_path: Path
) -> None:
    run_id = planted_run(client, auth, deps, world, tmp_path)
    r = signed_in(app, world, "finance").get(f"/console/recon/runs/{run_id}/export.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert_inert(cells(r.content), HYPERLINK, COMMAND, AT, MINUS)


def test_the_consoles_refund_report_csv_quotes_planted_formulas(
    app: FastAPI, deps: Deps, world: World, engine: Engine
) -> None:
    """A refund row whose store and terminal columns were changed behind the service's back."""
    sale = new_sale(deps, world.a, amount_fen=5_000)
    case = refunds.request_refund(deps, world.a.actors["cashier"], RefundRequest(sale.id, 1_000, "goods_quality"))
    with engine.begin() as c:
        c.execute(
            update(tables.refunds).where(tables.refunds.c.id == case.id).values(store_id=HYPERLINK, terminal_id=COMMAND)
        )
    r = signed_in(app, world, "finance").get("/console/reports/export.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert_inert(cells(r.content), HYPERLINK, COMMAND)


def test_every_csv_download_goes_through_the_one_writer() -> None:
    """No other module writes CSV: a new export cannot skip the formula quoting by using ``csv`` itself."""
    src = Path(__file__).parents[2] / "src" / "posrefund" / "entrypoints"
    writers = sorted(
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if any(w in p.read_text(encoding="utf-8") for w in ("csv.writer", "csv.DictWriter", "writerow"))
    )
    assert writers == ["csv_export.py"]
