"""The API client and the console browser, for probes that go through the real HTTP layer; every probe's
log lines go to the test's own log file, which the probe then reads."""

from __future__ import annotations

import pytest

from posrefund.config import Settings
from posrefund.entrypoints.logging_setup import configure
from tests.api.conftest import app, auth, client
from tests.console.conftest import as_user

__all__ = ["app", "as_user", "auth", "client"]


@pytest.fixture(autouse=True)
def logged(settings: Settings) -> None:
    assert settings.log_file is not None
    configure("DEBUG", settings.log_file)
