"""Refunds per second end to end — API → worker → channel simulator → final status — against raw transactions.

What runs, all on 127.0.0.1, in one temporary folder removed at the end (``--keep`` keeps it):

* ``posrefund serve`` (one process): takes the refund requests (auto-approved by policy) and the simulator's
  signed callbacks that make them final;
* two ``posrefund worker`` processes (``--threads``, ``--poll``): each sweeps the refunds table and calls the
  channel from its thread pool;
* ``posrefund simulate wechatpay`` (its own process): WeChat Pay's refund API, refunds settle after
  ``--settle-after`` seconds and are notified to the API, with ``--fault-rate`` transient faults;
* this script: posts one refund per sale (WeChat Pay wants 60 s between refunds of one order), then reads the
  database until every case is final.

Reported, per scenario: refunds/s = cases / (last final − first created), the ratio to the raw database
transaction rate measured in the same run (bench/refund_api.py's raw loop: the least a durable refund costs),
and approval → first channel call (``sent_at − created_at``; auto-approved, so approval is creation) at p50 and
p99, at full speed (a queue builds: the feed outruns the workers) and paced at ``--pace-share`` (0.8) of it.
Scenarios: no faults; 30 % transient faults (system_error and http_500, executed behind the error or not, and
processing for ``--processing-seconds`` before WeChat finishes the refund and notifies it) under the channels'
real rules: a refund WeChat took is first queried a minute later; an answer that told nothing is followed
within seconds, as WeChat says (service/pacing.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from refund_api import (
    HOST,
    BenchError,
    app_env,
    child,
    copy_database,
    free_port,
    generate_keys,
    git_commit,
    http_json,
    in_workdir,
    migrate,
    percentile,
    raw_loop,
    read_status,
    refund_request,
    seed,
    sign_in,
    summarise_raw,
    venv_bin,
    wait_until_up,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "channels.json"
TRANSIENT_FAULTS = ("system_error", "http_500", "processing")
TARGET_LATENCY_S = {"p50": 1.0, "p99": 5.0}
FINAL = ("succeeded", "failed", "abnormal", "closed", "rejected")


@dataclass
class Scenario:
    name: str
    fault_rate: float


@dataclass
class Outcome:
    """One scenario's figures."""

    name: str
    fault_rate: float
    rules: str
    cases: int
    final: int
    statuses: dict[str, int]
    seconds: float
    refunds_per_s: float  # every case final: the slowest retry's waits included
    refunds_per_s_95: float  # the first 95 % of the cases final: the rate before the retry tail
    feed_per_s: float
    first_call_p50_s: float
    first_call_p99_s: float
    paced: dict[str, float] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------------------------
# the processes


