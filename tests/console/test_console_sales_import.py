"""The sales import from the console's reconciliation page: the file is imported on a worker thread while the
page shows how many rows are read so far, then what was recorded, skipped and refused (each refused row with its
line and reason); a cashier has no such form and cannot post one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from posrefund.adapters.db import tables
from tests.conftest import World
from tests.console.test_console_reconciliation import wait_job

HEADER = "terminal_id,voucher_no,rrn,batch_no,auth_code,order_no,channel,kind,amount_fen,fee_fen,currency,paid_at,payer_masked"
ROWS = [
    "MA01,,,,,CW1,wechat,sale,2000,8,CNY,2026-11-19 10:05:00,o***ab",
    "MA01,,,,,CW2,alipay,sale,3000,11,CNY,2026-11-19T02:06:00+00:00,159****5620",
    "MA01,,,,,,wechat,sale,2000,8,CNY,2026-11-19 10:05:00,o***ab",  # a wallet sale needs its order no.
]


def _sales(engine: Engine, merchant_id: str) -> int:
    with engine.connect() as c:
        q = select(func.count()).select_from(tables.sales).where(tables.sales.c.merchant_id == merchant_id)
        return int(c.scalar(q) or 0)


def test_the_sales_import_shows_its_progress_and_every_refused_row(as_user: Any, engine: Engine, world: World) -> None:
    finance = as_user("a.finance")
    page = finance.get("/console/recon")
    assert 'action="/console/recon/sales-import"' in page.text and "导入消费记录" in page.text
    body = ("\n".join([HEADER, *ROWS]) + "\n").encode()
    r = finance.client.post(
        "/console/recon/sales-import",
        data={"csrf": finance.csrf},
        files={"sales_file": ("sales.csv", body, "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    done = wait_job(finance, r.headers["location"])
    assert "导入完成" in done and "sales.csv" in done
    assert "<td>4</td>" in done and "消费记录字段不合法：订单号" in done
    assert _sales(engine, world.a.id) == 2


def test_an_empty_choice_is_an_error_beside_the_field_and_a_cashier_may_not(as_user: Any) -> None:
    finance = as_user("a.finance")
    r = finance.client.post("/console/recon/sales-import", data={"csrf": finance.csrf}, follow_redirects=False)
    assert r.status_code == 422
    assert 'id="f-sales_file-err"' in r.text
    cashier = as_user("a.cashier")
    assert 'action="/console/recon/sales-import"' not in cashier.get("/console/recon").text
    r = cashier.client.post(
        "/console/recon/sales-import",
        data={"csrf": cashier.csrf},
        files={"sales_file": ("s.csv", b"x\n", "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 403
