"""One test card number written the ways a security review used to slip it past the guard, and what a
probe checks afterwards: that neither the database nor the log holds it, in its written form or as digits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from posrefund.adapters.db import tables
from posrefund.config import Settings
from posrefund.domain.sale import Sale
from posrefund.service.deps import Deps
from tests.api.test_pii import everything_stored
from tests.conftest import World
from tests.support.helpers import new_sale

PAN = "4111111111111111"
# written form → the same PAN as a person (or a script) might type it
WRITTEN: dict[str, str] = {
    "dots": "4111.1111.1111.1111",
    "double_spaces": "4111  1111  1111  1111",
    "ideographic_space": "4111\u30001111\u30001111\u30001111",
    "nbsp": "4111\u00a01111\u00a01111\u00a01111",
    "zero_width": "4111\u200b1111\u200c1111\u200d1111\u2060\ufeff",
    "fullwidth": "４１１１１１１１１１１１１１１１",
    "arabic_indic": "٤١١١١١١١١١١١١١١١",
    "devanagari": "४१११११११११११११११",
}


def stored_nowhere(deps: Deps, settings: Settings, backend: str, written: str) -> None:
    """Neither the database (every table, byte for byte on SQLite) nor the log file holds the card."""
    stored = everything_stored(deps, settings, backend)
    as_stored = written.encode("utf-8").decode("latin-1") if backend == "sqlite" else written
    log = settings.log_file.read_text(encoding="utf-8") if settings.log_file and settings.log_file.exists() else ""
    for form in (PAN, as_stored):
        assert form not in stored, "stored in the database"
    for form in (PAN, written):
        assert form not in log, "written to the log"


def rows(engine: Engine, table: object) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


@dataclass
class Probe:
    """One probe's world: the database, the log, and what the audit trail held before the probe."""

    deps: Deps
    world: World
    settings: Settings
    backend: str
    engine: Engine
    audit_before: int = 0

    def sale(self) -> Sale:
        """A sale of merchant A to refund (its own audit event is counted as already there)."""
        sale = new_sale(self.deps, self.world.a)
        self.audit_before = rows(self.engine, tables.audit_events)
        return sale

    def rows(self, table: object) -> int:
        return rows(self.engine, table)

    def nothing_kept(self, written: str) -> None:
        """No refund, no new audit event, and the card neither in the database nor in the log."""
        assert self.rows(tables.refunds) == 0
        assert self.rows(tables.audit_events) == self.audit_before
        stored_nowhere(self.deps, self.settings, self.backend, written)

    def log(self) -> str:
        assert self.settings.log_file is not None
        return self.settings.log_file.read_text(encoding="utf-8")