def channels_toml(workdir: Path, sim_port: int, api_port: int, scenario: Scenario, threads: int) -> Path:
    """The channels file both the API (callback keys) and the workers (adapter, limits) read."""
    _status, creds = http_json(f"http://{HOST}:{sim_port}/__sim__/credentials")
    for key in ("merchant_private_key", "platform_public_key", "apiv3_key"):
        (workdir / f"{key}.txt").write_text(str(creds[key]), encoding="utf-8")
    lines = [
        "[wechat]",
        f'mchid = "{creds["mchid"]}"',
        f'merchant_serial_no = "{creds["merchant_serial_no"]}"',
        f'platform_public_key_id = "{creds["platform_public_key_id"]}"',
        'merchant_private_key_file = "merchant_private_key.txt"',
        'platform_public_key_file = "platform_public_key.txt"',
        'apiv3_key_file = "apiv3_key.txt"',
        f'base_url = "http://{HOST}:{sim_port}"',
        f'notify_url = "http://{HOST}:{api_port}/v1/callbacks/wechatpay"',
        "timeout = 5",
        f"max_in_flight = {threads}",
        "calls_per_second = 150",  # WeChat Pay's own limit per merchant (each worker process counts its own)
    ]
    path = workdir / "channels.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def pipeline(
    env: dict[str, str], workdir: Path, scenario: Scenario, args: argparse.Namespace
) -> Iterator[tuple[int, str]]:
    """Simulator, API and two workers running; yields the API port and a signed-in token."""
    sim_port, api_port = free_port(), free_port()
    sim_cmd = [venv_bin("posrefund"), "simulate", "wechatpay", "--port", str(sim_port), "--accept-unknown-orders"]
    sim_cmd += [
        "--settle-after",
        str(args.settle_after),
        "--notify-url",
        f"http://{HOST}:{api_port}/v1/callbacks/wechatpay",
    ]
    if scenario.fault_rate:
        sim_cmd += ["--fault-rate", str(scenario.fault_rate), "--seed", "7"]
        sim_cmd += ["--processing-seconds", str(args.processing_seconds)]
        for name in TRANSIENT_FAULTS:
            sim_cmd += ["--rate-fault", name]
    with contextlib.ExitStack() as stack:
        sim_out = stack.enter_context(open(workdir / "simulator.out", "wb"))
        sim = stack.enter_context(child(sim_cmd, env=env, stdout=sim_out, stderr=subprocess.STDOUT))
        wait_until_up(sim, sim_port, workdir / "simulator.out", path="/__sim__/credentials")
        env = {
            **env,
            "POSREFUND_CHANNELS_FILE": str(channels_toml(workdir, sim_port, api_port, scenario, args.threads)),
        }
        api_out = stack.enter_context(open(workdir / "server.out", "wb"))
        serve = [venv_bin("posrefund"), "serve", "--host", HOST, "--port", str(api_port)]
        api = stack.enter_context(child(serve, env=env, stdout=api_out, stderr=subprocess.STDOUT))
        wait_until_up(api, api_port, workdir / "server.out")
        for i in range(args.workers):
            wenv = {**env, "POSREFUND_LOG_FILE": str(workdir / f"worker{i}.log")}
            out = stack.enter_context(open(workdir / f"worker{i}.out", "wb"))
            cmd = [venv_bin("posrefund"), "worker", "--threads", str(args.threads), "--poll", str(args.poll)]
            stack.enter_context(child(cmd, env=wenv, stdout=out, stderr=subprocess.STDOUT))
        yield api_port, sign_in(api_port, args.username)


# ----------------------------------------------------------------------------------------------------------------
# the feeder: one refund per sale, as fast as allowed or at a given pace


