"""The reconciliation pages of the console over HTTP (SQLite and PostgreSQL): import with progress, the same
file twice, bad lines by number, runs, totals + chart, discrepancies by class and page, CSV, wrong-charge
case, customer contact, correction refund through the normal flow, lost-refund recovery; roles, another
merchant's ids, errors beside their fields with nothing changed."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.db import tables
from posrefund.demo.settlement import Faults, from_ledger
from posrefund.domain.reconciliation import FeeRate
from posrefund.service import execution, refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from tests.conftest import FixedClock, Merchant, World
from tests.console.conftest import Browser
from tests.support.fakes import FakeChannel
from tests.support.helpers import captured_again, new_sale

FIXTURES = Path(__file__).parent.parent / "fixtures" / "settlement"
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64
ERR = re.compile(r'<p class="err" id="f-([a-z_]+)-err"')


def field_errors(html: str) -> set[str]:
    return set(ERR.findall(html))


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(table)) or 0)


def wait_job(b: Browser, location: str) -> str:
    """Follow the job page's progress fragment as htmx would, until it stops polling."""
    assert re.fullmatch(r"/console/recon/jobs/[\w-]+", location), location
    page = b.get(location)
    assert page.status_code == 200 and 'id="job-progress"' in page.text
    for _ in range(400):
        frag = b.get(location + "/progress", headers={"HX-Request": "true"})
        assert frag.status_code == 200
        if 'data-state="running"' not in frag.text:
            assert "hx-trigger" not in frag.text  # the polling stops once the work is over
            return str(frag.text)
        assert 'hx-trigger="every 1s"' in frag.text
        time.sleep(0.05)
    raise AssertionError("the job never finished")


def upload(b: Browser, path: Path, source: str) -> Any:
    return b.client.post(
        "/console/recon/import",
        data={"csrf": b.csrf, "source": source},
        files={"file": (path.name, path.read_bytes(), "text/csv")},
        follow_redirects=False,
    )


def wechat_bill(deps: Deps, m: Merchant, tmp: Path, faults: Faults, day: date) -> tuple[Path, str]:
    """The channel's bill of ``day``; the sales ``duplicate_charge`` marked are captured a second time."""
    with deps.uow(readonly=True) as uow:
        sale_rows = list(uow.ledger.ledger_sales(m.id, ["wechat"], day, day))
        refund_rows = list(uow.ledger.ledger_refunds(m.id, ["wechat"], day, day))
    sale_rows += [captured_again(row) for row in sale_rows if row["id"] in m.extra.get("captured_twice", ())]
    path = tmp / f"wechat-{day}.csv"
    from_ledger(path, "wechat", day, sale_rows, refund_rows, faults, {"wechat": FeeRate("wechat", 38)})
    return path, day.isoformat()


def reconciled(b: Browser, deps: Deps, m: Merchant, tmp: Path, paid: datetime, faults: Faults | None = None) -> str:
    """Import the WeChat bill of the day ``paid`` and run it through the console; the run's page path."""
    path, day = wechat_bill(deps, m, tmp, faults or Faults(), deps.local_date(paid))
    r = upload(b, path, "wechat")
    assert r.status_code == 303
    assert "导入完成" in wait_job(b, r.headers["location"])
    r = b.post("/console/recon/run", {"source": "wechat", "date_from": day, "date_to": day}, follow_redirects=False)
    assert r.status_code == 303, r.text
    done = wait_job(b, r.headers["location"])
    m_run = re.search(r'href="(/console/recon/runs/[\w-]+)"', done)
    assert m_run and "对账完成" in done, done
    return m_run.group(1)


def duplicate_charge(deps: Deps, m: Merchant) -> tuple[Any, Any]:
    """Two sales of one customer for the same amount 40 s apart (a repeat purchase, no fault), the second of
    which the channel captures twice in the bill ``wechat_bill`` writes: (the first sale, the twice-charged one)."""
    first = new_sale(deps, m, amount_fen=5_000, fee_fen=19, payer_masked="o***7c")
    twin = new_sale(
        deps, m, amount_fen=5_000, fee_fen=19, payer_masked="o***7c", paid_at=first.paid_at + timedelta(seconds=40)
    )
    m.extra.setdefault("captured_twice", set()).add(twin.id)
    return first, twin


def test_menu_and_roles(as_user: Any) -> None:
    finance, risk, cashier = as_user("a.finance"), as_user("a.risk"), as_user("a.cashier")
    page = finance.get("/console/recon")
    assert page.status_code == 200
    assert 'href="/console/recon"' in page.text and "导入对账文件" in page.text and "运行对账" in page.text
    assert 'href="/console/recon"' not in cashier.get("/console/desk").text
    assert cashier.get("/console/recon").status_code == 403
    seen = risk.get("/console/recon")  # risk reads and opens cases; it does not import or run
    assert seen.status_code == 200 and 'action="/console/recon/import"' not in seen.text
    r = risk.post("/console/recon/run", {"source": "card", "date_from": "2026-11-20", "date_to": "2026-11-20"})
    assert r.status_code == 403


