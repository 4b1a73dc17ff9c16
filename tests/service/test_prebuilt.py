"""The fast path for hot statements (on sqlite3's and psycopg's cursor) must behave exactly like
``Connection.execute``: same rows and types, same rowcounts, same exception classes, same transaction, and
on PostgreSQL a lost connection invalidated as SQLAlchemy would."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from posrefund.adapters.db import tables
from posrefund.adapters.db.prebuilt import HELD, FastResult, Prebuilt, send_with_commit
from posrefund.adapters.db.repositories.idempotency import GET_IDEMPOTENCY, INSERT_IDEMPOTENCY
from posrefund.adapters.db.repositories.sales import GET_SALE, RESERVE
from posrefund.domain.sale import Sale
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.support.helpers import new_sale


@pytest.fixture
def seeded(deps: Deps, world: World, engine: Engine) -> tuple[Engine, Sale]:
    return engine, new_sale(deps, world.a, amount_fen=10_000)


def test_select_gives_the_same_row_as_core(seeded: tuple[Engine, Sale]) -> None:
    engine, sale = seeded
    key = {"b_id": sale.id, "b_mid": sale.merchant_id}
    with engine.connect() as c:
        core = c.execute(GET_SALE.stmt, key).first()
        fast = GET_SALE.run(c, key).first()
        assert core is not None and fast is not None
        assert dict(fast._mapping) == dict(core._mapping)
        assert fast.paid_at == sale.paid_at and fast.paid_at.tzinfo is not None  # type conversion applied
        assert fast[0] == sale.id
        assert GET_SALE.run(c, {"b_id": "nope", "b_mid": sale.merchant_id}).first() is None


def test_fast_path_is_taken_on_both_databases(seeded: tuple[Engine, Sale]) -> None:
    engine, sale = seeded
    with engine.connect() as c:
        result = GET_SALE.run(c, {"b_id": sale.id, "b_mid": sale.merchant_id})
    assert isinstance(result, FastResult)


def test_an_insert_of_ours_returns_nothing_and_a_stored_answer_reads_back_as_core_reads_it(
    seeded: tuple[Engine, Sale],
) -> None:
    """An insert is compiled without the generated key's RETURNING (nothing reads it); the stored answer's
    bytes and time read back the same through both paths."""
    engine, _sale = seeded
    row = {
        "scope": "m1",
        "key": "k-1",
        "request_hash": "h",
        "status_code": 201,
        "body": b'{"id":"x"}',
        "created_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    with engine.begin() as c:
        assert INSERT_IDEMPOTENCY.run(c, row).rowcount == 1
    key = {"b_scope": "m1", "b_key": "k-1"}
    with engine.connect() as c:
        core = c.execute(GET_IDEMPOTENCY.stmt, key).first()
        fast = GET_IDEMPOTENCY.run(c, key).first()
    assert core is not None and fast is not None
    assert dict(fast._mapping) == dict(core._mapping)
    assert bytes(fast.body) == b'{"id":"x"}' and fast.created_at == row["created_at"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # a SQLite file has no server to lose
def test_a_lost_postgresql_connection_is_invalidated(seeded: tuple[Engine, Sale], backend: str) -> None:
    """The server closed the connection (a restart, a failover): the statement fails as a DBAPIError that
    says so, and the pool drops the connection instead of handing it out again."""
    engine, sale = seeded
    with engine.connect() as c:
        pid = c.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")  # type: ignore[arg-type]
        with pytest.raises(DBAPIError) as caught:
            GET_SALE.run(c, {"b_id": sale.id, "b_mid": sale.merchant_id})
        assert caught.value.connection_invalidated
        assert c.invalidated
    with engine.connect() as c:  # a fresh connection from the pool answers
        assert GET_SALE.run(c, {"b_id": sale.id, "b_mid": sale.merchant_id}).first() is not None


def test_update_with_a_literal_counts_rows_and_keeps_the_rule(seeded: tuple[Engine, Sale]) -> None:
    """RESERVE has ``refund_count + 1``: a literal bound value the fast path must carry itself."""
    engine, sale = seeded
    with engine.begin() as c:
        assert RESERVE.run(c, {"b_id": sale.id, "b_amount": 6_000, "b_max": 50}).rowcount == 1
        assert RESERVE.run(c, {"b_id": sale.id, "b_amount": 6_000, "b_max": 50}).rowcount == 0  # overdraw
    with engine.connect() as c:
        q = select(tables.sales.c.reserved_fen, tables.sales.c.refund_count).where(tables.sales.c.id == sale.id)
        row = c.execute(q).one()
    assert tuple(row) == (6_000, 1)


def test_driver_errors_arrive_as_sqlalchemy_errors_and_roll_back(seeded: tuple[Engine, Sale]) -> None:
    engine, sale = seeded
    rename = Prebuilt(update(tables.stores).where(tables.stores.c.id == bindparam("b_id")))
    with engine.connect() as c:
        store = dict(c.execute(select(tables.stores).where(tables.stores.c.id == sale.store_id)).one()._mapping)
    with pytest.raises(IntegrityError), engine.begin() as c:
        rename.run(c, {"b_id": sale.store_id, "name": "renamed"})
        Prebuilt(insert(tables.stores)).run(c, store)  # the same primary key again
    with engine.connect() as c:
        name = c.execute(select(tables.stores.c.name).where(tables.stores.c.id == sale.store_id)).scalar()
    assert name == store["name"]  # the update before the error was undone


def test_executemany_inserts_every_row(seeded: tuple[Engine, Sale]) -> None:
    engine, sale = seeded
    with engine.connect() as c:
        store = dict(c.execute(select(tables.stores).where(tables.stores.c.id == sale.store_id)).one()._mapping)
    rows: list[dict[str, Any]] = [{**store, "id": f"many_{i}", "name": f"s{i}"} for i in range(5)]
    with engine.begin() as c:
        Prebuilt(insert(tables.stores)).run(c, rows)
    with engine.connect() as c:
        got = c.execute(
            select(tables.stores.c.name).where(tables.stores.c.id.like("many_%")).order_by(tables.stores.c.id)
        ).scalars()
        assert list(got) == [f"s{i}" for i in range(5)]


@given(st.datetimes(timezones=st.timezones()))
def test_the_one_call_datetime_conversion_equals_sqlalchemys(value: datetime) -> None:
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    column = tables.refunds.c.created_at.type
    two_steps = column.dialect_impl(dialect).bind_processor(dialect)
    assert two_steps is not None
    try:
        expected = two_steps(value)
    except (ValueError, OverflowError) as exc:  # out of range once in UTC: both must refuse
        with pytest.raises(type(exc)):
            tables.UTCDateTime.sqlite_text(value)
        return
    assert tables.UTCDateTime.sqlite_text(value) == expected


def test_naive_datetimes_are_refused_by_both() -> None:
    with pytest.raises(ValueError, match="naive"):
        tables.UTCDateTime.sqlite_text(datetime(2026, 1, 1))


def _answer(key: str) -> dict[str, Any]:
    return {
        "scope": "m1",
        "key": key,
        "request_hash": "h",
        "status_code": 201,
        "body": b"{}",
        "created_at": datetime(2026, 1, 2, tzinfo=UTC),
    }


def _keys(engine: Engine) -> list[str]:
    """The stored keys, as another connection sees them (a reader: on SQLite it takes no write lock)."""
    with engine.connect() as c:
        reader = c.execution_options(posrefund_readonly=True)
        return sorted(reader.execute(select(tables.idempotency.c.key)).scalars())


def test_held_inserts_are_read_back_in_order_and_committed_together(seeded: tuple[Engine, Sale], backend: str) -> None:
    engine, _sale = seeded
    with engine.begin() as c:
        send_with_commit(c)
        INSERT_IDEMPOTENCY.run(c, _answer("k-1"))
        assert len(c.info.get(HELD, [])) == (1 if backend == "postgresql" else 0)  # kept on PostgreSQL only
        assert _keys(engine) == []  # nothing visible outside the transaction yet
        # another statement of this transaction sends what was kept first, so it reads its own writes
        assert c.execute(select(tables.idempotency.c.key)).scalars().all() == ["k-1"]
        INSERT_IDEMPOTENCY.run(c, _answer("k-2"))
        assert GET_IDEMPOTENCY.run(c, {"b_scope": "m1", "b_key": "k-2"}).first() is not None  # as does a prebuilt
        INSERT_IDEMPOTENCY.run(c, _answer("k-3"))  # kept until the commit
    assert _keys(engine) == ["k-1", "k-2", "k-3"]
    with engine.connect() as c:
        assert HELD not in c.info  # the pooled connection keeps nothing after the commit


def test_a_held_insert_that_fails_fails_the_commit_and_nothing_is_written(seeded: tuple[Engine, Sale]) -> None:
    """A unique key taken meanwhile (the idempotency race): the same IntegrityError as an insert sent at once
    (on PostgreSQL raised by the commit), and the other inserts of the transaction are not committed."""
    engine, _sale = seeded
    with engine.begin() as c:
        INSERT_IDEMPOTENCY.run(c, _answer("taken"))
    with pytest.raises(IntegrityError), engine.begin() as c:
        send_with_commit(c)
        INSERT_IDEMPOTENCY.run(c, _answer("fresh"))
        INSERT_IDEMPOTENCY.run(c, _answer("taken"))
    assert _keys(engine) == ["taken"]
    with engine.begin() as c:  # the connection is usable again and carries nothing over
        INSERT_IDEMPOTENCY.run(c, _answer("after"))
    assert _keys(engine) == ["after", "taken"]


def test_a_rollback_drops_what_was_held(seeded: tuple[Engine, Sale]) -> None:
    engine, _sale = seeded
    with engine.connect() as c:
        c.begin()
        send_with_commit(c)
        INSERT_IDEMPOTENCY.run(c, _answer("dropped"))
        c.rollback()
        assert HELD not in c.info
        c.begin()
        INSERT_IDEMPOTENCY.run(c, _answer("kept"))
        c.commit()
    assert _keys(engine) == ["kept"]


def test_only_an_insert_without_returning_can_be_held() -> None:
    with pytest.raises(ValueError, match="only an insert"):
        Prebuilt(update(tables.stores).values(name="x"), held=True)
    with pytest.raises(ValueError, match="only an insert"):
        Prebuilt(insert(tables.stores).returning(tables.stores.c.id), held=True)
