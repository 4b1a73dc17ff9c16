"""The deployed fleet under load and under SIGKILL: PostgreSQL, an S3-compatible object store, Redis, two API processes
and two workers, all started here by the commands the systemd units run.

Twenty clients ask for 500 refunds (200 in the SIGTERM run) through both API nodes — every fifth one with a photo
uploaded first — each request carrying its own Idempotency-Key and sent again (to the other node) until it is
acknowledged, as a terminal's client does. Midway one API node and one worker are killed with SIGKILL (or stopped
with SIGTERM, and must end by themselves within the units' deadline leaving no refund claimed) and started again.
When nothing is left in flight: every acknowledged refund exists exactly once, every sale's refunded sum is its
successes, the simulators executed each refund number once and nothing we did not report, and every evidence file
reads back, byte for byte, from both nodes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from posrefund.adapters.crypto import generate_key_spec
from posrefund.adapters.db import tables
from posrefund.config import Settings
from posrefund.service import sales
from posrefund.service.deps import Deps
from posrefund.simulators.alipay.server import AlipaySimulator
from posrefund.simulators.wechatpay.server import WeChatPaySimulator
from tests.conftest import PASSWORD, World
from tests.fleet.channels import channels_file
from tests.support.helpers import sale_input
from tests.support.object_store import (
    ACCESS_KEY,
    SECRET_KEY,
    ObjectStoreServer,
    object_store_server,  # noqa: F401 - the session's moto server, a fixture
)
from tests.support.ports import free_port

CLIENTS, WITH_PHOTO_EVERY = 20, 5
# The refunds asked, and after how many acknowledgements one API node and one worker are stopped: by SIGKILL
# (a crash) or by SIGTERM (systemd stopping the unit, which must end within its deadline on its own).
RUNS = {"sigkill": (500, 200), "sigterm": (200, 80)}
STOP_DEADLINE = 30.0  # the units' TimeoutStopSec
ANSWER_TIMEOUT = 2.0
SETTLE_WITHIN = 180.0
IN_FLIGHT = ("approved", "processing")
REDIS_URL = os.environ.get("POSREFUND_TEST_REDIS_URL")
# A small JPEG: the magic bytes the evidence check reads, then a body unique per upload.
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


@dataclass
class Node:
    """One process of the fleet, started again on the same port after a kill."""

    command: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        out = self.log.with_suffix(f".{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self) -> int:
        """SIGTERM, as systemd stops the unit: the process must end by itself before the deadline."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=STOP_DEADLINE)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Fleet:
    apis: list[Node]
    workers: list[Node]
    urls: list[str]
    wechat: WeChatPaySimulator
    alipay: AlipaySimulator
    engine: Engine
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> refund answer
    photos: dict[str, bytes] = field(default_factory=dict)  # evidence id -> bytes sent
    failovers: int = 0  # requests sent again to the other node because this one did not answer
    lock: threading.Lock = field(default_factory=threading.Lock)


def _command(*words: str) -> list[str]:
    return [sys.executable, "-m", "posrefund.entrypoints.cli.main", *words]


def _wait_ready(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} not ready within {seconds} s")


@pytest.fixture
def fleet(
    settings: Settings,
    engine: Engine,
    tmp_path: Path,
    object_store_server: ObjectStoreServer,  # noqa: F811
) -> Iterator[Fleet]:
    if not REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("POSREFUND_TEST_REDIS_URL not set: run the suite with `make test`")
        pytest.skip("Redis not started (use `make test`)")
    wechat = WeChatPaySimulator(settle_after=1.0, processing_queries=1, hang_seconds=1.0)
    alipay = AlipaySimulator(settle_after=1.0, processing_queries=1, hang_seconds=1.0, min_gap_same_trade=0.0)
    wechat.start()
    alipay.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("POSREFUND_")},
        "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
        "POSREFUND_DATABASE_URL": settings.database_url,
        "POSREFUND_SECRET_KEY": settings.secret_key,
        "POSREFUND_PII_KEY": settings.pii_key,
        "POSREFUND_AUDIT_KEY": generate_key_spec("a1"),
        "POSREFUND_DATA_DIR": str(settings.data_dir),
        "POSREFUND_CHANNELS_FILE": str(channels_file(tmp_path, wechat, alipay, None, ANSWER_TIMEOUT)),
        "POSREFUND_EVIDENCE__ENDPOINT_URL": object_store_server.endpoint_url,
        "POSREFUND_EVIDENCE__BUCKET": object_store_server.new_bucket().name,
        "POSREFUND_EVIDENCE__ACCESS_KEY_ID": ACCESS_KEY,
        "POSREFUND_EVIDENCE__SECRET_ACCESS_KEY": SECRET_KEY,
        "POSREFUND_EVIDENCE__MASTER_KEY": generate_key_spec("e1"),
        "POSREFUND_RATE_LIMITS__STORAGE": REDIS_URL,
        "POSREFUND_RATE_LIMITS__API_PER_USER": "100000/minute",
    }
    ports = [free_port(), free_port()]
    apis = [Node(_command("serve", "--host", "127.0.0.1", "--port", str(p)), env, tmp_path / f"api-{p}") for p in ports]
    workers = [Node(_command("worker", "--poll", "0.2"), env, tmp_path / f"worker-{i}") for i in (1, 2)]
    made = Fleet(apis, workers, [f"http://127.0.0.1:{p}" for p in ports], wechat, alipay, engine)
    try:
        for node in (*apis, *workers):
            node.start()
        for url in made.urls:
            _wait_ready(url)
        yield made
    finally:
        for node in (*apis, *workers):
            node.stop()
        wechat.stop()
        alipay.stop()


