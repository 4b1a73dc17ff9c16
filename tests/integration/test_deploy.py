"""The deployment as docs/deploy.md gives it: the compose file checked against the Compose Specification (and
by `docker compose config` where the Compose plugin is installed), its shape (the migration once, before
every node; two API nodes and two workers on PostgreSQL, the object store and Redis), and the step-by-step
guide followed on real pieces — the settings file of step 2 (filled with a real PostgreSQL database, an
S3-compatible server and Redis), the migration unit of step 3, two API nodes and two workers started by the
systemd units' own command lines — until every API node is ready and every worker serves its metrics."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from posrefund.adapters.crypto import generate_key_spec
from tests.support.object_store import (
    ACCESS_KEY,
    SECRET_KEY,
    ObjectStoreServer,
    object_store_server,  # noqa: F401 - the session's moto server, a fixture
)
from tests.support.ports import free_port

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
GUIDE = ROOT / "docs" / "deploy.md"
PG_URL = os.environ.get("POSREFUND_TEST_PG_URL")
REDIS_URL = os.environ.get("POSREFUND_TEST_REDIS_URL")
COMPOSE_ENV = {
    "POSTGRES_PASSWORD": "pw",
    "MINIO_PASSWORD": "minio-pw",
    "POSREFUND_SECRET_KEY": "x" * 48,
    "POSREFUND_PII_KEY": "k1:AAAA",
    "POSREFUND_AUDIT_KEY": "a1:AAAA",
    "POSREFUND_EVIDENCE_MASTER_KEY": "e1:AAAA",
}


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((ROOT / "tests" / "fixtures" / "compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(_compose())  # the spec's schema is draft-07 (its "$schema")
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], check=False, capture_output=True).returncode == 0:
        checked = subprocess.run(
            [docker, "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "-q"],
            env={**os.environ, **COMPOSE_ENV},
            check=False,
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, checked.stderr


def test_the_compose_fleet_migrates_once_before_any_node() -> None:
    services = _compose()["services"]
    nodes = ["api1", "api2", "worker1", "worker2"]
    assert set(nodes) | {"postgres", "minio", "redis", "migrate"} <= set(services)
    assert services["migrate"]["command"] == ["db", "upgrade"]
    migrating = [n for n, s in services.items() if "upgrade" in json.dumps(s.get("command", ""))]
    assert migrating == ["migrate"]  # no node migrates at start
    for name in nodes:
        s = services[name]
        assert s["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        env = s["environment"]
        assert env["POSREFUND_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["POSREFUND_EVIDENCE__BACKEND"] == "s3" and env["POSREFUND_RATE_LIMITS__STORAGE"].startswith(
            "redis://"
        )
    assert [services[n]["command"][0] for n in nodes] == ["serve", "serve", "worker", "worker"]


def _settings_of_the_guide() -> dict[str, str]:
    """Step 2's settings file, as the guide prints it."""
    block = re.search(r"```ini\n(.*?)```", GUIDE.read_text(), re.S)
    assert block, "docs/deploy.md no longer shows the settings file"
    lines = [ln.strip() for ln in block.group(1).splitlines() if ln.strip()]
    return dict(ln.split("=", 1) for ln in lines)


def _command_of(unit: str, instance: str) -> list[str]:
    """A unit's ExecStart, with its instance filled in and the installed posrefund replaced by this one."""
    found = re.search(r"^ExecStart=(.+)$", (DEPLOY / "systemd" / unit).read_text(), re.M)
    assert found, unit
    words = found.group(1).replace("%i", instance).split()
    assert words[0] == "/opt/posrefund/.venv/bin/posrefund", "the units run the installed posrefund"
    return [sys.executable, "-m", "posrefund.entrypoints.cli.main", *words[1:]]


