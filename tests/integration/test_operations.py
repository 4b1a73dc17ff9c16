"""Operations for real: /readyz while a PostgreSQL server of our own stops and comes back, and a worker pass
against the channel simulators, scraped on the worker's own metrics port, whose log lines carry the request
id of the API request that opened each case."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from starlette.testclient import TestClient

from posrefund import bootstrap
from posrefund.adapters.crypto import generate_key_spec
from posrefund.adapters.db.engine import make_engine
from posrefund.adapters.db.migrate import upgrade
from posrefund.adapters.passwords import Argon2Hasher
from posrefund.config import Settings
from posrefund.demo import channels
from posrefund.entrypoints import worker
from posrefund.entrypoints.api.app import create_app
from posrefund.entrypoints.logging_setup import configure
from posrefund.entrypoints.metrics import worker_metrics
from posrefund.service.deps import Deps
from tests.api.conftest import Auth, refund_body
from tests.api.test_health_metrics import samples, value
from tests.conftest import FixedClock, World
from tests.support.helpers import new_sale
from tests.support.limits import RELAXED
from tests.support.object_store import (
    ObjectStoreServer,
    object_store_server,  # noqa: F401 - the session's moto server, a fixture
    s3_settings,
    silent_server,
)
from tests.support.ports import free_port

PG_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg"


@dataclass
class OwnPostgres:
    """A PostgreSQL server of this test's own, to stop and start (never the shared one)."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        subprocess.run([str(PG_SCRIPT), "start", str(self.data), str(self.port)], check=True, timeout=120)

    def stop(self) -> None:
        subprocess.run([str(PG_SCRIPT), "stop", str(self.data)], check=True, timeout=120)


