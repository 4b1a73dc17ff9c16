"""A flood of wrong sign-ins against a real ``posrefund serve``: does the server stay responsive, is the flood
slowed, and can the real user still sign in afterwards?

400 wrong sign-ins for the real user's account from 40 concurrent clients (one source address, 127.0.0.1),
while /healthz is asked every 20 ms from another address; then the real user signs in from their own
address (127.0.0.2), and from the flooding address once its ``Retry-After`` has passed. Two scenarios:

- ``limits``: the production defaults (config.RateLimits): the progressive delay per address turns most of
  the flood into quick 429s;
- ``no-limits``: every rate limit off, so all 400 reach Argon2 (real cost): this shows the checks running
  off the event loop on the bounded pool (503 ``server.busy`` when its waiting room is full).

It also measures the mean time of a sign-in for an unknown user and for a wrong password (interleaved, each
from a fresh address so that no delay applies). Run ``.venv/bin/python bench/signin_flood.py``; results go to
bench/results/signin_flood.json. ``--src`` runs another checkout's code (e.g. the main branch's src/).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "signin_flood.json"
PASSWORD = "bench-real-user-2026"
TOKEN = "/v1/auth/token"
NO_LIMITS = {
    f"POSREFUND_RATE_LIMITS__{name}": ""
    for name in ("SIGNIN_PER_IP", "SIGNIN_PER_ACCOUNT", "API_PER_KEY", "API_PER_USER", "TRACKING_PER_TOKEN")
} | {"POSREFUND_RATE_LIMITS__SIGNIN_FREE_ATTEMPTS": "1000000"}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def cli(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "posrefund.entrypoints.cli.main", *args]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"posrefund {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return out.stdout


def prepare(workdir: Path, src: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": src, "POSREFUND_DATABASE_URL": f"sqlite:///{workdir}/bench.db"}
    env |= {"POSREFUND_DATA_DIR": str(workdir / "data"), "POSREFUND_LOG_FILE": str(workdir / "posrefund.log")}
    for line in cli(env, "keys", "generate").splitlines():
        name, _, value = line.partition("=")
        if name.startswith("POSREFUND_"):
            env[name.strip()] = value.strip()
    cli(env, "db", "upgrade")
    cli(env, "merchant", "create", "--code", "FLOOD", "--name", "bench")
    for name in ("real_user", "timing_user"):  # real Argon2 cost (the CLI's hasher)
        cli(env, "user", "create", "-m", "FLOOD", "--username", name, "--role", "cashier", "--password", PASSWORD)
    return env


def client(port: int, source: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source, limits=httpx.Limits(max_connections=100))
    return httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{port}", timeout=60.0)


async def sign_in(c: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await c.post(TOKEN, json={"username": username, "password": password})


def probe_healthz(port: int, done: Any, results: Any) -> None:
    """/healthz every 20 ms from its own process (the flooding clients' CPU does not delay it) and its own
    address; each latency is counted from when the call was due, so a stalled server cannot hide."""
    took: list[float] = []
    transport = httpx.HTTPTransport(local_address="127.0.0.3")
    with httpx.Client(transport=transport, base_url=f"http://127.0.0.1:{port}", timeout=60.0) as c:
        while not done.is_set():
            due = time.perf_counter() + 0.02
            time.sleep(0.02)
            assert c.get("/healthz").status_code == 200
            took.append(time.perf_counter() - due)
    results.put(took)


async def flood(port: int, total: int, concurrency: int) -> dict[str, Any]:
    answers: list[httpx.Response] = []
    queue = iter(range(total))

    async def attacker(c: httpx.AsyncClient) -> None:
        for i in queue:
            answers.append(await sign_in(c, "real_user", f"wrong-guess-{i}"))

    async with client(port, "127.0.0.1") as bad:
        done = multiprocessing.Event()
        results: multiprocessing.SimpleQueue[list[float]] = multiprocessing.SimpleQueue()
        probe = multiprocessing.Process(target=probe_healthz, args=(port, done, results))
        probe.start()
        time.sleep(0.5)
        started = time.perf_counter()
        await asyncio.gather(*(attacker(bad) for _ in range(concurrency)))
        took = time.perf_counter() - started
        done.set()
        health = results.get()
        probe.join()
        statuses = Counter(r.status_code for r in answers)
        with_retry_after = sum(1 for r in answers if r.status_code in (429, 503) and r.headers.get("retry-after"))
        async with client(port, "127.0.0.2") as own:
            real_elsewhere = (await sign_in(own, "real_user", PASSWORD)).status_code
        again = await sign_in(bad, "real_user", PASSWORD)
        wait = int(again.headers.get("retry-after", "0")) if again.status_code == 429 else 0
        if wait:
            await asyncio.sleep(wait + 0.2)
            again = await sign_in(bad, "real_user", PASSWORD)
    return {
        "flood_seconds": round(took, 2),
        "statuses": dict(sorted(statuses.items())),
        "refusals_with_retry_after": with_retry_after,
        "healthz_ms": {"n": len(health), **{f"p{p}": round(pct(health, p) * 1000, 1) for p in (50, 99)}},
        "healthz_max_ms": round(max(health, default=0) * 1000, 1),
        "real_user_from_own_address": real_elsewhere,
        "real_user_from_flood_address_waited_s": wait,
        "real_user_from_flood_address": again.status_code,
    }


async def timing(port: int, rounds: int) -> dict[str, float]:
    unknown: list[float] = []
    wrong: list[float] = []
    for i in range(rounds):
        pair = [(unknown, f"nobody-{i}"), (wrong, "timing_user")]
        for bucket, username in pair if i % 2 else reversed(pair):  # alternate which goes first
            async with client(port, f"127.0.1.{10 + len(unknown) + len(wrong)}") as c:
                started = time.perf_counter()
                r = await sign_in(c, username, "wrong-password")
                bucket.append(time.perf_counter() - started)
                assert r.status_code == 401, r.text
    return {
        "unknown_user_mean_ms": round(statistics.mean(unknown) * 1000, 1),
        "wrong_password_mean_ms": round(statistics.mean(wrong) * 1000, 1),
    }


async def healthz_alone(port: int, n: int = 100) -> dict[str, float]:
    took = []
    async with client(port, "127.0.0.3") as c:
        for _ in range(n):
            started = time.perf_counter()
            await c.get("/healthz")
            took.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)
    return {f"p{p}": round(pct(took, p) * 1000, 1) for p in (50, 99)}


def run_scenario(name: str, src: str, total: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="signin-flood-") as tmp:
        env = prepare(Path(tmp), src) | (NO_LIMITS if name == "no-limits" else {})
        port = 18000 + os.getpid() % 1000
        server = subprocess.Popen(
            [sys.executable, "-m", "posrefund.entrypoints.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            result = {"scenario": name, "healthz_idle_ms": asyncio.run(healthz_alone(port))}
            result |= asyncio.run(flood(port, total, concurrency))
            if name == "limits":
                result |= asyncio.run(timing(port, 15))
            return result
        finally:
            server.terminate()
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--total", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--src", default=str(ROOT / "src"), help="the posrefund sources to serve")
    parser.add_argument("--scenario", choices=("limits", "no-limits", "both"), default="both")
    args = parser.parse_args()
    names = ("limits", "no-limits") if args.scenario == "both" else (args.scenario,)
    results = [run_scenario(name, args.src, args.total, args.concurrency) for name in names]
    print(json.dumps(results, indent=2))
    if args.src == str(ROOT / "src"):
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
