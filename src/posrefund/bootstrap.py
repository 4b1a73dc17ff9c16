"""The one place that picks adapters: real ones from settings, or whatever a test hands in."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from posrefund.adapters.crypto import AesGcmCipher
from posrefund.adapters.db.engine import make_engine
from posrefund.adapters.db.uow import SqlUnitOfWorkFactory
from posrefund.adapters.files import DiskEvidenceStore
from posrefund.adapters.passwords import Argon2Hasher
from posrefund.adapters.system import RandomIds, SystemClock
from posrefund.config import Settings, check
from posrefund.ports import Clock, Ids, PasswordHasher
from posrefund.service.deps import Deps


def local_date_in(tz_name: str) -> Callable[[datetime], date]:
    tz = ZoneInfo(tz_name)

    def local_date(at: datetime) -> date:
        return at.astimezone(tz).date()

    return local_date


def failpoints_from(spec: str) -> Callable[[str], None]:
    """``name=kill:N[,name=kill:N]``: the process kills itself with SIGKILL at the N-th time it passes the
    named place. Only crash tests set POSREFUND_FAILPOINTS; without it every failpoint is a no-op."""
    armed: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, action = part.partition("=")
        kind, _, count = action.partition(":")
        if kind != "kill":
            raise ValueError(f"unknown failpoint action {action!r}")
        armed[name] = int(count or "1")

    def failpoint(name: str) -> None:
        if name in armed:
            armed[name] -= 1
            if armed[name] <= 0:
                os.kill(os.getpid(), signal.SIGKILL)

    return failpoint


def build(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    ids: Ids | None = None,
    hasher: PasswordHasher | None = None,
) -> Deps:
    check(settings)
    engine = engine or make_engine(settings.database_url)
    local_date = local_date_in(settings.timezone)
    return Deps(
        uow=SqlUnitOfWorkFactory(engine, local_date),
        clock=clock or SystemClock(),
        ids=ids or RandomIds(),
        cipher=AesGcmCipher(settings.pii_key),
        hasher=hasher or Argon2Hasher(),
        evidence_store=DiskEvidenceStore(settings.data_dir / "evidence"),
        local_date=local_date,
        secret_key=settings.secret_key,
        failpoint=failpoints_from(os.environ.get("POSREFUND_FAILPOINTS", "")),
    )


def engine_of(deps: Deps) -> Engine:
    uow = deps.uow
    assert isinstance(uow, SqlUnitOfWorkFactory)
    return uow.engine
