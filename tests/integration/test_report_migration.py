"""Migration 0011 marks every day that already holds cases or sales, so the first report after the upgrade
rebuilds them: a refund requested at 00:30 in Shanghai (16:30 UTC the day before) belongs to its Shanghai day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, select

from posrefund.adapters.db import tables
from posrefund.adapters.db.migrate import upgrade


def test_existing_days_are_marked_for_the_reports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0010")
    engine = create_engine(url)  # no foreign keys: the rows stand alone
    paid = datetime(2026, 11, 1, 16, 30, tzinfo=UTC)
    sale = {c.name: "x" for c in tables.sales.c if not c.nullable and c.server_default is None}
    sale |= {"id": "S1", "merchant_id": "M1", "amount_fen": 100, "fee_fen": 0, "paid_at": paid}
    sale |= {"paid_date": date(2026, 11, 2), "created_at": paid}
    refund = {c.name: "x" for c in tables.refunds.c if not c.nullable and c.server_default is None}
    refund |= {"id": "R1", "merchant_id": "M1", "sale_id": "S1", "amount_fen": 100, "required_approvals": 1}
    refund |= {"version": 1, "created_at": paid, "updated_at": paid}
    with engine.begin() as c:
        c.execute(insert(tables.sales).values(**sale))
        c.execute(insert(tables.refunds).values(**refund))
    engine.dispose()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as c:
        marked = sorted(c.execute(select(tables.report_changes.c.merchant_id, tables.report_changes.c.day)))
    engine.dispose()
    # one mark for the sale's day, one for the refund's Shanghai day (00:30 on 2 November, not UTC's 1 November)
    assert [tuple(m) for m in marked] == [("M1", date(2026, 11, 2)), ("M1", date(2026, 11, 2))]
