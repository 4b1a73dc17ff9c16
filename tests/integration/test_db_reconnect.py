"""A PostgreSQL node's pool after the server closed its connections (a restart, a failover, an idle timeout): a
connection taken back after idling is asked first and replaced; one taken back at once fails its statement, the
API answers 503 ``server.busy`` with Retry-After (nothing was committed: the same request may be sent again), and
the next request works on a refreshed pool."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from starlette.testclient import TestClient

from posrefund.adapters.db import engine as engines
from posrefund.adapters.db.engine import make_engine
from posrefund.entrypoints.api.app import create_app
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only, never skipped: a SQLite file has no server to lose."""
    return str(request.param)


def _close_every_other_connection(db_url: str) -> int:
    """What a restarting server does to the node's connections: every backend of this database but the asker's,
    which comes from no pool of the node's."""
    asker = create_engine(db_url, poolclass=NullPool)
    with asker.connect() as c:
        closed = c.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
        c.commit()
    asker.dispose()
    return int(closed)


def test_a_connection_taken_back_after_idling_is_asked_first_and_replaced(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = make_engine(db_url)
    try:
        with node.connect() as c:  # the node's one pooled connection, back in the pool
            assert c.execute(text("SELECT 1")).scalar_one() == 1
        assert _close_every_other_connection(db_url) >= 1
        monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has idled long enough
        with node.connect() as c:
            assert c.execute(text("SELECT 2")).scalar_one() == 2
        # Taken back at once it is not asked: the statement meets the closed connection.
        assert _close_every_other_connection(db_url) >= 1
        monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 3600.0)
        with pytest.raises(DBAPIError) as lost, node.connect() as c:
            c.execute(text("SELECT 3"))
        assert lost.value.connection_invalidated
        with node.connect() as c:  # the pool was refreshed
            assert c.execute(text("SELECT 4")).scalar_one() == 4
    finally:
        node.dispose()


def test_a_request_whose_connection_was_lost_is_answered_503_and_the_next_one_works(
    deps: Deps, world: World, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 3600.0)  # as on a busy node: no connection idles
    app = create_app(deps, inline=False)
    auth = Auth(app, world)
    with TestClient(app) as client:
        assert client.get("/v1/refunds", headers=auth("a.supervisor")).status_code == 200
        assert _close_every_other_connection(db_url) >= 1
        lost = client.get("/v1/refunds", headers=auth("a.supervisor", **{"Accept-Language": "en"}))
        assert (lost.status_code, lost.json()["code"], lost.headers["retry-after"]) == (503, "server.busy", "1")
        assert lost.json()["message"] == "The server is busy; please retry shortly"
        assert client.get("/v1/refunds", headers=auth("a.supervisor")).status_code == 200