def test_import_shows_progress_bad_lines_by_number_and_the_same_file_twice(
    as_user: Any, deps: Deps, engine: Engine
) -> None:
    b = as_user("a.finance")
    path = FIXTURES / "card_acquirer.csv"
    r = upload(b, path, "card")
    assert r.status_code == 303
    done = wait_job(b, r.headers["location"])
    assert "导入完成" in done and "<progress" not in done
    bad = re.findall(r'<tr><td class="num">(\d+)</td>', done)
    assert bad == ["6", "7", "8"]  # the unreadable lines, by their numbers in the file
    file_link = re.search(r'href="(/console/recon/files/[\w-]+)"', done)
    assert file_link
    assert "6" in b.get(file_link.group(1)).text
    files_before = count(engine, tables.settlement_files)
    lines_before = count(engine, tables.settlement_lines)
    again = upload(b, path, "card")
    assert "该文件已导入过，未重复导入。" in wait_job(b, again.headers["location"])
    assert (count(engine, tables.settlement_files), count(engine, tables.settlement_lines)) == (
        files_before,
        lines_before,
    )
    english = b.get(again.headers["location"], cookies={"prc_lang": "en"})
    assert english.status_code == 200


def test_import_and_run_forms_put_errors_beside_fields_and_change_nothing(
    as_user: Any, deps: Deps, engine: Engine
) -> None:
    b = as_user("a.finance")
    b.get("/console/recon")
    no_file = b.client.post("/console/recon/import", data={"csrf": b.csrf, "source": "card"}, follow_redirects=False)
    assert no_file.status_code == 422 and field_errors(no_file.text) == {"file"}
    bad_source = b.client.post(
        "/console/recon/import",
        data={"csrf": b.csrf, "source": "paypal"},
        files={"file": ("x.csv", b"a,b\n", "text/csv")},
        follow_redirects=False,
    )
    assert bad_source.status_code == 422 and "source" in field_errors(bad_source.text)
    empty = b.client.post(
        "/console/recon/import",
        data={"csrf": b.csrf, "source": "card"},
        files={"file": ("x.csv", b"", "text/csv")},
        follow_redirects=False,
    )
    assert empty.status_code == 422 and field_errors(empty.text) == {"file"}
    r = b.post("/console/recon/run", {"source": "card", "date_from": "2026-11-20", "date_to": "2026-11-19"})
    assert r.status_code == 422 and field_errors(r.text) == {"date_to"}
    r = b.post(
        "/console/recon/run", {"source": "card", "date_from": "2026-02-30", "date_to": "x", "window_minutes": "-3"}
    )
    assert r.status_code == 422 and field_errors(r.text) == {"date_from", "date_to", "window_minutes"}
    assert (count(engine, tables.settlement_files), count(engine, tables.recon_runs)) == (0, 0)
    # a valid form with nothing imported for those dates: the run says so and writes nothing
    r = b.post(
        "/console/recon/run",
        {"source": "alipay", "date_from": "2026-11-20", "date_to": "2026-11-20"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    failed = wait_job(b, r.headers["location"])
    assert ('data-state="failed"' in failed and "alipay" in failed) or "支付宝" in failed
    assert count(engine, tables.recon_runs) == 0


def test_run_page_totals_chart_list_by_class_pages_and_csv(
    as_user: Any, deps: Deps, world: World, tmp_path: Path
) -> None:
    m = world.a
    _first, twin = duplicate_charge(deps, m)
    b = as_user("a.finance")
    run_path = reconciled(b, deps, m, tmp_path, twin.paid_at, Faults(missing_here=2))
    page = b.get(run_path)
    assert page.status_code == 200
    assert '<svg class="chart" role="img"' in page.text and page.text.count('class="bar"') == 2
    counts = dict(re.findall(r'<tr data-class="(\w+)">.*?<td class="num">([\d,]+)</td>', page.text, re.S))
    assert counts == {
        "missing_at_channel": "0",
        "missing_here": "2",
        "amount_mismatch": "0",
        "fee_mismatch": "0",
        "duplicate_charge": "1",
        "refund_status_mismatch": "0",
        "completion_missing_here": "0",
        "completion_missing_at_channel": "0",
    }
    only = b.get(run_path, params={"class": "duplicate_charge"})
    ids = re.findall(r'<td><a href="/console/recon/discrepancies/(\d+)">', only.text)
    listed = only.text.split("<table")[-1]  # the list, after the totals table (its rows hold forms of their own)
    assert len(set(ids)) == 1 and "重复扣款" in listed and "我方无记录" not in listed
    junk = b.get(run_path, params={"class": "nonsense", "page": "x"})
    assert junk.status_code == 200 and field_errors(junk.text) == {"class"}
    assert '<div class="alert" role="alert"><p>请输入正整数' in junk.text
    assert b.get(run_path, params={"page": "2"}).status_code == 200

    export = b.get(run_path + "/export.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert sorted(r["差错类别代码"] for r in rows) == [
        "duplicate_charge",
        "missing_here",
        "missing_here",
    ]
    dup = next(r for r in rows if r["差错类别代码"] == "duplicate_charge")
    assert (dup["销售单号"], dup["对方金额（分）"], dup["对方金额（元）"], dup["差错类别"]) == (
        twin.id,
        "5000",
        "50.00",
        "重复扣款",
    )
    only_csv = b.get(run_path + "/export.csv", params={"class": "missing_here"})
    assert len(list(csv.DictReader(io.StringIO(only_csv.text.lstrip("\ufeff"))))) == 2

    home = b.get("/console/recon")
    assert run_path in home.text  # the runs list
    # re-running the same reconciliation changes nothing and says so
    day = deps.local_date(twin.paid_at).isoformat()
    r = b.post("/console/recon/run", {"source": "wechat", "date_from": day, "date_to": day}, follow_redirects=False)
    assert "结果与上次相同，未做任何更改。" in wait_job(b, r.headers["location"])


def test_wrong_charge_from_a_duplicate_contact_and_correction_through_the_normal_flow(
    as_user: Any, deps: Deps, world: World, tmp_path: Path, engine: Engine
) -> None:
    m = world.a
    _first, twin = duplicate_charge(deps, m)
    finance, risk = as_user("a.finance"), as_user("a.risk")
    run_path = reconciled(finance, deps, m, tmp_path, twin.paid_at)
    listed = finance.get(run_path, params={"class": "duplicate_charge"}).text
    d_path = re.findall(r'href="(/console/recon/discrepancies/\d+)"', listed)[0]
    page = risk.get(d_path)
    assert page.status_code == 200 and "开立错收工单" in page.text and twin.voucher_no in page.text

    bad = risk.client.post(
        d_path + "/wrong-charge",
        data={"csrf": risk.csrf, "cause": "aliens", "responsible": "merchant_staff", "analysis": "x"},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and field_errors(bad.text) == {"cause"}
    bad_file = risk.client.post(
        d_path + "/wrong-charge",
        data={
            "csrf": risk.csrf,
            "cause": "operator_error",
            "responsible": "merchant_staff",
            "evidence_kind": "receipt",
        },
        files={"evidence": ("x.exe", b"MZ not an image", "application/octet-stream")},
        follow_redirects=False,
    )
    assert bad_file.status_code == 422 and field_errors(bad_file.text) == {"evidence"}
    assert (count(engine, tables.wrong_charges), count(engine, tables.evidence)) == (0, 0)  # nothing written

    opened = risk.client.post(
        d_path + "/wrong-charge",
        data={
            "csrf": risk.csrf,
            "cause": "operator_error",
            "responsible": "merchant_staff",
            "analysis": "收银员重复扫码",
            "evidence_kind": "receipt",
        },
        files={"evidence": ("小票.jpg", JPEG, "image/jpeg")},
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    wc_path = opened.headers["location"]
    case_page = risk.get(wc_path)
    assert case_page.status_code == 200
    assert (
        "操作失误" in case_page.text and "收银员重复扫码" in case_page.text and "/console/evidence/" in case_page.text
    )
    assert twin.voucher_no in case_page.text and "o***7c" in case_page.text  # its sale and settlement line
    assert "发起更正退款" not in case_page.text  # risk may not start the correction

    empty = risk.post(wc_path + "/contact", {"contact_method": "phone", "contact_note": "  "})
    assert empty.status_code == 422 and field_errors(empty.text) == {"contact_note"}
    ok = risk.post(
        wc_path + "/contact", {"contact_method": "phone", "contact_note": "已致电致歉"}, follow_redirects=False
    )
    assert ok.status_code == 303
    assert "已致电致歉" in risk.get(wc_path).text
    assert risk.post(wc_path + "/correction", {"amount": ""}).status_code == 403

    finance.get(wc_path)
    wrong = finance.post(wc_path + "/correction", {"amount": "abc"})
    assert wrong.status_code == 422 and field_errors(wrong.text) == {"amount"}
    too_much = finance.post(wc_path + "/correction", {"amount": "999"})
    assert too_much.status_code in (409, 422) and "amount" in field_errors(too_much.text) | {"amount"}
    assert count(engine, tables.refunds) == 0
    with engine.connect() as c:  # a refused correction leaves the case as it was: all or nothing
        assert c.scalar(select(tables.wrong_charges.c.status)) == "open"
    started = finance.post(wc_path + "/correction", {"amount": "", "phone": "13800138000"}, follow_redirects=False)
    assert started.status_code == 303, started.text
    after = finance.get(wc_path).text
    link = re.search(r'href="/console/cases/([\w-]+)"', after)
    assert link and "更正退款已发起" in after
    case = refunds.get_case(deps, m.actors["auditor"], link.group(1)).case
    assert (case.sale_id, case.amount_fen, case.reason.value) == (twin.id, 5_000, "duplicate_charge")
    assert [a.strip() for a in re.findall(r"<li><time>[^<]*</time> ([^<·]+)", after)] == [
        "开立工单",
        "已联系顾客",
        "发起更正退款",
    ]
    again = finance.post(wc_path + "/correction", {"amount": ""})
    assert again.status_code == 409 and f"更正退款已发起（退款单 {case.id}）" in again.text  # never a second refund
    assert 'action="/console/recon/wrong-charges/' + wc_path.rsplit("/", 1)[1] + '/correction"' not in again.text
    assert count(engine, tables.refunds) == 1


def test_lost_refund_recovered_from_the_discrepancy_page(
    as_user: Any, deps: Deps, world: World, tmp_path: Path, clock: FixedClock
) -> None:
    m = world.a
    sale = new_sale(deps, m, amount_fen=8_000, paid_at=clock.now() - timedelta(minutes=30))
    case = refunds.request_refund(
        deps, m.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=3_000, reason="customer_cancelled")
    )
    fake = FakeChannel()
    fake.script[case.refund_no] = ["processing"] + ["timeout"] * 20
    execution.sweep(deps, Router(channels={"wechat": fake}, is_workday=ChineseCalendar().is_workday))
    finance = as_user("a.finance")
    run_path = reconciled(finance, deps, m, tmp_path, sale.paid_at, Faults(refund_status_mismatch=1))
    listed = finance.get(run_path, params={"class": "refund_status_mismatch"}).text
    d_path = re.findall(r'href="(/console/recon/discrepancies/\d+)"', listed)[0]
    page = finance.get(d_path)
    assert "确认退款已成功" in page.text
    assert "确认退款已成功" not in as_user("a.risk").get(d_path).text
    r = finance.post(d_path + "/recover", {"reason": "渠道账单显示已退"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/console/cases/{case.id}"
    assert refunds.get_case(deps, m.actors["auditor"], case.id).case.status.value == "succeeded"
    assert sales.get_sale(deps, m.actors["finance"], sale.id).refunded_fen == 3_000
    assert finance.post(d_path + "/recover", {"reason": ""}).status_code == 409  # never twice


def test_another_merchants_ids_are_not_found(as_user: Any, deps: Deps, world: World, tmp_path: Path) -> None:
    _first, twin = duplicate_charge(deps, world.a)
    a = as_user("a.finance")
    run_path = reconciled(a, deps, world.a, tmp_path, twin.paid_at)
    d_path = re.findall(r'href="(/console/recon/discrepancies/\d+)"', a.get(run_path).text)[0]
    opened = a.post(d_path + "/wrong-charge", {"cause": "unknown", "responsible": "unknown"}, follow_redirects=False)
    wc_path = opened.headers["location"]
    r = upload(a, FIXTURES / "card_acquirer.csv", "card")
    job_path = r.headers["location"]
    file_path = re.search(r'href="(/console/recon/files/[\w-]+)"', wait_job(a, job_path))
    assert file_path
    b = as_user("b.finance")
    b.get("/console/recon")
    for path in (
        run_path,
        run_path + "/export.csv",
        d_path,
        wc_path,
        job_path,
        job_path + "/progress",
        file_path.group(1),
    ):
        assert b.get(path).status_code == 404, path
    for path, form in (
        (d_path + "/wrong-charge", {"cause": "unknown", "responsible": "unknown"}),
        (d_path + "/recover", {}),
        (wc_path + "/contact", {"contact_method": "phone", "contact_note": "x"}),
        (wc_path + "/update", {"cause": "unknown", "responsible": "unknown"}),
        (wc_path + "/correction", {}),
    ):
        assert b.post(path, form).status_code == 404, path
    assert b.get("/console/recon/discrepancies/abc").status_code == 404
    assert "错收工单" in a.get(wc_path).text  # untouched for its own merchant
