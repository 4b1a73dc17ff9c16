"""Reconciliation never trusts a bad settlement file: the same content again is the file it already is, a file
cut short or whose summary does not add up, another merchant's, or one with lines outside the dates asked for is
refused whole (nothing changed), an overlapping file counts each line once, and a file can be withdrawn."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from posrefund.adapters.db import tables
from posrefund.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from posrefund.service import channel_accounts, reconciliation, wrong_charges
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.recon.bills import (
    ALIPAY_ACCOUNT,
    CARD_MID,
    DAY,
    SUB_MCHID,
    Tx,
    alipay_bill,
    card_file,
    counting_lines,
    file_row,
    import_path,
    row_counts,
    wechat_bill,
    write,
)

DAY_BEFORE = DAY - timedelta(days=1)
LINES = [Tx(1, 8800, 53), Tx(2, 123456, 741), Tx(1, 3000, 18, refund=True), Tx(3, 50)]


def refused(engine: Engine, call: object, error: type[DomainError], code: str) -> DomainError:
    """``call`` raises ``error`` with ``code`` and no table an import writes has one row more or less."""
    before = row_counts(engine)
    with pytest.raises(error) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code == code
    assert row_counts(engine) == before
    return caught.value


def test_the_same_bill_again_in_any_copy_is_the_file_it_already_is(
    deps: Deps, world: World, engine: Engine, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    text = wechat_bill(LINES)
    first = import_path(deps, finance, "wechat", write(tmp_path, "bill.csv", text))
    assert (first.duplicate, first.lines, first.bad_lines, first.overlap_lines) == (False, 4, 0, 0)
    before = row_counts(engine)
    copies = {
        "downloaded again": text,
        "CRLF": text.replace("\n", "\r\n"),
        "CR": text.replace("\n", "\r"),
        "BOM": "\ufeff" + text,
        "no trailing newline": text.rstrip("\n"),
        "blank lines at the end": text + "\n\n",
    }
    for name, copy in copies.items():
        again = import_path(deps, finance, "wechat", write(tmp_path, f"{name}.csv", copy))
        assert (again.duplicate, again.file_id, again.lines) == (True, first.file_id, 4), name
        assert again.notice is not None and again.notice["code"] == "recon.file_duplicate"
        assert again.notice["params"]["file_id"] == first.file_id
        assert again.notice["params"]["filename"] == "bill.csv"
    assert row_counts(engine) == before
    changed = import_path(deps, finance, "wechat", write(tmp_path, "other.csv", wechat_bill([*LINES, Tx(4, 100)])))
    assert changed.duplicate is False  # one more line: another file (its four shared lines count once)
    assert changed.overlap_lines == 4 and counting_lines(engine, changed.file_id) == 1


def test_an_alipay_bill_saved_as_utf8_is_the_gbk_bill(deps: Deps, world: World, engine: Engine, tmp_path: Path) -> None:
    finance = world.a.actors["finance"]
    text = alipay_bill([Tx(11, 3600, 22), Tx(12, 123456, 741), Tx(11, 1000, 6, refund=True)])
    gbk = import_path(deps, finance, "alipay", write(tmp_path, "alipay.csv", text, "gbk"))
    assert (gbk.duplicate, gbk.lines, gbk.bad_lines) == (False, 3, 0)
    before = row_counts(engine)
    utf8 = import_path(deps, finance, "alipay", write(tmp_path, "alipay-utf8.csv", text, "utf-8"))
    assert (utf8.duplicate, utf8.file_id) == (True, gbk.file_id)
    assert row_counts(engine) == before


def test_a_file_of_another_merchant_is_refused_naming_the_line(
    deps: Deps, world: World, engine: Engine, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    for channel, account in (("wechat", SUB_MCHID), ("alipay", ALIPAY_ACCOUNT), ("card", CARD_MID)):
        channel_accounts.set_channel_account(deps, world.provider, world.a.id, channel, sub_mchid=account)
    theirs = write(tmp_path, "theirs.csv", wechat_bill([Tx(1, 8800), Tx(2, 100, merchant_no="1900000999")]))
    err = refused(engine, lambda: import_path(deps, finance, "wechat", theirs), Invalid, "recon.file_other_merchant")
    assert err.params == {"line": 3, "found": "1900000999", "expected": SUB_MCHID}
    card = write(tmp_path, "card.csv", card_file([Tx(5, 100, merchant_no="898310058129999")]))
    err = refused(engine, lambda: import_path(deps, finance, "card", card), Invalid, "recon.file_other_merchant")
    assert err.params == {"line": 2, "found": "898310058129999", "expected": CARD_MID}
    channel_accounts.set_channel_account(deps, world.provider, world.a.id, "alipay", sub_mchid="20880000000000000001")
    alipay = write(tmp_path, "alipay.csv", alipay_bill([Tx(11, 3600)]), "gbk")
    err = refused(engine, lambda: import_path(deps, finance, "alipay", alipay), Invalid, "recon.file_other_merchant")
    assert err.params == {"line": 6, "found": ALIPAY_ACCOUNT, "expected": "20880000000000000001"}
    ours = import_path(deps, finance, "wechat", write(tmp_path, "ours.csv", wechat_bill(LINES)))
    assert (ours.duplicate, ours.lines) == (False, 4)


def test_a_line_outside_the_dates_asked_for_is_refused(
    deps: Deps, world: World, engine: Engine, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    path = write(tmp_path, "bill.csv", wechat_bill([Tx(1, 8800), Tx(2, 100, day=DAY_BEFORE), Tx(3, 50)]))
    err = refused(
        engine,
        lambda: import_path(deps, finance, "wechat", path, date_from=DAY, date_to=DAY),
        Invalid,
        "recon.file_out_of_range",
    )
    assert err.params == {"line": 3, "date": "2026-11-19", "date_from": "2026-11-20", "date_to": "2026-11-20"}
    report = import_path(deps, finance, "wechat", path, date_from=DAY_BEFORE, date_to=DAY)
    assert (report.first_date, report.last_date) == (DAY_BEFORE, DAY)


@pytest.mark.parametrize(
    ("cut", "code", "params"),
    [
        # the download broke off before the summary: the last data line is whole
        (lambda t: t[: t.index("总交易单数")], "recon.file_truncated", {"line": 5, "summary": "总交易单数…"}),
        # ... in the middle of the last data line
        (lambda t: t[: t.index("`SO0000000003") + 5], "recon.file_truncated", {"line": 5, "summary": "总交易单数…"}),
        # ... after the summary's header, before its totals
        (lambda t: t[: t.rindex("\n`") + 1], "recon.file_truncated", {"line": 5, "summary": "总交易单数…"}),
        # ... in the middle of the summary's totals
        (lambda t: t[: t.rindex("`")], "recon.file_truncated", {"line": 5, "summary": "总交易单数…"}),
    ],
)
def test_a_bill_cut_short_is_refused_naming_where_it_ends(
    deps: Deps, world: World, engine: Engine, tmp_path: Path, cut: object, code: str, params: dict[str, object]
) -> None:
    text = cut(wechat_bill(LINES))  # type: ignore[operator]
    path = write(tmp_path, "cut.csv", text)
    err = refused(engine, lambda: import_path(deps, world.a.actors["finance"], "wechat", path), Invalid, code)
    assert err.params == params


def test_a_line_cut_short_inside_a_whole_file_is_refused(
    deps: Deps, world: World, engine: Engine, tmp_path: Path
) -> None:
    lines = wechat_bill(LINES).split("\n")
    lines[2] = ",".join(lines[2].split(",")[:6])  # the second data line lost its end
    path = write(tmp_path, "cut.csv", "\n".join(lines))
    finance = world.a.actors["finance"]
    err = refused(engine, lambda: import_path(deps, finance, "wechat", path), Invalid, "recon.file_line_cut")
    assert err.params == {"line": 3, "detail": "expected 27 columns, found 6"}
    card = card_file([Tx(1, 100), Tx(2, 200)]).split("\n")
    card[1] = card[1][:40]
    path = write(tmp_path, "card.csv", "\n".join(card))
    err = refused(engine, lambda: import_path(deps, finance, "card", path), Invalid, "recon.file_line_cut")
    assert err.params == {"line": 2, "detail": "expected 12 columns, found 4"}


def test_totals_that_do_not_add_up_are_refused_naming_the_total(
    deps: Deps, world: World, engine: Engine, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    cases = {
        "wechat": (
            wechat_bill(LINES, 应结订单总金额="1323.07"),
            {"line": 7, "total": "应结订单总金额", "file": "¥1,323.07", "lines": "¥1,323.06"},
        ),
        "wechat-count": (
            wechat_bill(LINES, 总交易单数="5"),
            {"line": 7, "total": "总交易单数", "file": "5", "lines": "4"},
        ),
        "wechat-fees": (
            wechat_bill(LINES, 手续费总金额="7.94"),
            {"line": 7, "total": "手续费总金额", "file": "¥7.94", "lines": "¥7.76"},
        ),
        "card": (
            card_file([Tx(1, 100, 1), Tx(2, 200, 1)]).replace("合计,,,,,,3.00", "合计,,,,,,3.01"),
            {"line": 4, "total": "交易金额", "file": "¥3.01", "lines": "¥3.00"},
        ),
    }
    for name, (text, params) in cases.items():
        path = write(tmp_path, f"{name}.csv", text)
        call = partial(import_path, deps, finance, name.split("-")[0], path)
        err = refused(engine, call, Invalid, "recon.file_totals_mismatch")
        assert err.params == params, name
    alipay = alipay_bill([Tx(11, 3600), Tx(11, 1000, refund=True)]).replace("实收退款共：-10.00", "实收退款共：-10.50")
    path = write(tmp_path, "alipay.csv", alipay, "gbk")
    err = refused(engine, lambda: import_path(deps, finance, "alipay", path), Invalid, "recon.file_totals_mismatch")
    assert err.params == {"line": 9, "total": "退款合计 商家实收", "file": "-¥10.50", "lines": "-¥10.00"}
    path = write(tmp_path, "no-footer.csv", card_file([Tx(1, 100)], footer=False))
    err = refused(engine, lambda: import_path(deps, finance, "card", path), Invalid, "recon.file_truncated")
    assert err.params == {"line": 2, "summary": "合计/总计"}


def test_overlapping_files_count_each_line_once(deps: Deps, world: World, engine: Engine, tmp_path: Path) -> None:
    finance = world.a.actors["finance"]
    yesterday_and_today = [Tx(1, 8800, day=DAY_BEFORE), Tx(2, 100, day=DAY_BEFORE), Tx(3, 500)]
    today_again = [Tx(3, 500), Tx(4, 700), Tx(3, 200, refund=True)]
    first = import_path(deps, finance, "wechat", write(tmp_path, "a.csv", wechat_bill(yesterday_and_today)))
    second = import_path(deps, finance, "wechat", write(tmp_path, "b.csv", wechat_bill(today_again)))
    assert (second.duplicate, second.lines, second.overlap_lines) == (False, 3, 1)
    assert counting_lines(engine, first.file_id) + counting_lines(engine, second.file_id) == 5
    run = reconciliation.reconcile(deps, finance, source="wechat", date_from=DAY_BEFORE, date_to=DAY)
    totals = run["totals"]
    assert (totals["lines_sale"], totals["lines_sale_fen"]) == (4, 8800 + 100 + 500 + 700)
    assert (totals["lines_refund"], totals["lines_refund_fen"]) == (1, 200)
    other_amount = write(tmp_path, "c.csv", wechat_bill([Tx(4, 701)]))
    err = refused(
        engine, lambda: import_path(deps, finance, "wechat", other_amount), Conflict, "recon.file_line_conflict"
    )
    assert err.params == {"line": 2, "file_id": second.file_id, "other_line": 3}
    # A sale the channel captured twice is two lines with the same keys: both count, and a copy of them once each.
    twice = import_path(deps, finance, "wechat", write(tmp_path, "d.csv", wechat_bill([Tx(8, 100), Tx(8, 100)])))
    assert (twice.lines, twice.overlap_lines, counting_lines(engine, twice.file_id)) == (2, 0, 2)
    again = import_path(
        deps, finance, "wechat", write(tmp_path, "e.csv", wechat_bill([Tx(8, 100), Tx(8, 100), Tx(9, 1)]))
    )
    assert (again.lines, again.overlap_lines, counting_lines(engine, again.file_id)) == (3, 2, 1)


def test_a_withdrawn_file_no_longer_counts_and_its_runs_are_stale(
    deps: Deps, world: World, engine: Engine, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    first_path = write(tmp_path, "a.csv", wechat_bill([Tx(1, 8800), Tx(2, 100)]))
    first = import_path(deps, finance, "wechat", first_path)
    second = import_path(deps, finance, "wechat", write(tmp_path, "b.csv", wechat_bill([Tx(2, 100), Tx(3, 300)])))
    assert second.overlap_lines == 1
    run = reconciliation.reconcile(deps, finance, source="wechat", date_from=DAY, date_to=DAY)
    assert run["totals"]["lines_sale"] == 3

    for who, error, code in (("cashier", Forbidden, "auth.forbidden"), ("risk", Forbidden, "auth.forbidden")):
        refused(
            engine,
            lambda who=who: reconciliation.withdraw_file(deps, world.a.actors[who], first.file_id, "错"),
            error,
            code,
        )
    refused(
        engine,
        lambda: reconciliation.withdraw_file(deps, world.b.actors["finance"], first.file_id, "错"),
        NotFound,
        "recon.file_not_found",
    )
    refused(
        engine,
        lambda: reconciliation.withdraw_file(deps, finance, first.file_id, "  "),
        Invalid,
        "recon.reason_required",
    )

    done = reconciliation.withdraw_file(deps, finance, first.file_id, "渠道重新生成了对账单")
    assert (done["lines_removed"], [r["id"] for r in done["stale_runs"]]) == (2, [run["id"]])
    row = file_row(engine, first.file_id)
    assert (row["withdrawn_by"], row["withdraw_reason"]) == (finance.id, "渠道重新生成了对账单")
    assert counting_lines(engine, first.file_id) == 0
    assert counting_lines(engine, second.file_id) == 2  # its copy of line 2 counts now
    assert file_row(engine, second.file_id)["overlap_count"] == 0
    stale = reconciliation.get_run(deps, finance, run["id"])
    assert stale["stale_at"] is not None and first.file_id in stale["stale_reason"]
    with engine.connect() as c:
        events = tables.audit_events.c
        kinds = [r[0] for r in c.execute(select(events.action).where(events.action == "settlement.withdrawn"))]
    assert kinds == ["settlement.withdrawn"]

    again = refused(
        engine,
        lambda: reconciliation.withdraw_file(deps, finance, first.file_id, "再撤一次"),
        Conflict,
        "recon.file_withdrawn",
    )
    assert "withdrawn_at" in again.params
    with pytest.raises(NotFound):  # a run cannot name it
        reconciliation.reconcile(deps, finance, source="wechat", date_from=DAY, date_to=DAY, file_ids=[first.file_id])
    redone = reconciliation.reconcile(deps, finance, source="wechat", date_from=DAY, date_to=DAY)
    assert redone["id"] != run["id"] and redone["file_ids"] == [second.file_id]
    assert redone["totals"]["lines_sale"] == 2

    back = import_path(deps, finance, "wechat", first_path)  # the same content again counts again, same file
    assert (back.file_id, back.duplicate, back.lines, back.overlap_lines) == (first.file_id, False, 2, 1)
    assert file_row(engine, first.file_id)["withdrawn_at"] is None


def test_requests_without_an_account_or_dates_are_not_checked_for_them(
    deps: Deps, world: World, tmp_path: Path
) -> None:
    report = import_path(
        deps, world.a.actors["finance"], "wechat", write(tmp_path, "x.csv", wechat_bill([Tx(1, 1, merchant_no="1")]))
    )
    assert (report.duplicate, report.lines) == (False, 1)
    assert date(2026, 11, 20) == report.first_date


def test_a_file_whose_line_grounds_a_wrong_charge_case_cannot_be_withdrawn(
    deps: Deps, world: World, engine: Engine, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    report = import_path(deps, finance, "wechat", write(tmp_path, "a.csv", wechat_bill([Tx(1, 8800), Tx(2, 100)])))
    run = reconciliation.reconcile(deps, finance, source="wechat", date_from=DAY, date_to=DAY)
    rows, _ = reconciliation.list_discrepancies(deps, finance, str(run["id"]), limit=10)
    line_of = {r["id"]: r["line_id"] for r in rows if r["line_id"]}
    discrepancy = min(line_of)
    wrong_charges.open_case(deps, finance, discrepancy)  # the discrepancy is handled: a case rests on its line
    err = refused(
        engine,
        lambda: reconciliation.withdraw_file(deps, finance, report.file_id, "错了"),
        Conflict,
        "recon.file_in_use",
    )
    assert (err.params["id"], err.params["what"]) == (str(discrepancy), "discrepancy")
    assert err.params["line_no"] in (2, 3)
