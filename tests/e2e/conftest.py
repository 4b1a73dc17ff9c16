"""The real app under uvicorn on a free port over a fresh SQLite database, and a real headless Chromium.

Debian's chromium is driven by Python playwright (``executable_path``); ``playwright install`` is never
run. Screenshots go to a temporary folder, or to ``POSREFUND_SCREENSHOT_DIR`` (``make screenshots``
points it at ``docs/screenshots``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from posrefund import bootstrap
from posrefund.adapters.crypto import generate_key_spec
from posrefund.adapters.db.migrate import upgrade
from posrefund.adapters.passwords import Argon2Hasher
from posrefund.config import Settings
from posrefund.domain.roles import Actor, Role
from posrefund.service.deps import Deps
from tests.conftest import PASSWORD, PG_URL, World, make_merchant
from tests.support.ports import free_port as _free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 768}


@dataclass
class Live:
    base: str
    deps: Deps
    world: World
    shots: Path

    def url(self, path: str) -> str:
        return self.base + path

    def shot(self, page: Page, name: str, *, full_page: bool = True) -> None:
        """The page's picture as ``name``.png in the screenshots folder."""
        screenshot(page, self.shots / f"{name}.png", full_page=full_page)


CAPTURE_TRIES = 3


def screenshot(page: Page, path: Path, *, full_page: bool = True) -> None:
    """A picture of the page for docs/screenshots. Chromium now and then refuses a capture asked for while it
    paints ("Unable to capture screenshot"), more often on a loaded machine; asked again a frame later it takes
    it. Any other error, or that one three times over, still fails the test."""
    for attempt in range(CAPTURE_TRIES):
        try:
            page.screenshot(path=str(path), full_page=full_page)
            return
        except PlaywrightError as exc:
            if "Unable to capture screenshot" not in str(exc) or attempt == CAPTURE_TRIES - 1:
                raise
            page.wait_for_timeout(200)


@contextmanager
def fresh_database(backend: str, root: Path) -> Iterator[str]:
    """A database built by the migrations: a SQLite file, or a new database on the test PostgreSQL server."""
    if backend == "sqlite":
        yield f"sqlite:///{root / 'posrefund.db'}"
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("POSREFUND_TEST_PG_URL is not set: run the suite with `make test`")
        pytest.skip("PostgreSQL not started (use `make test`)")
    name = f"posrefund_e2e_{os.getpid()}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The app under uvicorn; SQLite unless a test asks for ``postgresql`` (indirect parametrisation)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: run the suite with `make test` (scripts/browser installs it)")
        pytest.skip("chromium not installed (scripts/browser installs it)")
    root = tmp_path_factory.mktemp("e2e")
    with fresh_database(str(request.param), root) as url:
        yield from _serve(url, root)


def _serve(url: str, root: Path) -> Iterator[Live]:
    upgrade(url)
    settings = Settings(
        database_url=url,
        secret_key="e" * 40,
        pii_key=generate_key_spec("k1"),
        audit_key=generate_key_spec("a1"),  # the audit browser's "verify the chain" signs checkpoints
        data_dir=root / "data",
        log_file=root / "server.log",
    )
    deps = bootstrap.build(settings, hasher=Argon2Hasher(fast=True))
    provider = Actor(id="provider", role=Role.PROVIDER_ADMIN, merchant_id=None, name="provider")
    world = World(a=make_merchant(deps, provider, "MA"), b=make_merchant(deps, provider, "MB"), provider=provider)
    port = _free_port()
    env = {
        **os.environ,
        "POSREFUND_DATABASE_URL": url,
        "POSREFUND_SECRET_KEY": settings.secret_key,
        "POSREFUND_PII_KEY": settings.pii_key,
        "POSREFUND_AUDIT_KEY": settings.audit_key,
        "POSREFUND_DATA_DIR": str(settings.data_dir),
        "POSREFUND_LOG_FILE": str(root / "server.log"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "posrefund.entrypoints.api.factory:build_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded two-core machine takes its time to import the app
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("the app did not start under uvicorn")
        time.sleep(0.1)
    shots = Path(os.environ.get("POSREFUND_SCREENSHOT_DIR") or root / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield Live(base, deps, world, shots)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        bootstrap.engine_of(deps).dispose()
        shutil.rmtree(root / "data", ignore_errors=True)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def csp_violations(page: Page) -> list[str]:
    """Every Content-Security-Policy violation the page reports from now on. Chromium logs each refused
    inline script, handler or style as a console error ("Refused to … because it violates the following
    Content Security Policy directive"), which is the only sign of it: the page otherwise goes on silently."""
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            seen.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return seen


def assert_no_csp_violation(seen: list[str]) -> None:
    assert not seen, "the console broke its Content-Security-Policy:\n" + "\n".join(seen)


@contextmanager
def watched_page(chromium: Browser, viewport: dict[str, int], timeout_ms: int = 10_000) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies, Chinese, Shanghai time); fails if any page it opens
    breaks the Content-Security-Policy."""
    context = chromium.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")  # type: ignore[arg-type]
    context.set_default_timeout(timeout_ms)
    pg = context.new_page()
    seen = csp_violations(pg)
    yield pg
    context.close()
    assert_no_csp_violation(seen)


@pytest.fixture
def page(chromium: Browser, live: Live) -> Iterator[Page]:
    """A fresh browser context at a 1366×768 counter screen (see ``watched_page``)."""
    with watched_page(chromium, DESKTOP) as pg:
        yield pg


def sign_in(page: Page, live: Live, who: str) -> None:
    """Sign in through the login form as ``a.cashier``, ``b.supervisor``, …"""
    prefix, role = who.split(".")
    m = live.world.a if prefix == "a" else live.world.b
    page.goto(live.url("/console/login"))
    page.fill("#f-username", m.usernames[role])
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/console/**")
    assert "/console/login" not in page.url
