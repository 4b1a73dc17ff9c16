"""Shared pieces of the security probes: the API client and the console browser through the real HTTP layer,
every probe's log lines in the test's own log file (which the probe then reads), a password hasher that takes
as long as a real one and counts what it is asked, and apps built with the limits a probe needs; the environment ``posrefund`` reads its settings from, for
probes through the CLI."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from posrefund.adapters.db import tables
from posrefund.config import RateLimits, Settings
from posrefund.entrypoints.api.app import create_app
from posrefund.entrypoints.logging_setup import configure
from posrefund.ports import PasswordHasher
from posrefund.service.deps import Deps
from tests.api.conftest import app, auth, client
from tests.conftest import World
from tests.console.conftest import as_user
from tests.integration.test_cli import env
from tests.security.probes import Probe, rows
from tests.support.limits import RELAXED

__all__ = ["SlowHasher", "app", "app_for", "as_user", "auth", "client", "env"]


class SlowHasher:
    """The fast test hasher, made to take ``seconds`` per check the way Argon2 does (off the GIL), counting
    its calls: which hashes were checked, on which threads, and how many hashes were made."""

    def __init__(self, inner: PasswordHasher, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds
        self.checked: list[str] = []
        self.threads: set[str] = set()
        self.hashed = 0
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        with self._lock:
            self.hashed += 1
        return self.inner.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        with self._lock:
            self.checked.append(hashed)
            self.threads.add(threading.current_thread().name)
        time.sleep(self.seconds)
        return self.inner.verify(hashed, password)


@pytest.fixture
def slow(deps: Deps) -> SlowHasher:
    return SlowHasher(deps.hasher, 0.1)


@pytest.fixture
def slow_deps(deps: Deps, slow: SlowHasher) -> Deps:
    return replace(deps, hasher=slow)


def app_for(deps: Deps, backend: str, limits: RateLimits = RELAXED) -> FastAPI:
    return create_app(deps, inline=backend == "sqlite", rate_limits=limits)


@pytest.fixture
def probe(deps: Deps, world: World, settings: Settings, backend: str, engine: Engine) -> Probe:
    return Probe(deps, world, settings, backend, engine, rows(engine, tables.audit_events))


@pytest.fixture(autouse=True)
def logged(settings: Settings) -> None:
    assert settings.log_file is not None
    configure("DEBUG", settings.log_file)
