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
import pstats
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
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
    raw_baseline,
    seed,
)

OUT = ROOT / "bench" / "results" / "refund_profile.txt"


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
    """Wraps ``refunds.request_refund_once`` for the duration of a ``with`` block and adds up its time.

    The router calls it through the module (``refunds.request_refund_once``), so swapping the module attribute
    reaches every request; ``calls`` tells whether it did.
    """

    def __init__(self, module: Any) -> None:
        self.module = module
        self.seconds = 0.0
        self.calls = 0
        self._orig: Callable[..., Any] | None = None

    def __enter__(self) -> ServiceTimer:
        orig = self._orig = self.module.request_refund_once

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return orig(*args, **kwargs)
            finally:
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
    lines = [f"cProfile over {requests} ASGI requests: {total / requests * 1e6:.0f} µs of own time per request"]
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


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--requests", type=int, default=3000, help="requests timed, then profiled (default 3000)")
    p.add_argument("--top", type=int, default=30, help="rows in each hot-spot table")
    p.add_argument("--out", type=Path, default=OUT, help=f"report file (default {OUT.relative_to(ROOT)})")
    args = p.parse_args(argv)
    n = args.requests
    workdir = Path(tempfile.mkdtemp(prefix="posrefund-profile-"))
    try:
        env = app_env(workdir, generate_keys())
        migrate(env, workdir)
        username, sale_ids = seed(env, 2000)
        copy_database(workdir / "api.db", workdir / "raw.db")
        raw = raw_baseline(workdir / "raw.db", sale_ids, warmup=1.0, duration=5.0)

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
        app = create_app(deps, inline=True, token_minutes=settings.token_minutes, rate_limits=settings.rate_limits)
        actor = auth.login(deps, username, PASSWORD)
        token, _ = app.state.ctx.issue_token(actor)
        loop = asyncio.new_event_loop()
        try:
            driver = Driver(app, token, sale_ids, "p")
            loop.run_until_complete(driver.many(300))  # warm caches: statement cache, routes, pydantic

            # One timed pass, no profiler: the service call is timed inside each request by a thin wrapper,
            # so both numbers come from the same requests on the same database (it grows as the run goes).
            inside = ServiceTimer(refunds)
            start = time.perf_counter()
            with inside:
                loop.run_until_complete(driver.many(n))
            asgi_us = (time.perf_counter() - start) / n * 1e6
            service_us = inside.seconds / n * 1e6 if inside.calls == n else float("nan")

            profiler = cProfile.Profile()
            profiler.enable()
            loop.run_until_complete(driver.many(n))
            profiler.disable()
        finally:
            loop.close()
            bootstrap.engine_of(deps).dispose()

        raw_us = 1e6 / raw.per_second
        lines = [
            "posrefund: time per POST /v1/refunds, in-process, one request at a time (SQLite WAL, synchronous=FULL)",
            "",
            f"  raw sqlite3 transaction (4 statements, own loop)          {raw_us:8.0f} µs",
            f"  whole ASGI request (FastAPI app, no socket)               {asgi_us:8.0f} µs",
            f"    of which the service call refunds.request_refund_once   {service_us:8.0f} µs"
            f"   ({service_us - raw_us:+.0f} µs against raw)",
            f"    of which HTTP layer (middleware, routing, validation)   {asgi_us - service_us:8.0f} µs",
            f"  → at most {1e6 / asgi_us:,.0f} requests/s from one server process;"
            f" raw ceiling {raw.per_second:,.0f} tx/s",
            "",
        ]
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        lines.append(profile_report(stats, n, args.top))
        text = "\n".join(lines) + "\n"
        print(text)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"written to {args.out}")
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:
        log = workdir / "server.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
        print(f"profiling failed: {exc}\nlast lines of the app log:\n{tail}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(Exception):
            import logging

            logging.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
