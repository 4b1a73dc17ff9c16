"""What every table is made of: one ``metadata`` with its naming convention, the aware-datetime type, and the
columns that recur across tables (an id, a merchant or case reference, a timestamp, a blank-by-default text),
so each table reads as its own columns only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Dialect, ForeignKey, Integer, MetaData, String, Text, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which stores naive text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: times are timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    @staticmethod
    def sqlite_text(value: datetime | None) -> str | None:
        """What ``process_bind_param`` and SQLite's DATETIME make of a value, in one C call (prebuilt.py)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: times are timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


naming = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=naming)

ID = String(40)
AUTO_ID = BigInteger().with_variant(Integer, "sqlite")


def id_key() -> Column[Any]:
    """A text primary key made by ``Ids.new_id``."""
    return Column("id", ID, primary_key=True)


def auto_id() -> Column[Any]:
    """A database-numbered primary key, for rows that come in streams (events, lines, attempts)."""
    return Column("id", AUTO_ID, primary_key=True, autoincrement=True)


def merchant_ref(*, index: bool = False, primary_key: bool = False) -> Column[Any]:
    """The owning merchant, as a foreign key."""
    if primary_key:
        return Column("merchant_id", ID, ForeignKey("merchants.id"), primary_key=True)
    return Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False, index=index)


def case_ref(*, index: bool = False, primary_key: bool = False) -> Column[Any]:
    """The refund case a row belongs to, as a foreign key."""
    if primary_key:
        return Column("case_id", ID, ForeignKey("refunds.id"), primary_key=True)
    return Column("case_id", ID, ForeignKey("refunds.id"), nullable=False, index=index)


def moment(name: str, *, nullable: bool = False) -> Column[Any]:
    """An aware instant (stored as UTC)."""
    return Column(name, UTCDateTime, nullable=nullable)


def blank_string(name: str, length: int) -> Column[Any]:
    """A short text that is empty until there is something to say."""
    return Column(name, String(length), nullable=False, server_default="")


def blank_text(name: str) -> Column[Any]:
    """A long text that is empty until there is something to say."""
    return Column(name, Text, nullable=False, server_default="")


def changed_by() -> tuple[Column[Any], Column[Any]]:
    """Who changed a setting row last, and when."""
    return Column("updated_by", ID, nullable=False), moment("updated_at")
