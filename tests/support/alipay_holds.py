"""Alipay freezes (资金授权) for the API and security tests: the simulator over real sockets, the adapter on a
short timeout wired into the app's router, and operation numbers the test knows before the service makes them
(faults are planned per number)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.channels.alipay.fund_auth import AlipayFundAuthChannel
from posrefund.adapters.channels.alipay.gateway import AlipayGateway
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.fund_holds import HoldWorker
from posrefund.simulators.alipay.server import AlipaySimulator

PAYER_CODE = "286648048691290423"  # as the payer's app shows it: 18 digits starting 28


@dataclass
class Alipay:
    sim: AlipaySimulator
    channel: AlipayFundAuthChannel
    worker: HoldWorker
    peek: int = 1  # the serial of the next operation number the service will make

    def next_number(self, offset: int = 0) -> str:
        """The ``operation_no`` of the operation asked ``offset`` asks from now (0 = the next one)."""
        return f"HO20261120ABCDEF{self.peek + offset:08X}"

    def row(self, number: str) -> dict[str, Any]:
        rows = [r for r in self.sim.fund_auth.ledger() if r["refund_no"] == number]
        assert len(rows) == 1, rows
        return dict(rows[0])

    def freeze(self, auth_no: str) -> dict[str, Any]:
        rows = [h for h in self.sim.fund_auth.holds() if h.get("auth_no") == auth_no]
        assert len(rows) == 1, self.sim.fund_auth.holds()
        return dict(rows[0])


@contextmanager
def alipay_line(app: FastAPI, deps: Deps, monkeypatch: pytest.MonkeyPatch) -> Iterator[Alipay]:
    counter = itertools.count(1)
    with AlipaySimulator(hang_seconds=1.5, max_clock_skew=300.0) as sim:
        gateway = AlipayGateway(
            app_id=sim.app_id,
            app_private_key=sim.app_private_key_pem,
            alipay_public_key=sim.alipay_public_key_pem,
            gateway_url=sim.gateway_url,
            timeout=0.5,
        )
        channel = AlipayFundAuthChannel(gateway)
        app.state.ctx.router = Router(channels={}, is_workday=ChineseCalendar().is_workday, holds={"alipay": channel})
        line = Alipay(sim, channel, HoldWorker({"alipay": channel}, worker="test-worker"))

        def numbered(_now: datetime) -> str:
            n = next(counter)
            line.peek = n + 1
            return f"RF20261120ABCDEF{n:08X}"

        monkeypatch.setattr(deps.ids, "new_refund_no", numbered)
        yield line
