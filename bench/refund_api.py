"""Refund requests per second through the HTTP API, against a raw sqlite3 run of the same transaction.

Why a ratio: absolute numbers depend on the machine (disk fsync latency, CPU), so the benchmark measures a
baseline in the same run and reports ``api_rps / raw_tps``. The baseline is the least work a durable refund
can do on SQLite: one transaction that reads the sale, reserves the amount with a conditional UPDATE, inserts
the refund case and one audit event, on a plain ``sqlite3`` connection with the same pragmas as the app
(WAL, synchronous=FULL). Everything the API adds on top (HTTP, FastAPI, validation, SQLAlchemy, idempotency,
the audit chain, the outbox, logging) shows up as the distance of the ratio from 1. The targets: on SQLite a ratio
of at least 0.6 and p99 under 50 ms at 32 clients; on PostgreSQL 0.5 of the raw transaction from 8 connections and
p99 under 100 ms. A figure short of its target is reported, never turned into a failure.

With ``--database postgres`` both sides run on PostgreSQL instead (``--pg-url``: a server to make two throw-away
databases on, the app's and the baseline's twin; the baseline is then the same transaction on a plain psycopg
connection). ``--server-workers 2`` measures two server processes.

Run ``make bench`` (or ``.venv/bin/python bench/refund_api.py --help``). The server runs in its own process
(``posrefund serve``), the load generator in another (``wrk`` with a Lua script, installed with apt when
missing; a Python asyncio client otherwise), both on 127.0.0.1 only. Temporary files live in one temporary
folder that is removed at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "refund_api.json"
HOST = "127.0.0.1"  # the only address this benchmark ever talks to
SALE_AMOUNT_FEN = 1_000_000
REFUND_AMOUNT_FEN = 100
REASON = "customer_cancelled"
PASSWORD = "bench-pass-2026"
TARGET_RATIO, TARGET_P99_MS = 0.6, 50.0
# On PostgreSQL the ratio is against the raw transaction from RAW_CONNECTIONS connections.
TARGET_RATIO_POSTGRES, TARGET_P99_MS_POSTGRES = 0.5, 100.0
# Large enough that no sale runs out of refundable amount or of partial refunds during a run.
POLICY = {
    "auto_approve_limit_fen": 10**9,
    "supervisor_limit_fen": 10**9,
    "two_person_limit_fen": 10**10,
    "max_partial_refunds": 1000,
    "refund_window_days": 3650,
}
SAFE_LUA = re.compile(r"^[A-Za-z0-9_.\-]*$")


class BenchError(RuntimeError):
    """A set-up step failed; the message says which and where to look."""


@dataclass
class Measurement:
    """One side of the comparison: completed operations per second and their latency."""

    name: str
    ok: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0  # non-201 answers (API) or failed reservations (raw), plus socket errors and timeouts
    server_cpu_seconds: float = 0.0  # API: CPU the server's processes used during the measured seconds
    # API: of all the machine's cores, the share busy during the measured seconds, and the CPU seconds the
    # PostgreSQL server's processes used (0.0 on SQLite): whether a second node has any CPU left to use
    machine_busy: float = 0.0
    postgres_cpu_seconds: float = 0.0


# ----------------------------------------------------------------------------------------------------------------
# small helpers


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (the raw loop and the Python client record every sample)."""
    if not sorted_values:
        return 0.0
    rank = min(len(sorted_values), max(1, math.ceil(pct / 100 * len(sorted_values))))
    return float(sorted_values[rank - 1])


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1, so two runs (or a dev server on 8000) never collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def venv_bin(name: str) -> str:
    """The console script next to the interpreter that runs us (``.venv/bin/posrefund`` under ``make bench``)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise BenchError(f"{path} not found: run scripts/install first")
    return str(path)


def http_json(
    url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[int, dict[str, Any]]:
    """One blocking request with the standard library: enough for set-up, never used to measure."""
    if not url.startswith(f"http://{HOST}:"):
        raise BenchError(f"refusing to talk to {url}: the benchmark only uses {HOST}")
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read() or b"{}")


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """SIGTERM (e.g. from a CI timeout) unwinds like Ctrl-C, so every ``finally`` below still cleans up."""

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def child(cmd: list[str], **kw: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in its own session (Ctrl-C reaches only us), always stopped when the block ends."""
    proc = subprocess.Popen(cmd, start_new_session=True, **kw)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ----------------------------------------------------------------------------------------------------------------
# set-up: keys, schema, seed data


def generate_keys() -> dict[str, str]:
    """Fresh secrets from the CLI itself (``posrefund keys generate``), as an operator would make them."""
    out = subprocess.run([venv_bin("posrefund"), "keys", "generate"], check=False, capture_output=True, text=True)
    if out.returncode != 0:
        raise BenchError(f"`posrefund keys generate` failed ({out.returncode}):\n{out.stderr[-3000:]}")
    env: dict[str, str] = {}
    for line in out.stdout.splitlines():
        k, sep, v = line.partition("=")
        if sep and k.startswith("POSREFUND_"):
            env[k] = v
    if {"POSREFUND_SECRET_KEY", "POSREFUND_PII_KEY"} - env.keys():
        raise BenchError(f"`posrefund keys generate` printed no keys: {out.stdout!r}")
    return env