@pytest.fixture
def guide_env(object_store_server: ObjectStoreServer) -> Iterator[dict[str, str]]:  # noqa: F811
    """Step 2's file filled in with a fresh PostgreSQL database, a fresh bucket, the test Redis and new keys."""
    if not (PG_URL and REDIS_URL):
        if os.environ.get("CI"):
            pytest.fail("POSREFUND_TEST_PG_URL / POSREFUND_TEST_REDIS_URL not set: run the suite with `make test`")
        pytest.skip("PostgreSQL and Redis not started (use `make test`)")
    name = f"posrefund_deploy_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    bucket = object_store_server.new_bucket()
    real = {
        "POSREFUND_DATABASE_URL": PG_URL.rsplit("/", 1)[0] + "/" + name,
        "POSREFUND_SECRET_KEY": uuid.uuid4().hex * 2,
        "POSREFUND_PII_KEY": generate_key_spec("k1"),
        "POSREFUND_AUDIT_KEY": generate_key_spec("a1"),
        "POSREFUND_EVIDENCE__ENDPOINT_URL": object_store_server.endpoint_url,
        "POSREFUND_EVIDENCE__BUCKET": bucket.name,
        "POSREFUND_EVIDENCE__ACCESS_KEY_ID": ACCESS_KEY,
        "POSREFUND_EVIDENCE__SECRET_ACCESS_KEY": SECRET_KEY,
        "POSREFUND_EVIDENCE__MASTER_KEY": generate_key_spec("e1"),
        "POSREFUND_RATE_LIMITS__STORAGE": REDIS_URL,
    }
    guide = _settings_of_the_guide()
    assert set(real) <= set(guide), "the guide's settings file lost a setting the fleet needs"
    settings = {**guide, **real}
    del settings["POSREFUND_CHANNELS_FILE"]  # no channel credentials here: the workers find nothing to send
    base = {k: v for k, v in os.environ.items() if not k.startswith("POSREFUND_")}
    try:
        yield {**base, **settings, "PYTHONPATH": str(ROOT / "src")}
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _wait(url: str, procs: list[subprocess.Popen[bytes]], seconds: float = 90) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), "a node stopped"
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200:
                return answer
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer 200 within {seconds} s")


def test_the_step_by_step_guide_brings_up_a_fleet(guide_env: dict[str, str], tmp_path: Path) -> None:
    api_ports, worker_ports = [str(free_port()), str(free_port())], [str(free_port()), str(free_port())]
    migrate = _command_of("posrefund-migrate.service", "")
    step3 = subprocess.run(migrate, env=guide_env, check=False, capture_output=True, text=True)
    assert step3.returncode == 0, step3.stderr
    again = subprocess.run(migrate, env=guide_env, check=False, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr  # a second run (the next machine, a retry) changes nothing
    commands = [_command_of("posrefund-api@.service", p) for p in api_ports]
    commands += [_command_of("posrefund-worker@.service", p) for p in worker_ports]
    procs = [
        subprocess.Popen(c, env=guide_env, stdout=(tmp_path / f"{i}.log").open("wb"), stderr=subprocess.STDOUT)
        for i, c in enumerate(commands)
    ]
    try:
        for port in api_ports:
            ready = _wait(f"http://127.0.0.1:{port}/readyz", procs)
            assert ready.json()["status"] == "ready"
        for port in worker_ports:
            assert "posrefund_" in _wait(f"http://127.0.0.1:{port}/metrics", procs).text
    finally:
        stopped = _stop(procs)
    # Uvicorn ends a gracefully stopped server by raising the signal again (-15), as systemd expects; the
    # worker finishes its round and exits 0. None had to be killed.
    assert stopped == [-signal.SIGTERM, -signal.SIGTERM, 0, 0], "every node stops cleanly on SIGTERM"


def _stop(procs: list[subprocess.Popen[bytes]]) -> list[int | str]:
    """SIGTERM to each, as systemd stops a unit; a process still there after 40 s is killed and said so."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
    codes: list[int | str] = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=40))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            codes.append("killed")
    return codes