def _sales(deps: Deps, world: World, fleet: Fleet, count: int) -> list[str]:
    """Sales paid the day before over WeChat Pay and Alipay, each known to its simulator."""
    cashier, now = world.a.actors["cashier"], deps.clock.now()
    ids = []
    for i in range(count):
        channel = ("wechat", "alipay")[i % 2]
        sale = sales.record_sale(deps, cashier, sale_input(world.a, now, channel=channel, amount_fen=10_000))
        sim = fleet.wechat if channel == "wechat" else fleet.alipay
        sim.add_payment(sale.order_no, sale.amount_fen, paid_at=sale.paid_at)
        ids.append(sale.id)
    return ids


def _post(fleet: Fleet, first: int, send: Any) -> httpx.Response:
    """Sends until a node answers other than 5xx: the other node after a refused connection, as a client
    behind a load balancer sees it. The same request (and Idempotency-Key) every time."""
    for attempt in range(200):
        url = fleet.urls[(first + attempt) % len(fleet.urls)]
        try:
            answer: httpx.Response = send(url)
        except httpx.TransportError:
            with fleet.lock:
                fleet.failovers += 1
            time.sleep(0.2)
            continue
        if answer.status_code < 500:
            return answer
        time.sleep(0.2)
    pytest.fail("no node answered")