async def _post_all(port: int, token: str, sale_ids: Sequence[str], connections: int, pace: float) -> dict[int, int]:
    """POST /v1/refunds once per sale over keep-alive connections; ``pace`` > 0 spreads them at that rate."""
    todo = list(enumerate(sale_ids))
    statuses: dict[int, int] = {}
    start = time.perf_counter()

    async def client() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while todo:
                i, sale_id = todo.pop(0)
                if pace > 0:
                    await asyncio.sleep(max(0.0, start + i / pace - time.perf_counter()))
                writer.write(refund_request(port, token, sale_id, f"chan-{sale_id}"))
                code = await read_status(reader, timeout=60)
                statuses[code] = statuses.get(code, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    return statuses


def feed(port: int, token: str, sale_ids: Sequence[str], connections: int, pace: float = 0.0) -> float:
    """Returns requests per second; any answer but 201 stops the run (it would be a set-up fault)."""
    t0 = time.perf_counter()
    statuses = asyncio.run(_post_all(port, token, sale_ids, connections, pace))
    if set(statuses) != {201}:
        raise BenchError(f"refund requests answered {statuses}, expected only 201")
    return len(sale_ids) / (time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------------------------------
# reading the outcome from the database


def _moment(value: object) -> float:
    at = datetime.fromisoformat(str(value))
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def cases_of(db: Path, sale_ids: Sequence[str]) -> list[tuple[str, float, float | None, float]]:
    """(status, created, sent, updated) of the refunds of these sales."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        conn.execute("PRAGMA busy_timeout=30000")
        marks = ",".join("?" * len(sale_ids))
        rows = conn.execute(
            f"SELECT status, created_at, sent_at, updated_at FROM refunds WHERE sale_id IN ({marks})",
            list(sale_ids),
        ).fetchall()
    return [(r[0], _moment(r[1]), _moment(r[2]) if r[2] else None, _moment(r[3])) for r in rows]


def wait_final(db: Path, sale_ids: Sequence[str], timeout: float) -> list[tuple[str, float, float | None, float]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = cases_of(db, sale_ids)
        if (len(rows) == len(sale_ids) and all(r[0] in FINAL for r in rows)) or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


def first_call_latencies(rows: Sequence[tuple[str, float, float | None, float]]) -> list[float]:
    return sorted(sent - created for _s, created, sent, _u in rows if sent is not None)


def summarise(scenario: Scenario, rows: Sequence[tuple[str, float, float | None, float]], feed_rate: float) -> Outcome:
    final = [r for r in rows if r[0] in FINAL]
    start = min(r[1] for r in rows)
    seconds = (max(r[3] for r in final) - start) if final else 0.0
    ends = sorted(r[3] for r in final)
    n95 = int(0.95 * len(rows))
    seconds_95 = ends[n95 - 1] - start if len(ends) >= n95 > 0 else 0.0
    counts: dict[str, int] = {}
    for r in rows:
        counts[r[0]] = counts.get(r[0], 0) + 1
    lat = first_call_latencies(rows)
    rules = "the channel's real rules: first query ≥ 60 s after a refund, early looks after errors 2/5/15 s"
    return Outcome(
        name=scenario.name,
        fault_rate=scenario.fault_rate,
        rules=rules,
        cases=len(rows),
        final=len(final),
        statuses=counts,
        seconds=round(seconds, 2),
        refunds_per_s=round(len(final) / seconds, 1) if seconds else 0.0,
        refunds_per_s_95=round(n95 / seconds_95, 1) if seconds_95 else 0.0,
        feed_per_s=round(feed_rate, 1),
        first_call_p50_s=round(percentile(lat, 50), 3),
        first_call_p99_s=round(percentile(lat, 99), 3),
    )


def run_scenario(
    env: dict[str, str],
    workdir: Path,
    seeded: Path,
    sale_ids: Sequence[str],
    scenario: Scenario,
    args: argparse.Namespace,
) -> Outcome:
    """A fresh copy of the seeded database, the processes, a full-speed batch, then (optionally) a paced one."""
    db = workdir / "api.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    copy_database(seeded, db)
    burst, paced = sale_ids[: args.cases], sale_ids[args.cases :]
    print(f"{scenario.name}: {len(burst)} refunds at full speed …", file=sys.stderr)
    with pipeline(env, workdir, scenario, args) as (port, token):
        rate = feed(port, token, burst, args.connections)
        outcome = summarise(scenario, wait_final(db, burst, args.timeout), rate)
        if args.paced and not scenario.fault_rate and outcome.refunds_per_s:
            pace = outcome.refunds_per_s * args.pace_share
            n = min(len(paced), int(pace * args.paced))
            print(f"{scenario.name}: {n} refunds paced at {pace:.0f}/s …", file=sys.stderr)
            feed(port, token, paced[:n], min(args.connections, 8), pace)
            lat = first_call_latencies(wait_final(db, paced[:n], args.timeout))
            outcome.paced = {
                "per_s": round(pace, 1),
                "cases": n,
                "first_call_p50_s": round(percentile(lat, 50), 3),
                "first_call_p99_s": round(percentile(lat, 99), 3),
            }
    return outcome


# ----------------------------------------------------------------------------------------------------------------
# report


def report(outcomes: Sequence[Outcome], raw_tps: float, meta: dict[str, Any], out_path: Path) -> None:
    """Print the table and write the same numbers as JSON."""
    free = next((o for o in outcomes if not o.fault_rate), None)
    doc: dict[str, Any] = {"raw_tps": round(raw_tps, 1), "scenarios": [], **meta}
    print(f"\nposrefund channel benchmark — {meta['workers']} workers × {meta['threads']} threads, SQLite")
    print("-" * 100)
    print(f"{'raw sqlite3 tx/s (same run)':<44}{raw_tps:,.1f}")
    for o in outcomes:
        ratio = o.refunds_per_s / raw_tps if raw_tps else 0.0
        entry = {**asdict(o), "ratio_to_raw": round(ratio, 4)}
        if free is not None and o is not free and free.refunds_per_s:
            entry["share_of_fault_free"] = round(o.refunds_per_s / free.refunds_per_s, 3)
            entry["share_of_fault_free_95"] = round(o.refunds_per_s_95 / free.refunds_per_s_95, 3)
        doc["scenarios"].append(entry)
        print(f"{o.name} — {o.rules}")
        print(f"  {'refunds/s end to end':<42}{o.refunds_per_s:,.1f}  ({o.final}/{o.cases} final in {o.seconds} s)")
        print(f"  {'refunds/s until 95 % final':<42}{o.refunds_per_s_95:,.1f}")
        print(f"  {'ratio to raw tx/s':<42}{ratio:.4f}")
        if "share_of_fault_free" in entry:
            shares = f"{entry['share_of_fault_free']:.3f} / {entry['share_of_fault_free_95']:.3f}"
            print(f"  {'share of the fault-free rate (all / 95 %)':<42}{shares}  (target ≥ 0.5)")
        print(f"  {'approval → first call p50 / p99 (s)':<42}{o.first_call_p50_s:.3f} / {o.first_call_p99_s:.3f}")
        if o.paced:
            p = o.paced
            met = p["first_call_p50_s"] < TARGET_LATENCY_S["p50"] and p["first_call_p99_s"] < TARGET_LATENCY_S["p99"]
            print(
                f"  {'… paced at ' + format(p['per_s'], '.0f') + '/s: p50 / p99 (s)':<42}"
                f"{p['first_call_p50_s']:.3f} / {p['first_call_p99_s']:.3f}  "
                f"(target < 1 / < 5: {'met' if met else 'NOT met'})"
            )
        print(f"  {'statuses':<42}{o.statuses}  (requests fed at {o.feed_per_s:,.1f}/s)")
    print("-" * 100)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {out_path.relative_to(ROOT) if out_path.is_relative_to(ROOT) else out_path}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--cases", type=int, default=2000, help="refunds at full speed per scenario (default 2000)")
    p.add_argument("--paced", type=float, default=15.0, help="seconds of paced refunds for the latency (0: none)")
    p.add_argument(
        "--pace-share", type=float, default=0.8, help="the paced feed's rate as a share of the fault-free rate"
    )
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--threads", type=int, default=16, help="threads per worker (default 16)")
    p.add_argument("--poll", type=float, default=0.2, help="worker poll interval in seconds (default 0.2)")
    p.add_argument("--connections", type=int, default=16, help="concurrent clients posting refunds (default 16)")
    p.add_argument("--settle-after", type=float, default=0.5, help="simulator: seconds until a refund is final")
    p.add_argument("--fault-rate", type=float, default=0.3, help="share of refunds given a transient fault")
    p.add_argument("--processing-seconds", type=float, default=3.0, help="simulator: how long a processing fault lasts")
    p.add_argument("--timeout", type=float, default=600.0, help="longest wait for a scenario's cases to be final")
    p.add_argument("--raw-seconds", type=float, default=10.0, help="raw transaction loop, in two halves")
    p.add_argument("--only", choices=("clean", "faults"), action="append", help="run only these scenarios")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, logs)")
    return p.parse_args(argv)


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    every = {
        "clean": Scenario("no faults", 0.0),
        "faults": Scenario(f"{args.fault_rate:.0%} transient faults", args.fault_rate),
    }
    return [every[name] for name in (args.only or list(every))]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="posrefund-bench-channels-"))
    return in_workdir(workdir, args.keep, lambda: _measure(args, workdir, load_before))


def _measure(args: argparse.Namespace, workdir: Path, load_before: float) -> None:
    """Keys, schema, one seeded database; raw half, the scenarios (each on a fresh copy), raw half; the report."""
    env = app_env(workdir, generate_keys())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH", "")]))
    migrate(env, workdir)
    n_sales = args.cases + int(args.paced * 400) + 10
    args.username, sale_ids = seed(env, n_sales)
    seeded = workdir / "seeded.db"
    copy_database(workdir / "api.db", seeded)
    copy_database(seeded, workdir / "raw.db")
    half = args.raw_seconds / 2
    raw_halves = [raw_loop(workdir / "raw.db", sale_ids, 1.0, half)]
    outcomes = [run_scenario(env, workdir, seeded, sale_ids, s, args) for s in scenarios(args)]
    raw_halves.append(raw_loop(workdir / "raw.db", sale_ids, 1.0, half))
    raw = summarise_raw(raw_halves)
    meta = {
        "workers": args.workers,
        "threads": args.threads,
        "poll_s": args.poll,
        "settle_after_s": args.settle_after,
        "transient_faults": list(TRANSIENT_FAULTS),
        "raw_tps_halves": [round(len(h.latencies) / h.seconds, 1) for h in raw_halves],
        "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
        "sqlite_version": sqlite3.sqlite_version,
        "commit": git_commit(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report(outcomes, raw.per_second, meta, args.out)


if __name__ == "__main__":
    sys.exit(main())
