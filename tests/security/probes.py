"""One test card number written the ways a security review used to slip it past the guard, and what a
probe checks afterwards: that neither the database nor the log holds it, in its written form or as digits."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from posrefund.adapters.db import tables
from posrefund.config import Settings
from posrefund.service.deps import Deps
from tests.api.test_pii import everything_stored

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


def no_refund_and_no_audit_of_it(engine: Engine, audit_before: int) -> None:
    assert rows(engine, tables.refunds) == 0
    assert rows(engine, tables.audit_events) == audit_before


def log_file(settings: Settings) -> Path:
    assert settings.log_file is not None
    return settings.log_file
