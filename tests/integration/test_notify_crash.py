"""A worker killed (SIGKILL) between sending a notification and recording it: after restart the message is
sent again with the SAME message id, so the gateway drops the repeat and the customer gets it once; the
notification ends ``sent`` with every attempt on record."""

from __future__ import annotations

import multiprocessing
import signal
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from posrefund.adapters.db import tables
from posrefund.bootstrap import engine_of
from posrefund.config import Settings
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import World
from tests.support.helpers import new_sale
from tests.support.notifications import gateway_server

CASES = 2  # four messages (accepted + approved each)
CTX = multiprocessing.get_context("forkserver")
# One fork server for the whole run: keep the channel crash harness preloaded too (see test_crash_safety.py).
CTX.set_forkserver_preload(["tests.integration.crash_harness", "tests.integration.notify_crash_harness"])


def child(conf: dict[str, Any], failpoints: str) -> int:
    from tests.integration import notify_crash_harness

    p = CTX.Process(target=notify_crash_harness.run, args=(conf, failpoints))
    p.start()
    p.join(timeout=60)
    assert p.exitcode is not None
    return p.exitcode


def leases_run_out(deps: Deps) -> None:
    """The send lease is real time in the children: make every claimed or waiting message due now."""
    with engine_of(deps).begin() as c:
        c.execute(
            update(tables.notifications)
            .where(tables.notifications.c.status.in_(("sending", "pending")))
            .values(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC))
        )


@pytest.mark.parametrize("failpoint", ["notify.after_send", "notify.before_record_commit"])
def test_killed_between_send_and_record(failpoint: str, deps: Deps, world: World, settings: Settings) -> None:
    for _ in range(CASES):
        sale = new_sale(deps, world.a, amount_fen=5_000)
        req = RefundRequest(sale.id, 1_000, "other", customer=CustomerInput(phone="13912345678"))
        refunds.request_refund(deps, world.a.actors["cashier"], req)
    with gateway_server() as gw:
        conf = {
            "db_url": settings.database_url,
            "secret_key": settings.secret_key,
            "pii_key": settings.pii_key,
            "data_dir": str(settings.data_dir),
            "gateway_url": gw.url,
        }
        kills = []
        for _ in range(2 * CASES):  # each child sends one message and dies before recording it
            kills.append(child(conf, f"{failpoint}=kill:1"))
            leases_run_out(deps)
        assert kills == [-signal.SIGKILL] * (2 * CASES)
        assert child(conf, "") == 0  # a clean worker finishes the job
        arrivals = [a.message_id for a in gw.arrivals]
    with engine_of(deps).connect() as c:
        notes = [dict(r._mapping) for r in c.execute(select(tables.notifications))]
        attempts = [dict(r._mapping) for r in c.execute(select(tables.notify_attempts))]
    assert len(notes) == 2 * CASES
    assert {n["status"] for n in notes} == {"sent"}
    # Every killed child had sent one message; the clean worker sent each message once more at most, always
    # under its own id — so the gateway delivered each exactly once.
    assert set(arrivals) == {n["message_id"] for n in notes}
    assert len(arrivals) == 2 * CASES + len(kills)
    assert len(gw.delivered) == 2 * CASES
    assert all(n["attempts"] == arrivals.count(n["message_id"]) for n in notes)
    assert len(attempts) == 2 * CASES  # only completed tries are recorded: one per message
