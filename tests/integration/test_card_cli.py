"""``posrefund card settle`` from a channels file: the batch closes against the acquirer and the settlement is
audited; without a ``[card]`` section it refuses with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from posrefund.adapters.db import tables
from posrefund.adapters.db.engine import make_engine
from posrefund.config import Settings
from tests.contract.test_cup_terminal import TMK
from tests.integration.test_cli import env, run
from tests.support.cup_host import FakeHost

__all__ = ["env"]


def test_card_settle_closes_the_batch_and_is_audited(
    env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeHost(TMK) as host:
        (tmp_path / "tmk.hex").write_text(TMK.hex() + "\n", encoding="utf-8")
        conf = tmp_path / "channels.toml"
        conf.write_text(
            f'[card]\nhost = "127.0.0.1"\nport = {host.address[1]}\nterminal_id = "T0000001"\n'
            'merchant_id = "898310048990001"\ntmk_hex_file = "tmk.hex"\ntimeout = 2\n',
            encoding="utf-8",
        )
        monkeypatch.setenv("POSREFUND_CHANNELS_FILE", str(conf))
        out = json.loads(run("card", "settle", "--json").stdout)
        assert [m["mti"] for m in host.state.received] == ["0800", "0500"]
    assert out == {
        "batch_no": "000001",
        "count": 0,
        "credit_fen": 0,
        "balance_code": "1",
        "uploaded": 0,
        "next_batch_no": "000002",
        "debit_count": 0,
        "debit_fen": 0,
        "offline_uploaded": 0,
        "offline_refused": 0,
        "terminal_id": "T0000001",
    }
    engine = make_engine(env.database_url)
    with engine.connect() as c:
        actions = c.execute(select(tables.audit_events.c.action)).scalars().all()
    engine.dispose()
    assert "card.batch_settled" in actions
    assert TMK.hex() not in json.dumps(out)


def test_card_settle_without_a_card_section_refuses(
    env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "channels.toml"
    conf.write_text("", encoding="utf-8")
    monkeypatch.setenv("POSREFUND_CHANNELS_FILE", str(conf))
    result = run("card", "settle", ok=False)
    assert result.exit_code == 2
