"""The notification worker in a forked child that a failpoint kills with SIGKILL (see crash_harness.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from posrefund import bootstrap
from posrefund.config import Settings
from posrefund.service.notifications import sending
from posrefund.service.notifications.sending import NotifyRouter
from tests.support.notifications import SMS_PAYLOAD


def run(conf: dict[str, Any], failpoints: str) -> None:
    """One notification sweep against the gateway at ``conf["gateway_url"]``."""
    from posrefund.adapters.notifiers.http_gateway import HttpGateway

    os.environ["POSREFUND_FAILPOINTS"] = failpoints
    settings = Settings(
        database_url=conf["db_url"],
        secret_key=conf["secret_key"],
        pii_key=conf["pii_key"],
        data_dir=Path(conf["data_dir"]),
    )
    deps = bootstrap.build(settings)
    gateway = HttpGateway(name="test-sms", url=conf["gateway_url"], payload=SMS_PAYLOAD, timeout=2.0)
    sending.sweep(deps, NotifyRouter(gateways={"sms": gateway}))
    bootstrap.engine_of(deps).dispose()
