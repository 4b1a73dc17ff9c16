"""The worker's hold sweep in a forked child that a failpoint kills with SIGKILL, on the card terminal adapter
talking to the parent's acquirer simulator. Loaded once by multiprocessing's fork server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from posrefund import bootstrap
from posrefund.adapters.channels.acquirer import messages
from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.adapters.channels.acquirer.holds import CardHoldChannel
from posrefund.adapters.channels.acquirer.journal import SqlTerminalJournal
from posrefund.adapters.channels.acquirer.transport import Link
from posrefund.config import Settings
from posrefund.service import fund_holds

create_engine("sqlite://").connect().close()


def run(conf: dict[str, Any], failpoints: str) -> None:
    os.environ["POSREFUND_FAILPOINTS"] = failpoints
    settings = Settings(
        database_url=conf["db_url"],
        secret_key=conf["secret_key"],
        pii_key=conf["pii_key"],
        data_dir=Path(conf["data_dir"]),
    )
    deps = bootstrap.build(settings)
    link = Link(conf["host"], conf["port"], destination=b"\x00\x06", source=b"\x00\x00", timeout=0.5)
    terminal = messages.Terminal("T0000009", "898310048990009")
    card = CardAcquirerChannel(
        link, bytes.fromhex(conf["tmk"]), terminal, SqlTerminalJournal(bootstrap.engine_of(deps))
    )
    worker = fund_holds.HoldWorker({"card": CardHoldChannel(card)}, worker=f"child-{os.getpid()}")
    fund_holds.sweep_holds(deps, worker)
    bootstrap.engine_of(deps).dispose()
