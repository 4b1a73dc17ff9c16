"""``posrefund serve --with-simulators`` for real, in a process of its own, over a SQLite file this test
migrated and filled (merchants A and B of ``tests.conftest``): the demo as ``make serve`` runs it, without
the install, the generated keys and the seeded demo merchant."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from posrefund import bootstrap
from posrefund.adapters.crypto import generate_key_spec
from posrefund.adapters.db.migrate import upgrade
from posrefund.adapters.passwords import Argon2Hasher
from posrefund.config import Settings
from posrefund.domain.roles import Actor, Role
from posrefund.service.deps import Deps
from tests.conftest import PASSWORD, World, make_merchant
from tests.support.ports import free_port

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SERVE = "from posrefund.entrypoints.cli.main import main; main()"


@dataclass(frozen=True)
class Demo:
    base: str
    deps: Deps
    world: World
    log: Path

    def banner(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _settings(root: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{root / 'posrefund.db'}",
        secret_key="d" * 40,
        pii_key=generate_key_spec("k1"),
        audit_key=generate_key_spec("a1"),
        data_dir=root / "data",
        log_file=root / "posrefund.log",
    )


def settings_environment(settings: Settings) -> dict[str, str]:
    """The test's settings as the ``POSREFUND_`` variables a child process (``posrefund serve``, an import run
    apart) builds the same deps from."""
    return {
        "POSREFUND_DATABASE_URL": settings.database_url,
        "POSREFUND_SECRET_KEY": settings.secret_key,
        "POSREFUND_PII_KEY": settings.pii_key,
        "POSREFUND_AUDIT_KEY": settings.audit_key,
        "POSREFUND_DATA_DIR": str(settings.data_dir),
        "POSREFUND_LOG_FILE": str(settings.log_file),
    }


def _environment(settings: Settings) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("POSREFUND_")},
        **settings_environment(settings),
        "POSREFUND_SIM_WECHAT_PORT": str(free_port()),
        "POSREFUND_SIM_ALIPAY_PORT": str(free_port()),
        "POSREFUND_SIM_ACQUIRER_PORT": str(free_port()),
    }


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 90, what: str = "serve") -> None:
    """Until ``/readyz`` answers 200; fails with the end of the server's log if it stops or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} stopped ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{what} was not ready after {seconds} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (its simulators and worker stop with it), SIGKILL if it lingers."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def demo_served(root: Path) -> Iterator[Demo]:
    settings = _settings(root)
    upgrade(settings.database_url)
    deps = bootstrap.build(settings, hasher=Argon2Hasher(fast=True))
    provider = Actor(id="provider", role=Role.PROVIDER_ADMIN, merchant_id=None, name="provider")
    world = World(a=make_merchant(deps, provider, "MA"), b=make_merchant(deps, provider, "MB"), provider=provider)
    port, log = free_port(), root / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, "serve", "--with-simulators", "--port", str(port)],
            env=_environment(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, log)
        yield Demo(base, deps, world, log)
    finally:
        stop(proc)
        bootstrap.engine_of(deps).dispose()


@contextmanager
def console_client(base: str, username: str) -> Iterator[httpx.Client]:
    """An HTTP client signed in to the console as ``username`` (the sign-in form, its CSRF token)."""
    with httpx.Client(base_url=base, timeout=10) as client:
        token = CSRF.search(client.get("/console/login").text)
        assert token
        answer = client.post(
            "/console/login", data={"csrf": token.group(1), "username": username, "password": PASSWORD}
        )
        assert answer.status_code == 303, answer.text[:500]
        yield client


def sent_when_paid(demo: Demo, case_id: str, seconds: float = 60) -> list[dict[str, str]]:
    """The case's notifications once it is paid and every one of them was sent (by serve's worker thread)."""
    deadline = time.monotonic() + seconds
    rows: list[Any] = []
    while time.monotonic() < deadline:
        with demo.deps.uow(readonly=True) as uow:
            rows = list(uow.notifications.notifications_for(case_id))
        if "paid" in {r["event"] for r in rows} and all(r["status"] == "sent" for r in rows):
            return [dict(r) for r in rows]
        time.sleep(0.5)
    raise AssertionError(f"not every message was sent: {[(r['event'], r['status'], r['last_error']) for r in rows]}")
