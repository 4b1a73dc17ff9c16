"""An audit trail that cannot be cut short: every tamper an attacker with write access to the database (but not
the checkpoint key) can make is named by ``posrefund audit verify`` at its first bad position, exit status 1.

The chain under test has ten events and checkpoints at 3, 6, 9 and 10, each taken by an ``audit verify`` run.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, update
from typer.testing import CliRunner

from posrefund import bootstrap
from posrefund.adapters.crypto import generate_key_spec
from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.audit import audit_fields
from posrefund.adapters.passwords import Argon2Hasher
from posrefund.config import Settings
from posrefund.domain.audit import GENESIS, chain_hash, sign_checkpoint
from posrefund.domain.events import CaseEvent
from posrefund.domain.roles import Actor, Role
from posrefund.entrypoints import worker
from posrefund.entrypoints.cli.main import app
from posrefund.service.deps import Deps

runner = CliRunner()
CHAIN = "mch_audited"
KEY = generate_key_spec("a1")
ACTOR = Actor(id="usr_1", role=Role.ADMIN, merchant_id=CHAIN, name="boss")
E, H, C = tables.audit_events, tables.audit_heads, tables.audit_checkpoints


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("POSREFUND_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("POSREFUND_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("POSREFUND_PII_KEY", settings.pii_key)
    monkeypatch.setenv("POSREFUND_AUDIT_KEY", KEY)
    monkeypatch.setenv("POSREFUND_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("POSREFUND_LOG_FILE", str(settings.log_file))
    return settings


def append(deps: Deps, first: int, count: int) -> None:
    events = [
        CaseEvent(f"test.step{i}", ACTOR, deps.clock.now(), None, None, f"step {i}", {"n": i})
        for i in range(first, first + count)
    ]
    with deps.uow() as uow:
        uow.audit.append_many(CHAIN, None, events)
        uow.commit()
    deps.uow.chain_audit(wait=True)  # what the chainer thread does soon after: the tampering below needs places


def verify(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["audit", "verify", "--json", *args])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {"output": result.output}


@pytest.fixture
def chain(cli: Settings, deps: Deps) -> None:
    for first, count in ((1, 3), (4, 3), (7, 3), (10, 1)):
        append(deps, first, count)
        code, report = verify()
        assert (code, report["ok"], report["signed"]) == (0, True, 1), report


def event_id(engine: Engine, seq: int) -> int:
    with engine.connect() as c:
        return int(c.execute(select(E.c.id).where(E.c.chain == CHAIN, E.c.seq == seq)).scalar_one())


def rehash(engine: Engine, from_seq: int) -> None:
    """What an attacker does after changing events: recompute every later hash, and the head row."""
    with engine.begin() as c:
        rows = [dict(r._mapping) for r in c.execute(select(E).where(E.c.chain == CHAIN).order_by(E.c.seq))]
        prev = GENESIS
        for row in rows:
            if row["seq"] >= from_seq:
                row["hash"] = chain_hash(prev, audit_fields(row))
                c.execute(update(E).where(E.c.id == row["id"]).values(prev_hash=prev, hash=row["hash"]))
            prev = row["hash"]
        c.execute(update(H).where(H.c.chain == CHAIN).values(seq=rows[-1]["seq"], hash=prev))


def cut_after(engine: Engine, keep: int) -> None:
    """Delete the events after ``keep`` and move the head row back to match."""
    with engine.begin() as c:
        c.execute(delete(E).where(E.c.chain == CHAIN, E.c.seq > keep))
        last = c.execute(select(E.c.hash).where(E.c.chain == CHAIN, E.c.seq == keep)).scalar_one()
        c.execute(update(H).where(H.c.chain == CHAIN).values(seq=keep, hash=last))


def swap(engine: Engine, one: int, other: int) -> None:
    """Exchange the places of two events (through a free number: the places are unique)."""
    with engine.begin() as c:
        c.execute(update(E).where(E.c.chain == CHAIN, E.c.seq == one).values(seq=-one))
        c.execute(update(E).where(E.c.chain == CHAIN, E.c.seq == other).values(seq=one))
        c.execute(update(E).where(E.c.chain == CHAIN, E.c.seq == -one).values(seq=other))


def expect(report: dict[str, Any], problem: str, seq: int, event: int | None, since: int | None = None) -> None:
    assert report["ok"] is False and report["chain"] == CHAIN
    assert (report["problem"], report["seq"], report["event_id"], report["since"]) == (problem, seq, event, since)


def test_truncating_the_last_three_events_is_named(chain: None, engine: Engine) -> None:
    cut_after(engine, 7)
    code, report = verify()
    assert code == 1
    expect(report, "truncated", 8, None, 6)


def test_deleting_every_event_is_named(chain: None, engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(delete(E).where(E.c.chain == CHAIN))
        c.execute(delete(H).where(H.c.chain == CHAIN))
    code, report = verify()
    assert code == 1
    expect(report, "truncated", 1, None, 0)


def test_reordering_two_events_and_rehashing_is_named(chain: None, engine: Engine) -> None:
    swap(engine, 4, 5)
    rehash(engine, 4)
    code, report = verify()
    assert code == 1
    expect(report, "checkpoint_mismatch", 6, event_id(engine, 6), 3)


def test_reordering_two_events_without_rehashing_is_named(chain: None, engine: Engine) -> None:
    swap(engine, 4, 5)  # behind the newest checkpoint and not re-hashed: only the walk of every event sees it
    code, report = verify("--full")
    assert code == 1
    expect(report, "prev_mismatch", 4, event_id(engine, 4))


def test_rewriting_one_event_with_a_recomputed_chain_is_named(chain: None, engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(update(E).where(E.c.chain == CHAIN, E.c.seq == 8).values(reason="nothing happened"))
    rehash(engine, 8)
    code, report = verify()
    assert code == 1
    expect(report, "checkpoint_mismatch", 9, event_id(engine, 9), 6)


def test_a_gap_in_the_sequence_names_the_missing_number(chain: None, engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(delete(E).where(E.c.chain == CHAIN, E.c.seq == 5))
    code, report = verify()
    assert code == 1
    expect(report, "seq_gap", 5, event_id(engine, 6))


def test_checkpoints_moved_to_a_cut_chain_are_forged(chain: None, engine: Engine) -> None:
    cut_after(engine, 7)
    with engine.connect() as c:
        last = c.execute(select(E.c.hash).where(E.c.chain == CHAIN, E.c.seq == 7)).scalar_one()
    with engine.begin() as c:
        c.execute(update(C).where(C.c.chain == CHAIN, C.c.seq > 7).values(seq=7, events=7, hash=last))
    code, report = verify()
    assert code == 1
    expect(report, "checkpoint_forged", 7, None)


def test_a_checkpoint_signed_with_another_key_is_forged(chain: None, engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(update(E).where(E.c.chain == CHAIN, E.c.seq == 2).values(reason="nothing happened"))
        c.execute(delete(C).where(C.c.chain == CHAIN))
    rehash(engine, 2)
    own_key = bootstrap.audit_keyring(generate_key_spec("a1"))  # the attacker's, under the same key id
    with engine.begin() as c:
        head = c.execute(select(H.c.hash).where(H.c.chain == CHAIN)).scalar_one()
        cp = sign_checkpoint(own_key, CHAIN, 10, head, 10, datetime.now(UTC))
        c.execute(insert(C).values(**{**asdict(cp), "at": datetime.fromisoformat(cp.at)}))
    code, report = verify()
    assert code == 1
    expect(report, "checkpoint_forged", 10, None)


def test_verify_without_the_key_refuses(chain: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSREFUND_AUDIT_KEY")
    result = runner.invoke(app, ["audit", "verify", "--json"])
    assert result.exit_code == 1
    assert "audit.key_missing" in result.output


def test_checkpoints_under_a_key_no_longer_configured_are_named(chain: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSREFUND_AUDIT_KEY", generate_key_spec("a2"))
    code, report = verify()
    assert code == 1
    expect(report, "checkpoint_unknown_key", 3, None)


def test_the_exported_file_finds_a_chain_removed_with_its_checkpoints(
    chain: None, engine: Engine, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    for _ in range(2):  # the second export appends nothing: nothing new was signed
        assert runner.invoke(app, ["audit", "checkpoints", "export", "--to", str(anchors)]).exit_code == 0
    assert len(anchors.read_text().splitlines()) == 4
    with engine.begin() as c:
        for table in (E, H, C):
            c.execute(delete(table).where(table.c.chain == CHAIN))
    code, report = verify("--anchors", str(anchors))
    assert code == 1
    expect(report, "truncated", 1, None, 0)


def test_events_cut_behind_the_head_row_are_named(cli: Settings, deps: Deps) -> None:
    append(deps, 1, 5)  # no checkpoint yet: the head row is what counted them
    with bootstrap.engine_of(deps).begin() as c:
        c.execute(delete(E).where(E.c.chain == CHAIN, E.c.seq > 3))
    code, report = verify()
    assert code == 1
    expect(report, "truncated", 4, None, 0)


def test_emptying_the_checkpoint_table_does_not_stop_the_export(
    chain: None, engine: Engine, deps: Deps, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    assert runner.invoke(app, ["audit", "checkpoints", "export", "--to", str(anchors)]).exit_code == 0
    with engine.begin() as c:
        c.execute(delete(C))  # on SQLite the next checkpoints are numbered from 1 again
    append(deps, 11, 2)
    assert runner.invoke(app, ["audit", "checkpoints", "export", "--to", str(anchors)]).exit_code == 0
    lines = [json.loads(line) for line in anchors.read_text().splitlines()]
    assert [(line["seq"], line["events"]) for line in lines] == [(3, 3), (6, 6), (9, 9), (10, 10), (12, 12)]


def test_the_worker_signs_heads_and_refuses_a_tampered_chain(cli: Settings, engine: Engine, deps: Deps) -> None:
    keyed = bootstrap.build(cli.model_copy(update={"audit_key": KEY}), engine=engine, hasher=Argon2Hasher(fast=True))
    append(deps, 1, 10)
    worker.checkpoint_round(keyed)
    append(deps, 11, 2)
    with engine.begin() as c:
        c.execute(update(E).where(E.c.chain == CHAIN, E.c.seq == 5).values(reason="nothing happened"))
    rehash(engine, 5)
    worker.checkpoint_round(keyed)  # the new events no longer link to the signed head: left unsigned
    with engine.connect() as c:
        assert c.execute(select(C.c.seq).where(C.c.chain == CHAIN)).scalars().all() == [10]
    code, report = verify()
    assert code == 1
    expect(report, "checkpoint_mismatch", 10, event_id(engine, 10), 0)
