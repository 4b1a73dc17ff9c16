"""The fleet: exactly once with many workers, proven with real processes.

Three ``posrefund worker`` processes (the CLI, configured only by the environment and a real channels file that
points at the simulators) execute 500 refunds over WeChat Pay, Alipay and the card host while 30 % of the refunds
meet a fault — among them answers slower than the worker's lease and a host that undoes a refund on its own —
and 20 times a random worker is killed with SIGKILL and started again. Time is sped up only for what the worker
schedules to look at later (its query back-off), never for the lease. When nothing is left in flight, every
refund is held against the simulator's ledger: the same facts on both sides, nothing executed twice, no success
the host never executed, nothing left processing, and every sale's refunded sum the sum of its successes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from posrefund.adapters.crypto import generate_key_spec
from posrefund.adapters.db import tables
from posrefund.config import Settings
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from posrefund.simulators.alipay.server import AlipaySimulator
from posrefund.simulators.common.ledger import KeepsBooks
from posrefund.simulators.wechatpay.server import WeChatPaySimulator
from tests.conftest import World
from tests.fleet.card import CardHost, start_card_host
from tests.fleet.channels import channels_file
from tests.support.helpers import new_sale

REFUNDS, WORKERS, KILLS = 500, 3, 20
FAULT_SHARE = 0.3
ANSWER_TIMEOUT = 2.0  # what the adapters wait for one answer
# The worker's lease is the adapter's longest call (the card: timeout × (1 + 3 resends + 3 reversals) = 14 s)
# plus a 10 s margin: an answer 40 s late comes after the lease ran out, to a call that gave up long before.
LEASE_SECONDS = 24
SLOWER_THAN_LEASE = LEASE_SECONDS + 16.0
# The refunds answered slower than the lease: one per channel (i % 3), spread over the run so that they never hold
# every worker at once (another worker must be free to take the case over when the lease runs out).
SLOW_AT = (60, 200, 340)
SETTLE_WITHIN = 150.0  # seconds after the refunds are handed over until nothing may be in flight
CHANNELS = ("wechat", "alipay", "card")
# The faults drawn for the other refunds, 30 % of them: (canonical name, switches).
FAULTS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "wechat": [
        ("no_answer_after_accept", {}),
        ("system_error", {"applied": True}),
        ("system_error", {"applied": False}),
        ("decline", {"code": "NOT_ENOUGH"}),
        ("processing", {"times": 2}),
        ("host_reversal", {}),
        ("duplicate_callback", {}),
    ],
    "alipay": [
        ("no_answer_after_accept", {}),
        ("system_error", {"applied": True}),
        ("system_error", {"applied": False}),
        ("decline", {}),
        ("processing", {"times": 2}),
    ],
    "card": [
        ("no_answer_after_accept", {}),
        ("system_error", {}),  # 96 to a 退货: nothing moved, yet no enquiry may ask: unknown until the file says
        ("decline", {}),
        ("host_reversal", {}),  # executed, the answer lost, undone by the host: the resend executes it once
        ("bad_response_mac", {}),
    ],
}
IN_FLIGHT = ("approved", "processing")


@dataclass
class Fleet:
    """The simulators, the worker processes and the channels file that joins them."""

    wechat: WeChatPaySimulator
    alipay: AlipaySimulator
    card: CardHost
    env: dict[str, str]
    logs: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started: int = 0

    def spawn(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.logs / f"worker-{self.started}.log").open("wb")
        cmd = [sys.executable, "-m", "posrefund.entrypoints.cli.main", "worker", "--poll", "0.2"]
        return subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def books(self, channel: str) -> KeepsBooks:
        """The simulator of a channel, by the face every simulator shares (faults, ledger)."""
        sims: dict[str, KeepsBooks] = {"wechat": self.wechat, "alipay": self.alipay, "card": self.card.simulator}
        return sims[channel]


@pytest.fixture
def fleet(settings: Settings, tmp_path: Path) -> Iterator[Fleet]:
    wechat = WeChatPaySimulator(settle_after=1.0, processing_queries=1, hang_seconds=1.0)
    alipay = AlipaySimulator(settle_after=1.0, processing_queries=1, hang_seconds=1.0, min_gap_same_trade=0.0)
    wechat.start()
    alipay.start()
    card = start_card_host(ANSWER_TIMEOUT, SLOWER_THAN_LEASE)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("POSREFUND_")},
        "POSREFUND_DATABASE_URL": settings.database_url,
        "POSREFUND_SECRET_KEY": settings.secret_key,
        "POSREFUND_PII_KEY": settings.pii_key,
        "POSREFUND_AUDIT_KEY": generate_key_spec("a1"),
        "POSREFUND_DATA_DIR": str(settings.data_dir),
        "POSREFUND_LOG_FILE": str(tmp_path / "worker.log"),
        "POSREFUND_CHANNELS_FILE": str(channels_file(tmp_path, wechat, alipay, card.section, ANSWER_TIMEOUT)),
    }
    fleet = Fleet(wechat, alipay, card, env, tmp_path)
    yield fleet
    for proc in fleet.procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    for stop in (wechat.stop, alipay.stop, card.simulator.stop):
        stop()


def _hand_over(deps: Deps, world: World, fleet: Fleet, rng: random.Random) -> dict[str, tuple[str, str, str]]:
    """500 refunds over the three channels, registered with their simulators, 30 % with a planned fault.
    Returns refund_no -> (channel, sale id, fault)."""
    cashier = world.a.actors["cashier"]
    handed: dict[str, tuple[str, str, str]] = {}
    for i in range(REFUNDS):
        channel = CHANNELS[i % 3]
        extra = fleet.card.sale_fields(i) if channel == "card" else {"payer_masked": "o***ab"}
        sale = new_sale(deps, world.a, channel=channel, amount_fen=10_000, **extra)
        if channel == "wechat":
            fleet.wechat.add_payment(sale.order_no, sale.amount_fen, paid_at=sale.paid_at)
        elif channel == "alipay":
            fleet.alipay.add_payment(sale.order_no, sale.amount_fen, paid_at=sale.paid_at)
        else:
            fleet.card.register(sale)
        case = refunds.request_refund(deps, cashier, RefundRequest(sale.id, 6_000, "other"))
        fault, switches = "", dict[str, Any]()
        if i in SLOW_AT:
            fault, switches = "latency", {"seconds": SLOWER_THAN_LEASE}
        elif rng.random() < FAULT_SHARE:
            fault, switches = rng.choice(FAULTS[channel])
        key = fleet.card.remember(case.refund_no, sale, case.amount_fen) if channel == "card" else case.refund_no
        if fault:
            fleet.books(channel).set_fault(key, fault, **switches)
        handed[case.refund_no] = (channel, sale.id, fault)
    return handed


def _speed_up_backoff(engine: Engine, stop: threading.Event) -> None:
    """Time passes faster for what the workers look at later: a case due after more than a lease is due now.
    A lease that is running (an attempt not finished, its lease not over) is never shortened."""
    r, a = tables.refunds, tables.refund_attempts
    while not stop.wait(1.0):
        now = datetime.now(UTC)
        running = select(a.c.id).where(a.c.case_id == r.c.id, a.c.finished_at.is_(None), a.c.lease_until > now)
        with engine.begin() as c:
            c.execute(
                update(r)
                .where(r.c.status == "processing", r.c.next_check_at > now + timedelta(seconds=LEASE_SECONDS + 1))
                .where(~running.exists())
                .values(next_check_at=now)
            )


def _in_flight(engine: Engine) -> int:
    r = tables.refunds
    with engine.connect() as c:
        return len(c.execute(select(r.c.id).where(r.c.status.in_(IN_FLIGHT))).all())


def _run_fleet(fleet: Fleet, engine: Engine, rng: random.Random) -> dict[str, Any]:
    """Workers run while 20 of them are killed (and replaced) at random; then until nothing is in flight."""
    fleet.procs = [fleet.spawn() for _ in range(WORKERS)]
    stop = threading.Event()
    pacer = threading.Thread(target=_speed_up_backoff, args=(engine, stop), daemon=True)
    pacer.start()
    began = time.monotonic()
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(1.0, 3.5))
            slot = rng.randrange(WORKERS)
            fleet.procs[slot].send_signal(signal.SIGKILL)
            fleet.procs[slot].wait(timeout=10)
            fleet.procs[slot] = fleet.spawn()
        deadline = time.monotonic() + SETTLE_WITHIN
        while _in_flight(engine) and time.monotonic() < deadline:
            time.sleep(1.0)
    finally:
        stop.set()
        pacer.join(timeout=5)
        for proc in fleet.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in fleet.procs:
            try:
                proc.wait(timeout=ANSWER_TIMEOUT + 5)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {"seconds": round(time.monotonic() - began, 1), "workers_started": fleet.started}


def _disagreements(engine: Engine, fleet: Fleet, handed: dict[str, tuple[str, str, str]]) -> dict[str, list[Any]]:
    """Every way posrefund and the simulators' ledgers disagree, by kind (empty lists: none)."""
    r, s = tables.refunds, tables.sales
    with engine.connect() as c:
        ours = {row.refund_no: row for row in c.execute(select(r.c.refund_no, r.c.status, r.c.amount_fen, r.c.sale_id))}
        sold = {row.id: row for row in c.execute(select(s.c.id, s.c.refunded_fen, s.c.reserved_fen))}
    found: dict[str, list[Any]] = {
        k: [] for k in ("in_flight", "twice", "success_not_executed", "executed_not_ours", "amount", "sums")
    }
    rows: dict[str, list[dict[str, Any]]] = fleet.card.rows_by_refund()
    for channel in ("wechat", "alipay"):
        for row in fleet.books(channel).ledger():
            rows.setdefault(str(row["refund_no"]), []).append(row)
    for no, (channel, sale_id, fault) in handed.items():
        case, mine = ours[no], rows.get(no, [])
        executed = [row for row in mine if row["executed"]]
        if case.status in IN_FLIGHT:
            found["in_flight"].append((no, channel, fault, case.status))
        # One row per refund number on a wallet; the card host has one row per message (terminal:batch:trace), so
        # a refund sent again after the host undid it has two rows, one of them executed.
        if len(executed) > 1 or (channel != "card" and len(mine) > 1):
            found["twice"].append((no, channel, fault, mine))
        if case.status == "succeeded" and not executed:
            found["success_not_executed"].append((no, channel, fault, mine))
        if executed and case.status not in ("succeeded", "abnormal", "unknown"):
            found["executed_not_ours"].append((no, channel, fault, case.status))
        if any(row["amount_fen"] != case.amount_fen for row in mine):
            found["amount"].append((no, channel, mine))
        # A success moves the reserved amount into the refunded one; closed gives it back; failed, abnormal and
        # unknown keep it reserved for the person who decides.
        sale, amount = sold[sale_id], case.amount_fen
        want = {"succeeded": (amount, 0), "closed": (0, 0)}.get(case.status, (0, amount))
        if (sale.refunded_fen, sale.reserved_fen) != want:
            found["sums"].append((no, channel, fault, case.status, sale.refunded_fen, sale.reserved_fen))
    return found


def test_many_workers_killed_at_random_still_refund_each_number_exactly_once(
    deps: Deps, world: World, fleet: Fleet, engine: Engine, backend: str
) -> None:
    rng = random.Random(13)
    handed = _hand_over(deps, world, fleet, rng)
    ran = _run_fleet(fleet, engine, rng)
    found = _disagreements(engine, fleet, handed)
    faulted = sum(1 for _, _, fault in handed.values() if fault)
    resent = sum(1 for ch in CHANNELS for row in fleet.books(ch).ledger() if (row["requests"] or 0) > 1)
    print(f"fleet on {backend}: {ran}, {faulted} faulted of {len(handed)}, {resent} sent more than once")
    (fleet.logs / "disagreements.json").write_text(json.dumps(found, default=str, indent=1), encoding="utf-8")
    assert {kind: cases for kind, cases in found.items() if cases} == {}