def _client(fleet: Fleet, n: int, token: str, sale_ids: list[str]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for i, sale_id in enumerate(sale_ids):
        key = f"fleet-{n}-{i}"
        body: dict[str, Any] = {"sale_id": sale_id, "amount_fen": 6_000, "reason": "customer_cancelled"}
        if i % WITH_PHOTO_EVERY == 0:
            photo = JPEG_HEAD + uuid.uuid4().bytes * 64
            up = _post(
                fleet,
                n + i,
                lambda url, p=photo: httpx.post(
                    f"{url}/v1/evidence", headers=headers, files={"file": ("receipt.jpg", p, "image/jpeg")}, timeout=10
                ),
            )
            assert up.status_code == 201, up.text
            with fleet.lock:
                fleet.photos[up.json()["id"]] = photo
            body["evidence_ids"] = [up.json()["id"]]
        answer = _post(
            fleet,
            n + i,
            lambda url, b=body, k=key: httpx.post(
                f"{url}/v1/refunds", headers={**headers, "Idempotency-Key": k}, json=b, timeout=10
            ),
        )
        assert answer.status_code in (200, 201), answer.text
        with fleet.lock:
            fleet.acknowledged[key] = answer.json()


def _sign_in(url: str, username: str) -> str:
    answer = httpx.post(f"{url}/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _run(fleet: Fleet, world: World, sale_ids: list[str], disruption: str, after: int) -> list[int]:
    """The clients run; after ``after`` acknowledgements API node 1 and worker 1 are stopped (killed, or
    asked to stop) and started again. Returns the stopped processes' exit codes."""
    token = _sign_in(fleet.urls[0], world.a.usernames["cashier"])
    share = [sale_ids[n::CLIENTS] for n in range(CLIENTS)]
    clients = [threading.Thread(target=_client, args=(fleet, n, token, share[n])) for n in range(CLIENTS)]
    for t in clients:
        t.start()
    while len(fleet.acknowledged) < after and any(t.is_alive() for t in clients):
        time.sleep(0.1)
    api, worker = fleet.apis[0], fleet.workers[0]
    assert worker.proc is not None
    if disruption == "sigkill":
        api.kill()
        worker.kill()
        codes = [-signal.SIGKILL, -signal.SIGKILL]
    else:
        codes = [api.terminate(), worker.terminate()]
        assert _claims_left(fleet, worker.proc.pid) == [], "the stopped worker left cases claimed"
    time.sleep(1.0)
    api.start()
    worker.start()
    for t in clients:
        t.join(timeout=600)
    _wait_ready(fleet.urls[0])
    return codes


def _claims_left(fleet: Fleet, pid: int) -> list[str]:
    """Refunds the worker of ``pid`` still holds: an attempt not finished whose lease has not run out."""
    a = tables.refund_attempts
    with fleet.engine.connect() as c:
        rows = c.execute(
            select(a.c.refund_no).where(
                a.c.worker.like(f"%:{pid}"), a.c.finished_at.is_(None), a.c.lease_until > datetime.now(UTC)
            )
        )
        return [str(no) for (no,) in rows]


def _in_flight(engine: Engine) -> int:
    r = tables.refunds
    with engine.connect() as c:
        return int(c.execute(select(func.count()).where(r.c.status.in_(IN_FLIGHT))).scalar_one())


def _disagreements(engine: Engine, fleet: Fleet) -> dict[str, list[Any]]:
    r, s = tables.refunds, tables.sales
    with engine.connect() as c:
        ours = {row.id: row for row in c.execute(select(r.c.id, r.c.refund_no, r.c.status, r.c.sale_id))}
        sold = {row.id: row for row in c.execute(select(s.c.id, s.c.refunded_fen, s.c.reserved_fen))}
    executed: dict[str, list[dict[str, Any]]] = {}
    for sim in (fleet.wechat, fleet.alipay):
        for row in sim.ledger():
            executed.setdefault(str(row["refund_no"]), []).append(row)
    found: dict[str, list[Any]] = {k: [] for k in ("lost", "twice", "in_flight", "not_executed", "sums", "extra")}
    per_sale: dict[str, int] = {}
    for case in ours.values():
        per_sale[case.sale_id] = per_sale.get(case.sale_id, 0) + 1
    found["twice"] = [sale_id for sale_id, n in per_sale.items() if n > 1]
    acknowledged = {answer["id"] for answer in fleet.acknowledged.values()}
    found["lost"] = sorted(acknowledged - set(ours))
    found["extra"] = sorted(set(ours) - acknowledged)  # a refund nobody was told about
    for case in ours.values():
        rows = executed.get(case.refund_no, [])
        if case.status in IN_FLIGHT:
            found["in_flight"].append(case.refund_no)
        if len(rows) > 1 or (case.status == "succeeded") != any(row["executed"] for row in rows):
            found["not_executed"].append((case.refund_no, case.status, rows))
        want = (6_000, 0) if case.status == "succeeded" else (0, 6_000)
        if (sold[case.sale_id].refunded_fen, sold[case.sale_id].reserved_fen) != want:
            found["sums"].append((case.refund_no, case.status, sold[case.sale_id]))
    return found


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # the fleet shares one PostgreSQL database
@pytest.mark.parametrize("disruption", sorted(RUNS))
def test_two_api_nodes_and_two_workers_stopped_midway_keep_every_refund_exactly_once(
    deps: Deps, world: World, fleet: Fleet, engine: Engine, disruption: str
) -> None:
    count, after = RUNS[disruption]
    sale_ids = _sales(deps, world, fleet, count)
    began = time.monotonic()
    codes = _run(fleet, world, sale_ids, disruption, after)
    asked = time.monotonic() - began
    deadline = time.monotonic() + SETTLE_WITHIN
    while _in_flight(engine) and time.monotonic() < deadline:
        time.sleep(1.0)
    settled = time.monotonic() - began
    print(f"fleet {disruption}: {len(fleet.acknowledged)} acknowledged in {asked:.1f} s", end=" ")
    print(f"({fleet.failovers} sent again), nothing in flight after {settled:.1f} s, stopped with {codes}")
    assert len(fleet.acknowledged) == count
    assert fleet.failovers > 0, "the stopped node was asked while it was down, and the other answered"
    # Uvicorn ends a graceful stop by raising the signal again (-15), as systemd expects; the worker exits 0.
    assert codes == ([-signal.SIGKILL] * 2 if disruption == "sigkill" else [-signal.SIGTERM, 0])
    assert {kind: cases for kind, cases in _disagreements(engine, fleet).items() if cases} == {}
    token = _sign_in(fleet.urls[1], world.a.usernames["supervisor"])
    for evidence_id, photo in fleet.photos.items():
        for url in fleet.urls:
            read = httpx.get(
                f"{url}/v1/evidence/{evidence_id}/content", headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
            assert (read.status_code, read.content) == (200, photo), (url, evidence_id)
    assert len(fleet.photos) == count // WITH_PHOTO_EVERY
    assert [node.starts for node in (*fleet.apis, *fleet.workers)] == [2, 1, 2, 1]
