"""A worker's sweep, or one API request, in a forked child that a failpoint kills with SIGKILL, on the real
adapters talking to the parent's simulators: the card terminal (acquirer simulator), Alipay fund authorisation
and WeChat Pay, each only when ``conf`` names it. Loaded once by multiprocessing's fork server.

``mode``: "holds" (the hold sweep: card pre-authorisations, Alipay freezes), "refunds" (the refund sweep: a
completion's card refund, a deposit's WeChat Pay refund), "api" (one HTTP request through the real app, for the
steps the API executes itself: the Alipay freeze at the counter, the abnormal refund to a bank card)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from posrefund import bootstrap
from posrefund.adapters.channels.acquirer import messages
from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.adapters.channels.acquirer.holds import CardHoldChannel
from posrefund.adapters.channels.acquirer.journal import SqlTerminalJournal
from posrefund.adapters.channels.acquirer.transport import Link
from posrefund.adapters.channels.alipay.fund_auth import AlipayFundAuthChannel
from posrefund.adapters.channels.alipay.gateway import AlipayGateway
from posrefund.config import Settings
from posrefund.entrypoints.api.app import create_app
from posrefund.ports import PaymentChannel
from posrefund.ports.fund_holds import FundHoldChannel
from posrefund.service import execution, fund_holds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.integration.crash_harness import CALENDAR, wechat_channel
from tests.support.limits import RELAXED


def _router(conf: dict[str, Any], deps: Deps) -> Router:
    channels: dict[str, PaymentChannel] = {}
    holds: dict[str, FundHoldChannel] = {}
    if "host" in conf:
        link = Link(conf["host"], conf["port"], destination=b"\x00\x06", source=b"\x00\x00", timeout=0.5)
        terminal = messages.Terminal("T0000009", "898310048990009")
        journal = SqlTerminalJournal(bootstrap.engine_of(deps))
        card = CardAcquirerChannel(link, bytes.fromhex(conf["tmk"]), terminal, journal)
        channels["card"], holds["card"] = card, CardHoldChannel(card)
    if "alipay" in conf:
        holds["alipay"] = AlipayFundAuthChannel(AlipayGateway(**conf["alipay"]))
    if "wechat" in conf:
        channels["wechat"] = wechat_channel(conf["wechat"])
    return Router(channels=channels, is_workday=CALENDAR.is_workday, holds=holds, worker=f"child-{os.getpid()}")


def _request(deps: Deps, router: Router, request: dict[str, Any]) -> None:
    """One request through the real app as it is served on this database (SQLite: the service inline on the
    event loop, its writes group-committed; PostgreSQL: on threads), in the process that makes the channel call;
    a request that lives must answer ``request["status"]``."""
    inline = str(bootstrap.engine_of(deps).url).startswith("sqlite")
    app = create_app(deps, inline=inline, router=router, rate_limits=RELAXED)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.request(request["method"], request["path"], json=request["json"], headers=request["headers"])
    assert r.status_code == request["status"], r.text


def run(conf: dict[str, Any], failpoints: str, mode: str = "holds", request: dict[str, Any] | None = None) -> None:
    os.environ["POSREFUND_FAILPOINTS"] = failpoints
    settings = Settings(
        database_url=conf["db_url"],
        secret_key=conf["secret_key"],
        pii_key=conf["pii_key"],
        data_dir=Path(conf["data_dir"]),
    )
    deps = bootstrap.build(settings)
    router = _router(conf, deps)
    if mode == "holds":
        fund_holds.sweep_holds(deps, fund_holds.HoldWorker(router.holds, worker=router.worker))
    elif mode == "refunds":
        execution.sweep(deps, router, limit=500)
    else:
        assert request is not None
        _request(deps, router, request)
    bootstrap.engine_of(deps).dispose()
