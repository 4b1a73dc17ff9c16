"""Migration 0034 gives a sale one foreign key to its terminal's (id, store, merchant): existing sales keep their
place, a sale naming another store's terminal is refused from then on, and a database holding such a sale is not
upgraded at all (the migration says how many and stops before changing anything)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from posrefund.adapters.db import tables
from posrefund.adapters.db.engine import make_engine
from posrefund.adapters.db.migrate import upgrade

AT = datetime(2026, 11, 1, 8, tzinfo=UTC)


def _sale(sale_id: str, store_id: str) -> dict[str, Any]:
    """A sale on terminal T1 of merchant M1, said to be of ``store_id``; "x" where the value does not matter."""
    row: dict[str, Any] = {c.name: "x" for c in tables.sales.c if not c.nullable and c.server_default is None}
    row |= {"id": sale_id, "voucher_no": sale_id, "merchant_id": "M1", "store_id": store_id, "terminal_id": "T1"}
    return row | {"amount_fen": 100, "fee_fen": 0, "paid_at": AT, "paid_date": AT.date(), "created_at": AT}


def _old_database(tmp_path: Path, sale_store: str) -> str:
    """At 0033: a merchant with stores S1 and S2, terminal T1 of S1, and one sale on T1 said to be of ``sale_store``."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0033")
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(insert(tables.merchants).values(id="M1", code="M1", name="商户", created_at=AT))
        for store in ("S1", "S2"):
            c.execute(insert(tables.stores).values(id=store, merchant_id="M1", name=store, created_at=AT))
        terminal = {"id": "T1", "merchant_id": "M1", "store_id": "S1", "terminal_no": "01", "device_sn": "SN01"}
        c.execute(insert(tables.terminals).values(**terminal, created_at=AT))
        c.execute(insert(tables.sales).values(**_sale("SA1", sale_store)))
    engine.dispose()
    return url


def test_sales_keep_their_place_and_another_stores_terminal_is_refused(tmp_path: Path) -> None:
    url = _old_database(tmp_path, sale_store="S1")
    upgrade(url)
    engine = make_engine(url)  # the app's engine: foreign keys on
    with engine.connect() as c:
        assert c.execute(select(tables.sales.c.id, tables.sales.c.store_id)).all() == [("SA1", "S1")]
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(insert(tables.sales).values(**_sale("SA2", "S2")))
    with engine.begin() as c:  # the terminal's own store is accepted
        c.execute(insert(tables.sales).values(**_sale("SA3", "S1")))
    engine.dispose()


def test_a_sale_of_another_stores_terminal_stops_the_upgrade_before_any_change(tmp_path: Path) -> None:
    url = _old_database(tmp_path, sale_store="S2")
    with pytest.raises(RuntimeError, match="1 sale"):
        upgrade(url)
    engine = create_engine(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0033"
        assert c.execute(select(func.count()).select_from(tables.sales)).scalar_one() == 1
    engine.dispose()