@pytest.fixture
def own_pg() -> Iterator[OwnPostgres]:
    if not list(Path("/usr/lib/postgresql").glob("*/bin")):
        pytest.skip("no PostgreSQL server here (scripts/pg would install one)")
    base = Path(tempfile.mkdtemp(prefix="posrefund-ready-"))
    base.chmod(0o755)  # the cluster runs as the postgres user
    server = OwnPostgres(base / "data", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_readyz_follows_the_database_down_and_back(own_pg: OwnPostgres, tmp_path: Path) -> None:
    upgrade(own_pg.url)
    settings = Settings(
        database_url=own_pg.url,
        secret_key="t" * 40,
        pii_key=generate_key_spec("k1"),
        data_dir=tmp_path / "data",
    )
    engine = make_engine(own_pg.url)
    deps = bootstrap.build(settings, engine=engine, hasher=Argon2Hasher(fast=True))
    app = create_app(deps, inline=False, rate_limits=RELAXED)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/readyz").status_code == 200
            own_pg.stop()
            down = client.get("/readyz", headers={"Accept-Language": "en"})
            assert down.status_code == 503
            assert down.json() == {
                "code": "ready.database_unreachable",
                "message": "The database does not answer; this node takes no requests for now",
                "params": {"checks": {"database": "failed", "schema": "not_checked", "evidence": "ok"}},
            }
            assert client.get("/healthz").status_code == 200  # alive all along: a restart would not help
            own_pg.start()
            back = client.get("/readyz")
            assert back.status_code == 200
            assert back.json()["checks"] == {"database": "ok", "schema": "ok", "evidence": "ok"}
    finally:
        engine.dispose()


def test_a_worker_pass_is_measured_and_logged_with_the_request_id(deps: Deps, world: World, settings: Settings) -> None:
    sims = channels.start("http://127.0.0.1:9", timeout=2.0)  # callbacks go nowhere: the worker's calls are measured
    calls = worker_metrics(free_port())
    assert calls.server is not None
    assert settings.log_file is not None
    configure("INFO", settings.log_file)
    try:
        app = create_app(deps, inline=False, rate_limits=RELAXED, router=sims.router)
        made: dict[str, str] = {}
        auth = Auth(app, world)
        with TestClient(app, raise_server_exceptions=False) as client:
            for n, channel in enumerate(("wechat", "wechat", "alipay")):
                sale = new_sale(deps, world.a, channel=channel, payer_masked="138****0000")
                rid = f"counter-7:{n}"
                headers = auth("a.cashier", **{"Idempotency-Key": f"w{n}", "X-Request-ID": rid})
                r = client.post("/v1/refunds", json=refund_body(sale.id), headers=headers)
                assert r.status_code == 201 and r.json()["status"] == "approved", r.text
                made[r.json()["id"]] = rid
        router = sims.router
        router.observe = calls.observe
        steps = worker.run(deps, router, threading.Event(), once=True, options=worker.WorkerOptions(threads=2))
        assert steps == 3

        with deps.uow(readonly=True) as uow:
            attempts = {case_id: uow.attempts.attempts_of(world.a.id, case_id) for case_id in made}
        outcomes = {case_id: [(a.channel, a.call, a.outcome) for a in got] for case_id, got in attempts.items()}
        assert all(len(got) == 1 for got in outcomes.values()), outcomes

        port = calls.server.server_address[1]
        scrape = samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
        expected: dict[tuple[str, str, str], int] = {}
        for ((channel, call, outcome),) in outcomes.values():
            expected[(channel, call, outcome)] = expected.get((channel, call, outcome), 0) + 1
        for (channel, call, outcome), count in expected.items():
            assert value(scrape, "posrefund_channel_calls_total", channel=channel, call=call, outcome=outcome) == count
        assert value(scrape, "posrefund_channel_call_duration_seconds_count", channel="wechat", call="submit") == 2
        assert value(scrape, "posrefund_channel_call_duration_seconds_count", channel="alipay", call="submit") == 1
        took = value(scrape, "posrefund_channel_call_duration_seconds_sum", channel="alipay", call="submit")
        assert took is not None and 0 < took < 5

        lines = [json.loads(line) for line in settings.log_file.read_text(encoding="utf-8").splitlines()]
        logged = {line["case_id"]: line for line in lines if line["event"] == "worker.channel_call"}
        assert set(logged) == set(made)
        for case_id, rid in made.items():
            line = logged[case_id]
            assert line["request_id"] == rid
            assert (line["channel"], line["call"], line["outcome"]) == outcomes[case_id][0]
    finally:
        structlog.reset_defaults()
        calls.server.shutdown()
        sims.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_worker_command_serves_its_metrics_port(settings: Settings) -> None:
    port = free_port()
    env = {
        **os.environ,
        "POSREFUND_DATABASE_URL": settings.database_url,
        "POSREFUND_SECRET_KEY": settings.secret_key,
        "POSREFUND_PII_KEY": settings.pii_key,
        "POSREFUND_DATA_DIR": str(settings.data_dir),
        "POSREFUND_LOG_FILE": str(settings.log_file),
    }
    cmd = [
        sys.executable,
        "-m",
        "posrefund.entrypoints.cli.main",
        "worker",
        "--poll",
        "0.2",
        "--metrics-port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        scraped = None
        deadline = time.monotonic() + 30
        while scraped is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)
            except httpx.TransportError:
                time.sleep(0.2)
        assert scraped is not None and scraped.status_code == 200, proc.stderr.read() if proc.stderr else ""
        names = {family.name for family in text_string_to_metric_families(scraped.text)}
        assert {"posrefund_channel_call_duration_seconds", "posrefund_channel_calls"} <= names
        with pytest.raises(httpx.TransportError):  # loopback only by default
            httpx.get(f"http://{_an_outside_address()}:{port}/metrics", timeout=1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()


def _an_outside_address() -> str:
    """This host's address on its network (not loopback), as another machine would reach it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        return str(s.getsockname()[0])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_readyz_follows_the_object_store(
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    object_store_server: ObjectStoreServer,  # noqa: F811
) -> None:
    bucket = object_store_server.new_bucket()
    master_key = generate_key_spec("e1")
    with silent_server() as silent:
        answers = {}
        waited = {}
        for how, endpoint in (
            ("up", bucket.endpoint_url),
            ("refused", f"http://127.0.0.1:{free_port()}"),
            ("silent", silent),  # accepts, never answers: boto3 would wait 2 tries × 5 s
        ):
            conf = s3_settings(settings, endpoint, bucket.name, master_key)
            deps = bootstrap.build(conf, engine=engine, clock=clock, hasher=Argon2Hasher(fast=True))
            with TestClient(create_app(deps, inline=True, rate_limits=RELAXED), raise_server_exceptions=False) as c:
                started = time.monotonic()
                answers[how] = c.get("/readyz")
                waited[how] = time.monotonic() - started
    assert answers["up"].status_code == 200
    assert answers["up"].json()["checks"] == {"database": "ok", "schema": "ok", "evidence": "ok"}
    for how in ("refused", "silent"):
        assert answers[how].status_code == 503, how
        assert answers[how].json()["code"] == "ready.evidence_unreachable"
        assert answers[how].json()["params"]["checks"] == {"database": "ok", "schema": "ok", "evidence": "failed"}
    assert waited["silent"] < 5, waited  # the probe's own 2 s deadline (a loaded host adds some), not the client's 10 s