def app_env(workdir: Path, keys: dict[str, str], database_url: str | None = None) -> dict[str, str]:
    """The server's environment: its own database (SQLite in the temporary folder unless ``database_url``),
    data folder and log file inside the temporary folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSREFUND_")}
    env.update(keys)
    env["POSREFUND_DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'api.db'}"
    env["POSREFUND_DATA_DIR"] = str(workdir / "data")
    env["POSREFUND_LOG_FILE"] = str(workdir / "server.log")
    # One terminal key sends every refund here, fifty times what its limit lets one counter send: the per-key
    # and per-user limits are switched off. (Raising them instead would measure the moving window's list of
    # every hit of the last minute, which no real key reaches; one check of a real limit costs about 8 µs.)
    env["POSREFUND_RATE_LIMITS__API_PER_KEY"] = ""
    env["POSREFUND_RATE_LIMITS__API_PER_USER"] = ""
    return env


def migrate(env: dict[str, str], workdir: Path) -> None:
    """The schema comes from the app's own migrations (``posrefund db upgrade``)."""
    with open(workdir / "upgrade.out", "wb") as out:
        rc = subprocess.run([venv_bin("posrefund"), "db", "upgrade"], env=env, stdout=out, stderr=out, check=False)
    if rc.returncode != 0:
        raise BenchError(f"`posrefund db upgrade` failed:\n{(workdir / 'upgrade.out').read_text()}")


def seed(env: dict[str, str], n_sales: int) -> tuple[str, list[str]]:
    """A merchant, store, terminal, cashier, a generous policy and ``n_sales`` sales, through the service layer.

    Seeding goes through the real service code (not SQL) so the rows look exactly like production rows.
    Returns the cashier's username and the sale ids to send requests for.

    About one random id in 3,000 (``sal_`` + 20 hex digits) holds a run of digits that passes the card-number
    check, and the API's PII guard answers 422 to any body naming it. Such sales are left out (and counted on
    stderr) so the benchmark measures the refund path, not that refusal.
    """
    from posrefund import bootstrap
    from posrefund.adapters.passwords import Argon2Hasher
    from posrefund.config import Settings
    from posrefund.domain.roles import Actor, Role
    from posrefund.service import admin, policies, sales_import
    from posrefund.service.sales import SaleInput

    settings = Settings(
        database_url=env["POSREFUND_DATABASE_URL"],
        secret_key=env["POSREFUND_SECRET_KEY"],
        pii_key=env["POSREFUND_PII_KEY"],
        data_dir=Path(env["POSREFUND_DATA_DIR"]),
    )
    deps = bootstrap.build(settings, hasher=Argon2Hasher(fast=True))
    try:
        provider = Actor(id="bench", role=Role.PROVIDER_ADMIN, merchant_id=None, name="bench")
        merchant = admin.create_merchant(deps, provider, code="BENCH", name="压测商户")
        boss = Actor(id="bench-admin", role=Role.ADMIN, merchant_id=merchant["id"], name="bench admin")
        store = admin.create_store(deps, boss, name="一号店")
        term = admin.create_terminal(deps, boss, store_id=store["id"], terminal_no="BENCH01", device_sn="SNBENCH01")
        username = "bench_cashier"
        admin.create_user(
            deps, provider, username=username, password=PASSWORD, role="cashier", merchant_id=merchant["id"]
        )
        policies.put_policy(deps, boss, dict(POLICY))
        paid_at = datetime.now(UTC) - timedelta(days=1)
        rows = (
            (
                i,
                SaleInput(
                    terminal_id=term["id"],
                    voucher_no=f"{i:06d}",
                    rrn=f"{i:012d}",
                    batch_no="000001",
                    auth_code="A1B2C3",
                    order_no=f"ORD{i:08d}",
                    channel="wechat",
                    kind="sale",
                    amount_fen=SALE_AMOUNT_FEN,
                    fee_fen=38,
                    currency="CNY",
                    paid_at=paid_at,
                    payer_masked="o***ab",
                ),
            )
            for i in range(1, n_sales + 1)
        )
        report = sales_import.import_sales(deps, boss, rows)
        if report.imported != n_sales:
            raise BenchError(f"seeding imported {report.imported} of {n_sales} sales: {report.errors[:3]}")
        with bootstrap.engine_of(deps).connect() as conn:
            from sqlalchemy import text

            ids = [str(r[0]) for r in conn.execute(text("SELECT id FROM sales ORDER BY voucher_no"))]
    finally:
        bootstrap.engine_of(deps).dispose()
    from posrefund.domain.pii import find_card_number

    usable = [i for i in ids if not find_card_number(i)]
    if len(usable) != len(ids):
        print(f"left out {len(ids) - len(usable)} sale id(s) the PII guard takes for card numbers", file=sys.stderr)
    return username, usable


# ----------------------------------------------------------------------------------------------------------------
# the baseline: the same transaction on a plain sqlite3 connection


