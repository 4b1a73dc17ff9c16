"""One merchant's refunds on PostgreSQL do not queue on its audit chain: a refund's transaction writes its
events without taking a lock on the chain's head, so a transaction left open does not hold back the others;
the sequencer chains the events after commit, and until then they are listed all the same."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import Engine, text

from posrefund.adapters.db.repositories.audit import AuditSql, audit_fields
from posrefund.domain.events import CaseEvent
from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints.api.views import event_view
from posrefund.service import audit, refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.support.helpers import new_sale

HOST = Actor("cli", Role.AUDITOR, None, "host")


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only, never skipped: SQLite has one writer at a time by design, and its appends chain at once
    in the writer's own transaction, so there is nothing concurrent to see there."""
    return str(request.param)


def ask(deps: Deps, world: World, sale_id: str) -> str:
    request = RefundRequest(sale_id=sale_id, amount_fen=100, reason="customer_cancelled")
    return refunds.request_refund(deps, world.a.actors["cashier"], request).id


def locks_of(engine: Engine, pid: int) -> list[tuple[str, str | None, str]]:
    with engine.connect() as c:
        q = text("SELECT locktype, relation::regclass::text, mode FROM pg_locks WHERE pid = :pid AND granted")
        return [(str(r[0]), r[1], str(r[2])) for r in c.execute(q, {"pid": pid})]


def test_refunds_of_one_merchant_pass_a_transaction_left_open_on_its_chain(
    deps: Deps, world: World, engine: Engine
) -> None:
    sales = [new_sale(deps, world.a).id for _ in range(8)]
    event = CaseEvent("test.open", world.a.actors["admin"], datetime.now(UTC), None, None, "", {})
    with deps.uow() as holder:
        holder.audit.append(world.a.id, None, event)  # written, not committed: the old head row lock stays held
        pid = int(cast(AuditSql, holder.audit).c.execute(text("SELECT pg_backend_pid()")).scalar_one())
        held = locks_of(engine, pid)
        assert not [lock for lock in held if lock[0] in ("tuple", "advisory") or lock[1] == "audit_heads"], held
        with ThreadPoolExecutor(4) as pool:
            cases = list(pool.map(lambda s: ask(deps, world, s), sales, timeout=30))
        holder.commit()
    assert len(set(cases)) == 8
    deps.uow.chain_audit(wait=True)
    with deps.uow(readonly=True) as uow:
        rows = list(uow.audit.iter_chain(world.a.id))
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert sum(r["action"] == "refund.requested" for r in rows) == 8 and rows[-1]["hash"] is not None
    report = audit.verify(deps, HOST, audit_fields, full=True)
    with engine.connect() as c:
        assert (report.broken, report.checked) == (None, c.execute(text("SELECT count(*) FROM audit_events")).scalar())


def test_events_not_yet_chained_are_listed_at_once(deps: Deps, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deps.uow, "chain_after_commit", lambda _conn: None)  # as if another process were chaining
    case_id = ask(deps, world, new_sale(deps, world.a).id)
    views = [event_view(e) for e in refunds.case_events(deps, world.a.actors["auditor"], case_id)]
    assert [(v["action"], v["seq"], v["hash"]) for v in views] == [
        ("refund.requested", None, None),
        ("refund.auto_approved", None, None),
    ]
    deps.uow.chain_audit(wait=True)  # another worker's sequencer on the same database may chain them first
    chained = refunds.case_events(deps, world.a.actors["auditor"], case_id)
    assert [e["action"] for e in chained] == ["refund.requested", "refund.auto_approved"]
    assert chained[1]["seq"] == (chained[0]["seq"] or 0) + 1 and chained[1]["prev_hash"] == chained[0]["hash"]
