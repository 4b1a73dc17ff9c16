"""The API client and the console browser, for probes that go through the real HTTP layer; the environment
``posrefund`` reads its settings from, for probes through the CLI; every probe's log lines go to the test's
own log file, which the probe then reads."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from posrefund.adapters.db import tables
from posrefund.config import Settings
from posrefund.entrypoints.logging_setup import configure
from posrefund.service.deps import Deps
from tests.api.conftest import app, auth, client
from tests.conftest import World
from tests.console.conftest import as_user
from tests.integration.test_cli import env
from tests.security.probes import Probe, rows

__all__ = ["app", "as_user", "auth", "client", "env"]


@pytest.fixture
def probe(deps: Deps, world: World, settings: Settings, backend: str, engine: Engine) -> Probe:
    return Probe(deps, world, settings, backend, engine, rows(engine, tables.audit_events))


@pytest.fixture(autouse=True)
def logged(settings: Settings) -> None:
    assert settings.log_file is not None
    configure("DEBUG", settings.log_file)
