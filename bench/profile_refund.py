"""Where one refund request spends its time inside the server, without the network.

Why in-process: a sampling profiler (py-spy) is not available here, and profiling the uvicorn process from
outside mixes in the load generator. This harness seeds a database exactly like ``refund_api.py``, builds the
real FastAPI app (``create_app(deps, inline=True)``, as ``posrefund serve`` does on SQLite, with JSON logs to a
file) and calls it as an ASGI app, one request after another, with the same requests the benchmark sends.

It prints three things:

* a decomposition from plain timing (no profiler): the raw sqlite3 transaction in its own loop, and the
  whole ASGI request split into the service call ``refunds.request_refund_once`` (timed inside each request)
  and everything around it (middleware, routing, validation, rendering);
* the cProfile hot spots over the whole ASGI request, by own time and by cumulative time;
* own time grouped by package (SQLAlchemy, Starlette/FastAPI, pydantic, sqlite3 C calls, posrefund, …).

cProfile slows Python function calls more than C calls, so its percentages over-weight pure-Python layers;
the timing decomposition above it is the unbiased number. Run: ``.venv/bin/python bench/profile_refund.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message

from refund_api import (
    PASSWORD,
    REASON,
    REFUND_AMOUNT_FEN,
    ROOT,
    app_env,
    copy_database,
    generate_keys,
    migrate,
    postgres_databases,
    raw_baseline,
    seed,
    twin_postgres,
)

OUT = ROOT / "bench" / "results" / "refund_profile.txt"
OUT_PG = ROOT / "bench" / "results" / "refund_profile-postgres.txt"


class Driver:
    """Calls the ASGI app the way uvicorn would for ``POST /v1/refunds``, and checks every answer is a 201."""

    def __init__(self, app: ASGIApp, token: str, sale_ids: Sequence[str], tag: str) -> None:
        self.app = app
        self.token = token.encode()
        self.sale_ids = sale_ids
        self.tag = tag
        self.n = 0

    async def one(self) -> int:
        self.n += 1
        sale = self.sale_ids[self.n % len(self.sale_ids)]
        body = json.dumps({"sale_id": sale, "amount_fen": REFUND_AMOUNT_FEN, "reason": REASON}).encode()
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/refunds",
            "raw_path": b"/v1/refunds",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"application/json"),
                (b"authorization", b"Bearer " + self.token),
                (b"idempotency-key", f"{self.tag}-{self.n}".encode()),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        delivered = False
        status = 0
        answer = b""

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)  # nothing more: like a client that keeps the connection open
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status
            nonlocal answer
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                answer += message.get("body", b"")

        await self.app(scope, receive, send)
        if status != 201:
            raise RuntimeError(f"request {self.n} answered {status}: {answer[:300]!r}")
        return status

    async def many(self, n: int) -> None:
        for _ in range(n):
            await self.one()


class ServiceTimer:
    """Wraps ``refunds.request_refund_once`` for the duration of a ``with`` block and adds up its time; with a
    ``profiler``, profiles the call on the thread it runs on (on PostgreSQL a worker thread, which the
    event loop's profiler does not see).

    The router calls it through the module (``refunds.request_refund_once``), so swapping the module attribute
    reaches every request; ``calls`` tells whether it did.
    """

    def __init__(self, module: Any, profiler: cProfile.Profile | None = None) -> None:
        self.module = module
        self.profiler = profiler
        self.seconds = 0.0
        self.calls = 0
        self._orig: Callable[..., Any] | None = None

    def __enter__(self) -> ServiceTimer:
        orig = self._orig = self.module.request_refund_once
        profiler = self.profiler

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            try:
                return orig(*args, **kwargs)
            finally:
                if profiler is not None:
                    profiler.disable()
                self.seconds += time.perf_counter() - start
                self.calls += 1

        self.module.request_refund_once = timed
        return self

    def __exit__(self, *_: object) -> None:
        self.module.request_refund_once = self._orig


def group_of(key: tuple[str, int, str]) -> str:
    """Which package a profiled function belongs to; C calls are named after their object type."""
    filename, _, func = key
    if filename == "~":
        m = re.search(r"of '([\w.]+)'", func) or re.search(r"built-in method ([\w.]+)", func)
        name = m.group(1) if m else func
        if name.startswith("sqlite3"):
            return "sqlite3 (C: SQL + fsync)"
        if name.startswith("_json") or name.startswith("json"):
            return "json (C)"
        return "other C builtins"
    for pkg in (
        "sqlalchemy",
        "starlette",
        "fastapi",
        "pydantic",
        "pydantic_core",
        "structlog",
        "anyio",
        "jwt",
        "cryptography",
        "alembic",
    ):
        if f"/site-packages/{pkg}/" in filename:
            return pkg
    if "/posrefund/" in filename:
        return "posrefund"
    if "/asyncio/" in filename:
        return "asyncio"
    if "/json/" in filename:
        return "json"
    if "/site-packages/" in filename:
        return filename.split("/site-packages/")[1].split("/")[0]
    return "python stdlib"


def profile_report(stats: pstats.Stats, requests: int, top: int) -> str:
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in raw.values())
    lines = [f"cProfile over {requests} ASGI requests: {total / requests * 1e6:.0f} µs of own CPU time per request"]
    groups: dict[str, float] = defaultdict(float)
    for key, (_, _, tt, _, _) in raw.items():
        groups[group_of(key)] += tt
    lines.append("\nown time by package")
    for name, tt in sorted(groups.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {tt / total * 100:5.1f}%  {tt / requests * 1e6:7.1f} µs/req  {name}")

    def label(key: tuple[str, int, str]) -> str:
        filename, line, func = key
        if filename == "~":
            return func
        short = filename.split("/site-packages/")[-1].split("/src/")[-1]
        return f"{short}:{line}({func})"

    lines.append(f"\ntop {top} by own time")
    for key, (_, nc, tt, _, _) in sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]:
        lines.append(f"  {tt / total * 100:5.1f}%  {nc / requests:6.1f} calls/req  {label(key)}")
    lines.append(f"\ntop {top} by cumulative time (share of the whole request)")
    ranked = sorted(raw.items(), key=lambda kv: -kv[1][3])
    shown = 0
    for key, (_, nc, _, ct, _) in ranked:
        if key[0] == "~" and "method 'run'" in key[2]:
            continue
        lines.append(f"  {min(ct / total, 1) * 100:5.1f}%  {nc / requests:6.1f} calls/req  {label(key)}")
        shown += 1
        if shown >= top:
            break
    return "\n".join(lines)


class StatementCounter:
    """Counts the SQL statements psycopg is given (the hot path bypasses SQLAlchemy's events, see
    adapters/db/prebuilt.py) and keeps the first request's, so the report says how many round trips a refund
    makes and which. PostgreSQL only: sqlite3's cursor cannot be wrapped."""

    def __init__(self) -> None:
        self.count = 0
        self.first: list[str] | None = None
        self._seen: list[str] = []

    def note(self, statement: Any) -> None:
        self.count += 1
        text = statement.decode() if isinstance(statement, bytes) else str(statement)
        self._seen.append(" ".join(text.split())[:160])

    def cut(self) -> None:
        """The end of one request: keep its statements if they are the first kept."""
        if self.first is None:
            self.first = list(self._seen)
        self._seen.clear()

    @contextlib.contextmanager
    def on_psycopg(self) -> Iterator[None]:
        import psycopg

        cls: Any = psycopg.Cursor
        execute, executemany = cls.execute, cls.executemany

        def counted_execute(cur: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            self.note(query)
            return execute(cur, query, *args, **kwargs)

        def counted_executemany(cur: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            self.note(query)
            return executemany(cur, query, *args, **kwargs)

        cls.execute, cls.executemany = counted_execute, counted_executemany
        try:
            yield
        finally:
            cls.execute, cls.executemany = execute, executemany


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--requests", type=int, default=3000, help="requests timed, then profiled (default 3000)")
    p.add_argument("--top", type=int, default=30, help="rows in each hot-spot table")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"report file (default {OUT.relative_to(ROOT)}, or {OUT_PG.relative_to(ROOT)} with --database postgres)",
    )
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite", help="where the app runs")
    p.add_argument("--timing-only", action="store_true", help="the plain timing only, no profiler pass")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("POSREFUND_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"),
        help="with --database postgres: a server to make the two throw-away databases on (as refund_api.py)",
    )
    args = p.parse_args(argv)
    out = args.out or (OUT_PG if args.database == "postgres" else OUT)
    workdir = Path(tempfile.mkdtemp(prefix="posrefund-profile-"))
    try:
        if args.database == "sqlite":
            return _profile(args.requests, args.top, out, workdir, None, workdir / "raw.db", "", args.timing_only)
        with postgres_databases(args.pg_url) as (app_url, raw_url):
            return _profile(args.requests, args.top, out, workdir, app_url, raw_url, args.pg_url, args.timing_only)
    except KeyboardInterrupt:
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _profile(
    n: int,
    top: int,
    out: Path,
    workdir: Path,
    app_url: str | None,
    raw_db: Path | str,
    server_url: str,
    timing_only: bool = False,
) -> int:
    try:
        env = app_env(workdir, generate_keys(), app_url)
        migrate(env, workdir)
        username, sale_ids = seed(env, 2000)
        if app_url is None:
            copy_database(workdir / "api.db", workdir / "raw.db")
        else:
            twin_postgres(server_url, app_url, str(raw_db))
        raw = raw_baseline(raw_db, sale_ids, warmup=1.0, duration=5.0)

        from posrefund import bootstrap
        from posrefund.config import RateLimits, Settings
        from posrefund.entrypoints.api.app import create_app
        from posrefund.entrypoints.logging_setup import configure
        from posrefund.service import auth, refunds

        settings = Settings(
            database_url=env["POSREFUND_DATABASE_URL"],
            secret_key=env["POSREFUND_SECRET_KEY"],
            pii_key=env["POSREFUND_PII_KEY"],
            data_dir=Path(env["POSREFUND_DATA_DIR"]),
            log_file=Path(env["POSREFUND_LOG_FILE"]),
            # as in refund_api.py: one key sends everything, far beyond what one counter may
            rate_limits=RateLimits(api_per_key="", api_per_user=""),
        )
        configure(settings.log_level, settings.log_file)  # what `posrefund serve` does before it serves
        deps = bootstrap.build(settings)
        # as `posrefund serve` decides it (entrypoints/api/factory.py): inline execution on SQLite only
        app = create_app(
            deps,
            inline=app_url is None,
            token_minutes=settings.token_minutes,
            rate_limits=settings.rate_limits,
        )
        actor = auth.login(deps, username, PASSWORD)
        token, _ = app.state.ctx.issue_token(actor)
        engine = bootstrap.engine_of(deps)
        loop = asyncio.new_event_loop()
        try:
            driver = Driver(app, token, sale_ids, "p")
            loop.run_until_complete(driver.many(300))  # warm caches: statement cache, routes, pydantic

            statements = StatementCounter()
            if app_url is not None:
                with statements.on_psycopg():
                    loop.run_until_complete(driver.many(1))
                    statements.cut()
                    loop.run_until_complete(driver.many(99))
            per_request = statements.count / 100

            # One timed pass, no profiler: the service call is timed inside each request by a thin wrapper,
            # so both numbers come from the same requests on the same database (it grows as the run goes).
            inside = ServiceTimer(refunds)
            cpu0 = time.process_time()
            start = time.perf_counter()
            with inside:
                loop.run_until_complete(driver.many(n))
            asgi_us = (time.perf_counter() - start) / n * 1e6
            cpu_us = (time.process_time() - cpu0) / n * 1e6
            service_us = inside.seconds / n * 1e6 if inside.calls == n else float("nan")

            # CPU time of the thread, not the wall clock: on PostgreSQL the wall clock would put the waits for
            # the server's answers on the driver's functions. Off the event loop the service call needs a
            # profiler of its own on its thread.
            profiler = cProfile.Profile(time.thread_time)
            on_thread = cProfile.Profile(time.thread_time) if app_url is not None else None
            if not timing_only:
                profiler.enable()
                with ServiceTimer(refunds, on_thread):
                    loop.run_until_complete(driver.many(n))
                profiler.disable()
        finally:
            loop.close()
            engine.dispose()

        raw_us = 1e6 / raw.per_second
        engine_name = "SQLite WAL, synchronous=FULL" if app_url is None else "PostgreSQL"
        raw_name = "raw sqlite3" if app_url is None else "raw psycopg"
        lines = [
            f"posrefund: time per POST /v1/refunds, in-process, one request at a time ({engine_name})",
            "",
            f"  {raw_name + ' transaction (own loop)':<57}{raw_us:8.0f} µs",
            f"  whole ASGI request (FastAPI app, no socket)               {asgi_us:8.0f} µs"
            f"   (CPU of this process {cpu_us:.0f} µs)",
            f"    of which the service call refunds.request_refund_once   {service_us:8.0f} µs"
            f"   ({service_us - raw_us:+.0f} µs against raw)",
            f"    of which HTTP layer (middleware, routing, validation)   {asgi_us - service_us:8.0f} µs",
            f"  → at most {1e6 / asgi_us:,.0f} requests/s from one server process;"
            f" raw ceiling {raw.per_second:,.0f} tx/s",
            "",
        ]
        if app_url is not None:
            lines += [
                f"SQL statements per request: {per_request:.2f} (and the commit); those of one request:",
                *(f"  {s}" for s in statements.first or []),
                "",
            ]
        if not timing_only:
            stream = io.StringIO()
            stats = pstats.Stats(profiler, stream=stream)
            if on_thread is not None:
                stats.add(on_thread)
            lines.append(profile_report(stats, n, top))
        text = "\n".join(lines) + "\n"
        print(text)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"written to {out}")
    except RuntimeError as exc:
        log = workdir / "server.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
        print(f"profiling failed: {exc}\nlast lines of the app log:\n{tail}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(Exception):
            import logging

            logging.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
