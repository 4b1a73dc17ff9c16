"""Shared fixtures: a real database per test (SQLite, and PostgreSQL when the test script started one),
the real service layer, a fixed clock, and a small world of two merchants with an operator of every role."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from posrefund import bootstrap
from posrefund.adapters.crypto import generate_key_spec
from posrefund.adapters.db.engine import make_engine
from posrefund.adapters.db.migrate import upgrade
from posrefund.adapters.db.tables import metadata
from posrefund.adapters.passwords import Argon2Hasher
from posrefund.config import Settings
from posrefund.domain.roles import ANY_PROVIDER, Actor, Role
from posrefund.service import admin, policies
from posrefund.service.deps import Deps

PG_URL = os.environ.get("POSREFUND_TEST_PG_URL")
PASSWORD = "correct-horse-9"
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
BACKENDS = ["sqlite", "postgresql"]


class FixedClock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """One database built by the migrations; tests truncate it rather than rebuild it."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("POSREFUND_TEST_PG_URL is not set: run the suite with `make test`")
        pytest.skip("PostgreSQL not started (use `make test`)")
    name = f"posrefund_test_{os.getpid()}"
    admin_engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin_engine.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin_engine.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "posrefund.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url = str(request.getfixturevalue("pg_database"))
    eng = create_engine(url, poolclass=NullPool)
    with eng.begin() as c:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name != "alembic_version")
        c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    eng.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key="t" * 40,
        pii_key=generate_key_spec("k1"),
        audit_key=generate_key_spec("a1"),
        data_dir=tmp_path / "data",
        log_file=tmp_path / "posrefund.log",
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def deps(settings: Settings, engine: Engine, clock: FixedClock) -> Deps:
    return bootstrap.build(settings, engine=engine, clock=clock, hasher=Argon2Hasher(fast=True))


@dataclass
class Merchant:
    id: str
    store_id: str
    terminal_id: str
    actors: dict[str, Actor] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    a: Merchant
    b: Merchant
    provider: Actor


STAFF_ROLES = ["cashier", "supervisor", "customer_service", "finance", "risk", "auditor", "admin"]


def make_merchant(deps: Deps, provider: Actor, code: str) -> Merchant:
    m = admin.create_merchant(deps, provider, code=code, name=f"商户 {code}")
    boss = Actor(id="setup", role=Role.ADMIN, merchant_id=m["id"], name="setup")
    store = admin.create_store(deps, boss, name="一号店")
    term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no=f"{code}01", device_sn=f"SN{code}")
    out = Merchant(id=m["id"], store_id=store["id"], terminal_id=term["id"])
    for role in [*STAFF_ROLES, "supervisor2"]:
        real_role = "supervisor" if role == "supervisor2" else role
        username = f"{code.lower()}_{role}"
        u = admin.create_user(deps, provider, username=username, password=PASSWORD, role=real_role, merchant_id=m["id"])
        out.actors[role] = Actor(id=u["id"], role=Role(real_role), merchant_id=m["id"], name=username)
        out.usernames[role] = username
    # Tests run with small refunds auto-approved, as a merchant's admin would set it; the default is none.
    policies.put_policy(deps, boss, {"auto_approve_limit_fen": 10_000})
    key = admin.create_api_key(deps, boss, terminal_id=term["id"])
    out.actors["terminal"] = Actor(
        id=key["id"], role=Role.TERMINAL, merchant_id=m["id"], name=term["id"], terminal_id=term["id"]
    )
    out.extra["terminal_key"] = key["key"]
    return out


@pytest.fixture
def world(deps: Deps) -> World:
    # The provider admin is a real account (its tokens are checked against its token generation), made by
    # the host operator, who acts for every provider.
    host = Actor(id="host", role=Role.PROVIDER_ADMIN, merchant_id=None, name="host", provider_id=ANY_PROVIDER)
    made = admin.create_user(deps, host, username="provider_admin", password=PASSWORD, role="provider_admin")
    provider = Actor(id=made["id"], role=Role.PROVIDER_ADMIN, merchant_id=None, name="provider")
    return World(a=make_merchant(deps, provider, "MA"), b=make_merchant(deps, provider, "MB"), provider=provider)
