"""The worker (or a callback handler) in a forked child that a failpoint kills with SIGKILL.

Loaded once by multiprocessing's fork server, so each crash costs a fork, not an interpreter start."""

from __future__ import annotations

import os
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from posrefund import bootstrap
from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.channels.wechatpay.client import WeChatPayCallbackVerifier, WeChatPayChannel
from posrefund.config import Settings
from posrefund.service import execution
from posrefund.service.execution import Router

# Warmed once in the fork server, not in every child: the database dialects and the holiday tables load lazily.
create_engine("sqlite://").connect().close()
import_module("sqlalchemy.dialects.postgresql.psycopg")
# Built (and its lazy holiday tables imported) once in the fork server, not in every child.
CALENDAR = ChineseCalendar()
CALENDAR.is_workday(date(2026, 10, 1))


def wechat_channel(w: dict[str, Any]) -> WeChatPayChannel:
    """The WeChat Pay adapter on the parent's simulator (``w``: the simulator's keys and address)."""
    return WeChatPayChannel(
        mchid=w["mchid"],
        merchant_private_key=w["merchant_private_key"],
        merchant_serial_no=w["serial"],
        platform_public_key=w["platform_public_key"],
        platform_public_key_id=w["platform_public_key_id"],
        apiv3_key=w["apiv3_key"],
        base_url=w["base_url"],
        timeout=2.0,
    )


def _router(conf: dict[str, Any]) -> Router:
    w = conf["wechat"]
    channel = wechat_channel(w)
    verifier = WeChatPayCallbackVerifier(
        platform_public_key=w["platform_public_key"],
        platform_public_key_id=w["platform_public_key_id"],
        apiv3_key=w["apiv3_key"],
        mchid=w["mchid"],
    )
    return Router(channels={"wechat": channel}, is_workday=CALENDAR.is_workday, verifiers={"wechat": verifier})


def run(conf: dict[str, Any], failpoints: str, mode: str) -> None:
    """``mode`` "sweep": one worker sweep; "callbacks": apply every captured notification in order."""
    os.environ["POSREFUND_FAILPOINTS"] = failpoints
    settings = Settings(
        database_url=conf["db_url"],
        secret_key=conf["secret_key"],
        pii_key=conf["pii_key"],
        data_dir=Path(conf["data_dir"]),
    )
    deps = bootstrap.build(settings)
    router = _router(conf)
    if mode == "sweep":
        execution.sweep(deps, router, limit=500)
    else:
        for headers, body in conf["callbacks"]:
            execution.apply_callback(deps, router, "wechat", headers, body)
    bootstrap.engine_of(deps).dispose()
