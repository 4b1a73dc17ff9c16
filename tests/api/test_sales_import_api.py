"""``POST /v1/reconciliation/sales-imports``: finance's import of a POS export. A bad row is refused with its line,
code and message in the caller's language and the rest recorded; a file that is no table, or lacks a required
column, is refused whole (422) with nothing recorded; only finance and admin may import."""

from __future__ import annotations

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from posrefund.adapters.db import tables
from tests.api.conftest import Auth
from tests.conftest import World

URL = "/v1/reconciliation/sales-imports"
HEADER = "terminal_id,voucher_no,rrn,batch_no,auth_code,order_no,channel,kind,amount_fen,fee_fen,currency,paid_at,payer_masked"
ROWS = [
    "MA01,000001,000000000001,000001,AB12CD,C1,card,sale,1000,6,CNY,2026-11-19T10:00:00+08:00,622202******1234",
    "MA01,,,,,W1,wechat,sale,2000,8,CNY,2026-11-19 10:05:00,o***ab",
    "MA01,000002,000000000002,000001,AB12CD,C2,card,sale,1000,6,CNY,2026-11-19T10:00:00+08:00,6222021234561234",
    "MA01,,,,,W2,alipay,sale,3000,11,CNY,2026-11-19 10:06:00,159****5620",
    "MA01,,,,,W3,alipay,sale,-5,0,CNY,2026-11-19 10:07:00,159****5620",
    "MA01,000003,000000000003,000001,AB12CD,C3,card,sale,1000,6,CNY,2026-11-19T10:00:00+08:00,6222021234561236",
]


def _sales(engine: Engine, merchant_id: str) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).where(tables.sales.c.merchant_id == merchant_id)).scalar_one())


def test_bad_rows_are_refused_with_their_lines_and_the_rest_recorded(
    client: TestClient, auth: Auth, engine: Engine, world: World
) -> None:
    data = "\n".join([HEADER, *ROWS]).encode()
    r = client.post(
        URL, files={"file": ("s.csv", data, "text/csv")}, headers=auth("a.finance", **{"Accept-Language": "en"})
    )
    assert r.status_code == 201, r.text
    body = r.json()
    # The naive times: W1, W2 and the refused W3, each read in Shanghai time.
    assert (body["rows"], body["imported"], body["duplicates"], body["naive_times"]) == (6, 3, 0, 3)
    # A number where a masked one belongs is refused, named by its line (the header is line 1): one with more
    # digits than a mask shows, and a full card number (it passes the Luhn check) as card data, the field named.
    assert [(e["line"], e["code"], e["params"]) for e in body["errors"]] == [
        (4, "pii.payer_not_masked", {}),
        (6, "sale.invalid_amount", {"field": "amount_fen"}),
        (7, "pan_detected", {"field": "payer_masked"}),
    ]
    assert all(e["message"] and "{" not in e["message"] for e in body["errors"])
    assert _sales(engine, world.a.id) == 3
    r = client.post(URL, files={"file": ("s.csv", data, "text/csv")}, headers=auth("a.admin"))
    assert r.status_code == 201, r.text
    assert (r.json()["imported"], r.json()["duplicates"]) == (0, 3)  # imported twice, recorded once
    assert _sales(engine, world.a.id) == 3


def test_a_workbook_is_imported_like_a_csv(client: TestClient, auth: Auth, engine: Engine, world: World) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in [HEADER, ROWS[0], ROWS[1]]:
        sheet.append(line.split(","))
    from io import BytesIO

    out = BytesIO()
    book.save(out)
    r = client.post(
        URL, files={"file": ("s.xlsx", out.getvalue(), "application/octet-stream")}, headers=auth("a.finance")
    )
    assert r.status_code == 201, r.text
    assert (r.json()["imported"], r.json()["errors"]) == (2, [])


def test_a_file_that_is_no_sales_table_is_refused_whole_in_the_callers_language(
    client: TestClient, auth: Auth, engine: Engine, world: World
) -> None:
    zh = auth("a.finance", **{"Accept-Language": "zh-CN"})
    en = auth("a.finance", **{"Accept-Language": "en"})
    cases = [
        (("s.csv", b"", "text/csv"), en, "sale_import.bad_file", "The sales file cannot be read: empty file"),
        (("s.xlsx", b"not a workbook", "application/octet-stream"), zh, "sale_import.bad_file", "消费记录文件无法读取"),
        (
            ("s.csv", b"terminal_id,order_no,channel\nMA01,W1,wechat\n", "text/csv"),
            en,
            "sale_import.missing_columns",
            "The sales file lacks required columns: paid_at, amount_fen",
        ),
        (
            ("s.csv", b"terminal_id,order_no\nMA01,W1\n", "text/csv"),
            zh,
            "sale_import.missing_columns",
            "消费记录文件缺少必需的列：paid_at, channel, amount_fen",
        ),
    ]
    for upload, headers, code, wording in cases:
        r = client.post(URL, files={"file": upload}, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == code
        assert r.json()["message"].startswith(wording), r.json()["message"]
    r = client.post(URL, headers=en)  # no file at all
    assert r.status_code == 422, r.text
    assert _sales(engine, world.a.id) == 0


def test_only_finance_and_admin_import_sales(client: TestClient, auth: Auth, engine: Engine, world: World) -> None:
    data = "\n".join([HEADER, ROWS[1]]).encode()
    for who in ("a.cashier", "a.supervisor", "a.auditor"):
        r = client.post(URL, files={"file": ("s.csv", data, "text/csv")}, headers=auth(who))
        assert r.status_code == 403, (who, r.text)
    assert _sales(engine, world.a.id) == 0


def test_quoting_polars_cannot_read_is_read_as_csv_reads_it(
    client: TestClient, auth: Auth, engine: Engine, world: World
) -> None:
    """A stray quote (Excel would not write one, a hand-edited file may): the rows before it are imported, the
    quote runs to the end of the file as ``csv`` reads it, and that row is refused with its line — never a 500."""
    data = "\n".join([HEADER, ROWS[0], ROWS[1].replace(",W1,", ',"W1,'), ROWS[3]]).encode()
    r = client.post(URL, files={"file": ("s.csv", data, "text/csv")}, headers=auth("a.finance"))
    assert r.status_code == 201, r.text
    assert (r.json()["rows"], r.json()["imported"]) == (2, 1)
    assert [e["line"] for e in r.json()["errors"]] == [3]
    assert _sales(engine, world.a.id) == 1