@contextlib.contextmanager
def postgres_databases(server_url: str) -> Iterator[tuple[str, str]]:
    """Two fresh databases on the server at ``server_url`` (the app's, and the name of its twin for the
    baseline, made by ``twin_postgres`` after seeding); both dropped at the end, whatever happened."""
    import psycopg

    base = server_url.rsplit("/", 1)[0]
    names = [f"posrefund_bench_{os.getpid()}", f"posrefund_bench_{os.getpid()}_raw"]
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{names[0]}"')
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def twin_postgres(server_url: str, app_url: str, raw_url: str) -> None:
    """The baseline's database: a copy of the seeded one (same rows, indexes, statistics)."""
    import psycopg

    source = app_url.rsplit("/", 1)[1]
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        # A copy needs the source to itself: the seeding's pool (and its audit chainer) may keep a connection,
        # and the chainer may open one again between the terminate and the copy: then once more.
        for attempt in range(5):
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (source,),
            )
            try:
                admin.execute(f'CREATE DATABASE "{raw_url.rsplit("/", 1)[1]}" TEMPLATE "{source}"')
                return
            except psycopg.errors.ObjectInUse:
                if attempt == 4:
                    raise
                time.sleep(0.5)


def _libpq(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://``) as libpq takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def copy_database(src: Path, dst: Path) -> None:
    """The baseline gets a byte-for-byte twin of the seeded database: same tables, indexes and rows."""
    with contextlib.closing(sqlite3.connect(src)) as a, contextlib.closing(sqlite3.connect(dst)) as b:
        a.backup(b)


@dataclass
class RawSample:
    """One stretch of the raw loop: the latency of every committed transaction, in seconds."""

    latencies: list[float]
    failures: int
    seconds: float


def _raw_connect(db: Path | str) -> tuple[Any, str, Callable[[str], str]]:
    """The baseline's connection, its BEGIN and how its driver writes a parameter: SQLite with the app's
    pragmas, or (``db`` a ``postgresql`` URL) psycopg in autocommit mode, the transaction opened by hand."""
    if isinstance(db, str) and db.startswith("postgresql"):
        import psycopg

        return psycopg.connect(_libpq(db), autocommit=True), "BEGIN", lambda sql: sql.replace("?", "%s")
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn, "BEGIN IMMEDIATE", lambda sql: sql


def raw_loop(
    db: Path | str,
    sale_ids: Sequence[str],
    warmup: float,
    duration: float,
    lane: int = 0,
    ready: Callable[[], object] | None = None,
) -> RawSample:
    """BEGIN IMMEDIATE; read the sale; conditional UPDATE; INSERT the case; INSERT an audit event; COMMIT.

    One connection in a loop: SQLite has one writer at a time, so this is the most a single process can commit
    with these durability settings; the API's ceiling is the same writer. On PostgreSQL (``db`` a URL) the same
    statements in a plain BEGIN … COMMIT: the least a refund can cost there, one client at a time.

    ``lane`` (one of several loops run at once, ``raw_concurrent``): its own audit chain, so the loops never
    collide on a chain's next position, as the app's events never do (they are chained after commit).
    ``ready`` is called between warm-up and measurement (a barrier, so the loops measure the same seconds).
    """
    raw, begin, sql_of = _raw_connect(db)

    class _Conn:
        def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
            return raw.execute(sql_of(sql), params)

    conn = _Conn()
    try:
        merchant_id, store_id, terminal_id = conn.execute(
            "SELECT merchant_id, store_id, terminal_id FROM sales LIMIT 1"
        ).fetchone()
        chain = merchant_id if lane == 0 else f"{merchant_id[:32]}#{lane}"
        seq = int(
            conn.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_events WHERE chain = ?", (chain,)).fetchone()[0]
        )
        prev_hash = "0" * 64
        n_sales = len(sale_ids)

        def one(i: int) -> bool:
            nonlocal seq, prev_hash
            sale_id = sale_ids[i % n_sales]
            now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
            case_id = f"rfd_{secrets.token_hex(10)}"
            conn.execute(begin)
            try:
                sale = conn.execute(
                    "SELECT * FROM sales WHERE id = ? AND merchant_id = ?", (sale_id, merchant_id)
                ).fetchone()
                if sale is None:
                    conn.execute("ROLLBACK")
                    return False
                cur = conn.execute(
                    "UPDATE sales SET reserved_fen = reserved_fen + ?, refund_count = refund_count + 1 "
                    "WHERE id = ? AND refunded_fen + reserved_fen + ? <= amount_fen AND refund_count < ?",
                    (REFUND_AMOUNT_FEN, sale_id, REFUND_AMOUNT_FEN, POLICY["max_partial_refunds"]),
                )
                if cur.rowcount != 1:
                    conn.execute("ROLLBACK")
                    return False
                conn.execute(
                    "INSERT INTO refunds (id, merchant_id, store_id, terminal_id, sale_id, refund_no, amount_fen, "
                    "currency, reason, note, status, channel, requested_by, requested_role, required_approvals, "
                    "approved_by, review_reason, evidence_ids, customer_phone_masked, customer_name_masked, "
                    "customer_id_no_masked, version, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 'CNY', ?, '', 'approved', 'wechat', 'raw', 'cashier', 0, "
                    "'[]', '', '[]', '', '', '', 1, ?, ?)",
                    (
                        case_id,
                        merchant_id,
                        store_id,
                        terminal_id,
                        sale_id,
                        f"RF{secrets.token_hex(8).upper()}",
                        REFUND_AMOUNT_FEN,
                        REASON,
                        now,
                        now,
                    ),
                )
                seq += 1
                data = json.dumps({"amount_fen": REFUND_AMOUNT_FEN})
                digest = hashlib.sha256(f"{prev_hash}|{chain}|{seq}|{case_id}|{now}|{data}".encode()).hexdigest()
                conn.execute(
                    "INSERT INTO audit_events (chain, seq, case_id, action, actor_id, actor_role, at, before, after, "
                    "reason, data, prev_hash, hash) VALUES (?, ?, ?, 'refund.requested', 'raw', 'cashier', ?, NULL, "
                    "'requested', '', ?, ?, ?)",
                    (chain, seq, case_id, now, data, prev_hash, digest),
                )
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
                raise
            prev_hash = digest
            return True

        i = 0
        end = time.perf_counter() + warmup
        while time.perf_counter() < end:
            one(i)
            i += 1
        if ready is not None:
            ready()
        latencies: list[float] = []
        failures = 0
        start = time.perf_counter()
        end = start + duration
        while True:
            t0 = time.perf_counter()
            if t0 >= end:
                break
            if one(i):
                latencies.append(time.perf_counter() - t0)
            else:
                failures += 1
            i += 1
        seconds = time.perf_counter() - start
    finally:
        raw.close()
    return RawSample(latencies, failures, seconds)


RAW_CONNECTIONS = 8  # the PostgreSQL baseline's concurrent connections, besides the one-connection loop


def _raw_lane(
    db: str, sale_ids: Sequence[str], warmup: float, duration: float, lane: int, start: Any, out: Any
) -> None:
    """One process of ``raw_concurrent``: its loop, its sample on the queue (an error as its text)."""
    try:
        out.put((lane, raw_loop(db, sale_ids, warmup, duration, lane=lane, ready=lambda: start.wait(120))))
    except BaseException as exc:  # the parent reports it; a child never prints a traceback of its own
        out.put((lane, f"{type(exc).__name__}: {exc}"))


def raw_concurrent(db: str, sale_ids: Sequence[str], warmup: float, duration: float, connections: int) -> RawSample:
    """``connections`` raw loops at once, each a process with its own psycopg connection and its own share of
    the sales (a sale is never in two loops, as the API's clients spread theirs), the same transaction.

    Processes, not threads: one Python process would cap the rate at what its one GIL can drive, while a server
    with several nodes (or one with several clients) has PostgreSQL serve that many connections at once. They
    warm up, meet at a barrier and measure the same seconds; the sample pools every commit over the mean time.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds threads and connections
    start = ctx.Barrier(connections)
    out = ctx.Queue()
    procs = [
        ctx.Process(
            target=_raw_lane,
            args=(db, list(sale_ids[lane::connections]), warmup, duration, lane + 1, start, out),
            daemon=True,
        )
        for lane in range(connections)
    ]
    for proc in procs:
        proc.start()
    try:
        got = [out.get(timeout=warmup + duration + 180) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    failed = [f"lane {lane}: {r}" for lane, r in got if isinstance(r, str)]
    if failed:
        raise BenchError("raw loop failed: " + "; ".join(failed))
    samples = [r for _lane, r in got if isinstance(r, RawSample)]
    return RawSample(
        latencies=[x for sample in samples for x in sample.latencies],
        failures=sum(sample.failures for sample in samples),
        seconds=sum(sample.seconds for sample in samples) / len(samples),
    )


def summarise_raw(samples: Sequence[RawSample], name: str = "raw sqlite3") -> Measurement:
    """All stretches of the raw loop as one measurement: total commits over total time, pooled percentiles."""
    latencies = sorted(x for sample in samples for x in sample.latencies)
    seconds = sum(sample.seconds for sample in samples)
    return Measurement(
        name=name,
        ok=len(latencies),
        seconds=seconds,
        per_second=len(latencies) / seconds,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        errors=sum(sample.failures for sample in samples),
    )


def raw_baseline(db: Path | str, sale_ids: Sequence[str], warmup: float, duration: float) -> Measurement:
    """The raw loop in one stretch (for tools that only want the number)."""
    return summarise_raw([raw_loop(db, sale_ids, warmup, duration)])


# ----------------------------------------------------------------------------------------------------------------
# load generators


def ensure_wrk() -> str | None:
    """wrk if it is (or can be made) available; None means use the Python client instead."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return None
    print("wrk is missing: installing it with apt-get …", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet: dict[str, Any] = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if subprocess.run([apt, "install", "-y", "-q", "wrk"], check=False, **quiet).returncode != 0:
        # Package lists may be missing or stale on a fresh machine.
        subprocess.run([apt, "update", "-q"], check=False, **quiet)
        subprocess.run([apt, "install", "-y", "-q", "wrk"], check=False, **quiet)
    return shutil.which("wrk")


def lua_string(value: str) -> str:
    if not SAFE_LUA.match(value):
        raise BenchError(f"unexpected characters in {value!r}")
    return f'"{value}"'


WRK_SCRIPT = """
-- Generated by bench/refund_api.py: every request carries a unique Idempotency-Key (tag-thread-counter) and
-- walks the sales round robin, so no answer is a replay and no sale runs dry.
local sales = {%(sales)s}
local n_sales = #sales
local tag = %(tag)s
local token = %(token)s
local n_threads = %(threads)d
local counter = 0
statuses = {}
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local sale = sales[((counter * n_threads + tid) %% n_sales) + 1]
  local body = '{"sale_id":"' .. sale .. '","amount_fen":%(amount)d,"reason":"%(reason)s"}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = tag .. "-" .. tid .. "-" .. counter,
  }
  return wrk.format("POST", "/v1/refunds", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do
      agg[k] = (agg[k] or 0) + v
    end
  end
  local parts = {}
  for k, v in pairs(agg) do
    table.insert(parts, string.format('"%%d":%%d', k, v))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%%d,"requests":%%d,"p50_us":%%d,"p99_us":%%d,"errors":{"connect":%%d,' ..
    '"read":%%d,"write":%%d,"status":%%d,"timeout":%%d},"statuses":{%%s}}\\n',
    summary.duration, summary.requests, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ",")))
end
"""


def run_wrk(
    wrk: str, workdir: Path, port: int, token: str, sale_ids: Sequence[str], tag: str, connections: int, seconds: float
) -> Measurement:
    """One wrk run; its Lua ``done`` hook prints a JSON line with statuses and latency percentiles."""
    threads = min(2, connections)  # two cores: more wrk threads only steal CPU from the server
    script = workdir / f"refund_{tag}.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "sales": ",".join(lua_string(s) for s in sale_ids),
            "tag": lua_string(tag),
            "token": lua_string(token),
            "threads": threads,
            "amount": REFUND_AMOUNT_FEN,
            "reason": REASON,
        }
    )
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        f"http://{HOST}:{port}/v1/refunds",
    ]
    with child(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}): {err.decode(errors='replace')}")
    line = next((ln for ln in out.decode().splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise BenchError(f"wrk printed no result line:\n{out.decode(errors='replace')}")
    doc = json.loads(line.removeprefix("BENCH_JSON "))
    statuses = {str(k): int(v) for k, v in doc["statuses"].items()}
    socket_errors = sum(int(v) for k, v in doc["errors"].items() if k != "status")
    seconds_run = doc["duration_us"] / 1e6
    ok = statuses.get("201", 0)
    return Measurement(
        name="api (wrk)",
        ok=ok,
        seconds=seconds_run,
        per_second=ok / seconds_run,
        p50_ms=doc["p50_us"] / 1000,
        p99_ms=doc["p99_us"] / 1000,
        statuses=statuses,
        errors=sum(v for k, v in statuses.items() if k != "201") + socket_errors,
    )


def refund_request(port: int, token: str, sale_id: str, idempotency_key: str) -> bytes:
    """One ``POST /v1/refunds`` of ``REFUND_AMOUNT_FEN`` as raw HTTP/1.1 bytes, for a keep-alive stream."""
    body = json.dumps({"sale_id": sale_id, "amount_fen": REFUND_AMOUNT_FEN, "reason": REASON}).encode()
    head = (
        f"POST /v1/refunds HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nIdempotency-Key: {idempotency_key}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


async def read_status(reader: asyncio.StreamReader, timeout: float = 10.0) -> int:
    """Read one answer (status line, headers, body of Content-Length) and return its status."""
    status_line = await asyncio.wait_for(reader.readline(), timeout=timeout)
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def _python_load(cfg: dict[str, Any]) -> dict[str, Any]:
    """Keep-alive HTTP/1.1 clients on raw asyncio streams: far lighter than an HTTP library per request."""
    port, token, sale_ids, tag = cfg["port"], cfg["token"], cfg["sale_ids"], cfg["tag"]
    connections, seconds = int(cfg["connections"]), float(cfg["seconds"])
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(cid: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(HOST, port)
        n = 0
        try:
            while time.perf_counter() < deadline:
                n += 1
                sale = sale_ids[(n * connections + cid) % len(sale_ids)]
                t0 = time.perf_counter()
                writer.write(refund_request(port, token, sale, f"{tag}-{cid}-{n}"))
                try:
                    status = await read_status(reader)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    errors += 1
                    return
                latencies.append(time.perf_counter() - t0)
                statuses[status] += 1
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    start = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(connections)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "seconds": elapsed,
        "statuses": {str(k): v for k, v in statuses.items()},
        "socket_errors": errors,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def run_python_client(
    workdir: Path, port: int, token: str, sale_ids: Sequence[str], tag: str, connections: int, seconds: float
) -> Measurement:
    """The fallback load generator, in its own process so it does not share an event loop or GIL with us."""
    cfg_path = workdir / f"load_{tag}.json"
    cfg_path.write_text(
        json.dumps(
            {
                "port": port,
                "token": token,
                "sale_ids": list(sale_ids),
                "tag": tag,
                "connections": connections,
                "seconds": seconds,
            }
        )
    )
    cmd = [sys.executable, str(Path(__file__).resolve()), "--loadgen", str(cfg_path)]
    with child(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise BenchError(f"python load generator failed: {err.decode(errors='replace')}")
    doc = json.loads(out)
    statuses = {str(k): int(v) for k, v in doc["statuses"].items()}
    ok = statuses.get("201", 0)
    return Measurement(
        name="api (python client)",
        ok=ok,
        seconds=doc["seconds"],
        per_second=ok / doc["seconds"],
        p50_ms=doc["p50_ms"],
        p99_ms=doc["p99_ms"],
        statuses=statuses,
        errors=sum(v for k, v in statuses.items() if k != "201") + int(doc["socket_errors"]),
    )


# ----------------------------------------------------------------------------------------------------------------
# the API side


def wait_until_up(
    proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 60.0, path: str = "/healthz"
) -> None:
    """Poll ``path`` until 200; a process that dies on start is reported with the tail of its output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{proc.args} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError):
            status, _ = http_json(f"http://{HOST}:{port}{path}", timeout=2)
            if status == 200:
                return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    raise BenchError(f"{proc.args} did not answer {path} within {timeout:.0f}s:\n{tail}")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its live descendants (``--server-workers``),
    from /proc; 0.0 where there is no /proc. Over a run it says what a refund costs the server in CPU,
    a figure far less moved by other work on the machine than the rate is."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        total += cpu_seconds(p)
        with contextlib.suppress(OSError, ValueError):
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return total


def cpu_seconds(pid: int, *, ended_children: bool = False) -> float:
    """User + system CPU time of one process so far, from ``/proc/<pid>/stat`` (with ``ended_children``, that of
    its children that have ended too); 0.0 when it cannot be read."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime, stime (fields 14 and 15 of proc(5)), then cutime, cstime
        return sum(int(f) for f in fields[11 : 15 if ended_children else 13]) / tick
    return 0.0


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every core since boot, from /proc/stat; (0, 0) where there is none."""
    with contextlib.suppress(OSError, ValueError):
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = ticks[3] + ticks[4]  # idle, iowait
        return sum(ticks[:8]) - idle, sum(ticks[:8])
    return 0, 0


def postgres_cpu_seconds() -> float:
    """CPU time used so far by the processes named ``postgres`` on this machine: the server and its live
    backends, and the backends that have ended (their time is added to the server's, their parent's)."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == "postgres":
                pids.append(int(comm.parent.name))
    return sum(cpu_seconds(pid, ended_children=True) for pid in pids)


def sign_in(port: int, username: str) -> str:
    """A bearer token for the seeded cashier."""
    status, doc = http_json(f"http://{HOST}:{port}/v1/auth/token", {"username": username, "password": PASSWORD})
    if status != 200:
        raise BenchError(f"sign-in failed with {status}: {doc}")
    return str(doc["access_token"])


def api_run(
    env: dict[str, str],
    workdir: Path,
    username: str,
    sale_ids: Sequence[str],
    connections: int,
    warmup: float,
    duration: float,
    client: str,
) -> tuple[Measurement, int]:
    """Serve, sign in, check one request by hand, warm up, measure; returns the measurement and the rows written."""
    port = free_port()
    server_out = workdir / "server.out"
    with (
        open(server_out, "wb") as out,
        child(
            [venv_bin("posrefund"), "serve", "--host", HOST, "--port", str(port), "--workers", str(SERVER_WORKERS)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        ) as proc,
    ):
        wait_until_up(proc, port, server_out)
        token = sign_in(port, username)
        status, doc = http_json(
            f"http://{HOST}:{port}/v1/refunds",
            {"sale_id": sale_ids[0], "amount_fen": REFUND_AMOUNT_FEN, "reason": REASON},
            {"Authorization": f"Bearer {token}", "Idempotency-Key": f"probe-{secrets.token_hex(4)}"},
        )
        if status != 201:
            raise BenchError(f"a single refund request answered {status}, not 201: {doc}")

        wrk = ensure_wrk() if client in ("auto", "wrk") else None
        if client == "wrk" and wrk is None:
            raise BenchError("wrk is not installed and could not be installed (try --client python)")

        def load(tag: str, seconds: float) -> Measurement:
            if wrk is not None:
                return run_wrk(wrk, workdir, port, token, sale_ids, tag, connections, seconds)
            return run_python_client(workdir, port, token, sale_ids, tag, connections, seconds)

        if warmup > 0:
            load(f"w{secrets.token_hex(3)}", warmup)
        cpu_before, pg_before = tree_cpu_seconds(proc.pid), postgres_cpu_seconds()
        busy_before, all_before = machine_ticks()
        result = load(f"m{secrets.token_hex(3)}", duration)
        result.server_cpu_seconds = round(tree_cpu_seconds(proc.pid) - cpu_before, 2)
        busy, every = machine_ticks()
        result.machine_busy = round((busy - busy_before) / (every - all_before), 3) if every > all_before else 0.0
        on_pg = env["POSREFUND_DATABASE_URL"].startswith("postgresql")
        result.postgres_cpu_seconds = round(postgres_cpu_seconds() - pg_before, 2) if on_pg else 0.0
        if proc.poll() is not None:
            raise BenchError(f"server died during the run:\n{server_out.read_text(errors='replace')[-3000:]}")
    return result, count_refunds(env["POSREFUND_DATABASE_URL"])


def count_refunds(database_url: str) -> int:
    """The refund rows in the app's database after the run."""
    raw, _begin, _sql = _raw_connect(database_url if database_url.startswith("postgresql") else database_url[10:])
    try:
        return int(raw.execute("SELECT COUNT(*) FROM refunds").fetchone()[0])
    finally:
        raw.close()


# ----------------------------------------------------------------------------------------------------------------
# report


def report(
    api: Measurement,
    raw: Measurement,
    meta: dict[str, Any],
    out_path: Path,
    raw_single: Measurement | None = None,
) -> dict[str, Any]:
    """Print the table and write the same numbers as JSON. ``raw`` is the baseline of the ratio; with
    ``raw_single`` (PostgreSQL) ``raw`` ran from several connections and ``raw_single`` from one."""
    ratio = api.per_second / raw.per_second if raw.per_second else 0.0
    target = TARGET_RATIO if raw_single is None else TARGET_RATIO_POSTGRES
    target_p99 = TARGET_P99_MS if raw_single is None else TARGET_P99_MS_POSTGRES
    raw_conns = 1 if raw_single is None else RAW_CONNECTIONS
    doc = {
        "api_rps": round(api.per_second, 1),
        "raw_tps": round(raw.per_second, 1),
        "raw_connections": raw_conns,
        "ratio": round(ratio, 3),
        "target_ratio": target,
        "target_met": ratio >= target,
        "target_p99_ms": target_p99,
        "server_cpu_ms_per_refund": round(api.server_cpu_seconds / api.ok * 1000, 3) if api.ok else None,
        "p99_target_met": api.p99_ms < target_p99,
        "api": asdict(api),
        "raw": asdict(raw),
        **(
            {}
            if raw_single is None
            else {"raw_tps_1_connection": round(raw_single.per_second, 1), "raw_1_connection": asdict(raw_single)}
        ),
        **meta,
    }
    single_rows = (
        []
        if raw_single is None
        else [
            (f"{raw_single.name} tx/s, 1 connection", f"{raw_single.per_second:,.1f}"),
            ("raw p50 / p99 ms (1 connection)", f"{raw_single.p50_ms:.3f} / {raw_single.p99_ms:.3f}"),
        ]
    )
    plural = "s" if raw_conns > 1 else ""
    rows = [
        ("api refunds/s (201 only)", f"{api.per_second:,.1f}"),
        (f"{raw.name} tx/s, {raw_conns} connection{plural}", f"{raw.per_second:,.1f}"),
        ("ratio api/raw", f"{ratio:.3f}  (target ≥ {target}: {'met' if ratio >= target else 'NOT met'})"),
        (
            f"api p50 / p99 ms ({meta['connections']} clients)",
            f"{api.p50_ms:.2f} / {api.p99_ms:.2f}  (p99 target < {target_p99:.0f})",
        ),
        (f"raw p50 / p99 ms ({raw_conns} connection{plural})", f"{raw.p50_ms:.3f} / {raw.p99_ms:.3f}"),
        *single_rows,
        (
            "server CPU per refund (all its processes)",
            f"{api.server_cpu_seconds / api.ok * 1000:.2f} ms" if api.ok and api.server_cpu_seconds else "n/a",
        ),
        (
            "machine's cores busy during the api run",
            f"{api.machine_busy:.1%} of {os.cpu_count()}"
            + (f" (PostgreSQL's processes {api.postgres_cpu_seconds:.1f} CPU-s)" if api.postgres_cpu_seconds else ""),
        ),
        ("api requests 201 / errors", f"{api.ok:,} / {api.errors:,}  statuses {api.statuses}"),
        ("raw tx committed / failed", f"{raw.ok:,} / {raw.errors:,}"),
        ("load generator", meta["load_generator"]),
        ("machine load (1 min) before / after", " / ".join(f"{x:.2f}" for x in meta["loadavg_1m_before_after"])),
        (
            f"raw tx/s before / after the api run ({raw_conns} connection{plural})",
            f"{meta['raw_tps_before_api']:,.1f} / {meta['raw_tps_after_api']:,.1f}  (pooled above)",
        ),
        (
            "measured for",
            f"{meta['duration_s']:.0f} s each (raw: two halves around the api run), "
            f"after {meta['warmup_s']:.0f} s warm-up",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    engine = "PostgreSQL" if meta.get("database") == "postgres" else "SQLite WAL, synchronous=FULL"
    workers = meta.get("server_workers", 1)
    print(f"\nposrefund refund API benchmark — {engine} ({meta['sqlite_version']}), {workers} server process(es)")
    print("-" * (width + 50))
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print("-" * (width + 50))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(out_path)
    print(f"written to {out_path.relative_to(ROOT) if out_path.is_relative_to(ROOT) else out_path}")
    return doc


def git_commit() -> str:
    """Which code was measured: the short HEAD, with ``+dirty`` when src/ differs from it; empty outside a checkout.

    Read-only plumbing only (``rev-parse``, ``diff-index``), which never writes to the repository.
    """
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        git = ["git", "-C", str(ROOT)]
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, timeout=5
        ).stdout.strip()
        dirty = (
            subprocess.run(
                [*git, "diff-index", "--quiet", "HEAD", "--", "src"], capture_output=True, check=False, timeout=5
            ).returncode
            == 1
        )
        return f"{head}+dirty" if head and dirty else head
    return ""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--duration", type=float, default=15.0, help="seconds measured for each side (default 15)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up before each side (default 3)")
    p.add_argument("--connections", type=int, default=32, help="concurrent HTTP clients (default 32)")
    p.add_argument("--sales", type=int, default=2000, help="sales seeded; requests go round robin over them")
    p.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (installed with apt when missing), python, or auto (wrk if possible)",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS.relative_to(ROOT)})")
    p.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="parent folder of the temporary folder (same disk matters: fsync speed is measured)",
    )
    p.add_argument(
        "--server-workers",
        type=int,
        default=1,
        help="server processes for `posrefund serve --workers` (default 1: two measured slower here, 466 vs 560/s, "
        "as they queue on SQLite's write lock)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, logs) for a look")
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite", help="where both sides run")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("POSREFUND_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"),
        help="with --database postgres: a server and a database to connect to while making the two throw-away "
        "databases (default $POSREFUND_BENCH_PG_URL or the test server on 55432)",
    )
    p.add_argument("--loadgen", type=Path, help=argparse.SUPPRESS)  # internal: run as the Python load generator
    return p.parse_args(argv)


SERVER_WORKERS = 1


def main(argv: Sequence[str] | None = None) -> int:
    global SERVER_WORKERS  # noqa: PLW0603 - one setting for the whole run
    args = parse_args(argv)
    SERVER_WORKERS = args.server_workers
    if args.loadgen:
        print(json.dumps(asyncio.run(_python_load(json.loads(args.loadgen.read_text())))))
        return 0
    load_before = os.getloadavg()[0]  # other work on a 2-core machine moves the numbers: record it
    workdir = Path(tempfile.mkdtemp(prefix="posrefund-bench-", dir=args.workdir))
    return in_workdir(workdir, args.keep, lambda: _measure(args, workdir, load_before))


def in_workdir(workdir: Path, keep: bool, measure: Callable[[], None]) -> int:
    """Run ``measure`` with SIGTERM unwinding like Ctrl-C; the temporary folder goes at the end unless kept.
    0 after a measurement, 1 when the set-up broke, 130 on Ctrl-C."""
    try:
        with terminate_on_sigterm():
            measure()
    except KeyboardInterrupt:
        print("\ninterrupted: processes stopped, temporary files removed", file=sys.stderr)
        return 130
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _measure(args: argparse.Namespace, workdir: Path, load_before: float) -> None:
    """On the chosen database: keys, schema, seed; raw half, API run, raw half; the report."""
    print(f"working in {workdir}", file=sys.stderr)
    if args.database == "sqlite":
        _measure_on(args, workdir, load_before, None, workdir / "raw.db")
        return
    with postgres_databases(args.pg_url) as (app_url, raw_url):
        _measure_on(args, workdir, load_before, app_url, raw_url)


def _measure_on(
    args: argparse.Namespace, workdir: Path, load_before: float, app_url: str | None, raw_db: Path | str
) -> None:
    env = app_env(workdir, generate_keys(), app_url)
    migrate(env, workdir)
    t0 = time.perf_counter()
    username, sale_ids = seed(env, args.sales)
    print(f"seeded {len(sale_ids)} sales in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    if app_url is None:
        copy_database(workdir / "api.db", workdir / "raw.db")
    else:
        twin_postgres(args.pg_url, app_url, str(raw_db))
    raw_name = "raw sqlite3" if app_url is None else "raw psycopg"
    # On PostgreSQL the baseline also runs from RAW_CONNECTIONS connections at once (the ratio's), besides
    # the one-connection loop; SQLite has one writer, so one connection is its whole baseline.
    several = app_url is not None

    def raw_half(which: str) -> tuple[RawSample, RawSample | None]:
        print(f"{raw_name}, {which} half: {args.warmup:.0f}s warm-up, {half:.1f}s measured …", file=sys.stderr)
        single = raw_loop(raw_db, sale_ids, args.warmup, half)
        if not several:
            return single, None
        print(f"{raw_name} from {RAW_CONNECTIONS} connections, {which} half …", file=sys.stderr)
        return single, raw_concurrent(str(raw_db), sale_ids, args.warmup, half, RAW_CONNECTIONS)

    # The baseline runs in two halves around the API run: fsync latency on a shared disk drifts by the
    # minute, and bracketing keeps that drift from landing on one side of the ratio only.
    half = args.duration / 2
    single_before, many_before = raw_half("first")
    print(
        f"api: {args.warmup:.0f}s warm-up, {args.duration:.0f}s measured, {args.connections} clients …",
        file=sys.stderr,
    )
    api, rows = api_run(env, workdir, username, sale_ids, args.connections, args.warmup, args.duration, args.client)
    single_after, many_after = raw_half("second")
    raw_single = summarise_raw([single_before, single_after], raw_name)
    raw_before, raw_after = single_before, single_after
    raw = raw_single
    if many_before is not None and many_after is not None:
        raw_before, raw_after = many_before, many_after
        raw = summarise_raw([many_before, many_after], raw_name)
    meta = {
        "database": args.database,
        "connections": args.connections,
        "server_workers": args.server_workers,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "sales_seeded": len(sale_ids),
        "raw_tps_before_api": round(len(raw_before.latencies) / raw_before.seconds, 1),
        "raw_tps_after_api": round(len(raw_after.latencies) / raw_after.seconds, 1),
        "refund_amount_fen": REFUND_AMOUNT_FEN,
        "api_refund_rows_after_run": rows,
        "load_generator": api.name.removeprefix("api (").removesuffix(")"),
        "sqlite_version": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "commit": git_commit(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report(api, raw, meta, args.out, raw_single if several else None)


if __name__ == "__main__":
    sys.exit(main())
