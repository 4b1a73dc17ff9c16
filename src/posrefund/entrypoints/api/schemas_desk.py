"""Bodies and answers of the reconciliation desk's routes: stored acquirer layouts, their preview, till checks.
Unknown fields are refused (422); amounts are fen; negative amounts reach the service, which names the field."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, with_config

from posrefund.entrypoints.api.responses import Out
from posrefund.entrypoints.api.schemas_recon import Strict
from posrefund.ports.desk import TillFacts


class NewMappingIn(Strict):
    name: str = Field(max_length=40)
    channel: Literal["card"] = "card"
    spec: dict[str, Any] = Field(description="the layout: columns, kinds, encoding, formats, amount_unit, sign…")


class MappingIn(Strict):
    channel: Literal["card"] = "card"
    spec: dict[str, Any] = Field(description="the layout: columns, kinds, encoding, formats, amount_unit, sign…")
    version: int = Field(ge=1, le=2**31, description="the stored version this change is made to")


class Mapping(Out):
    name: str
    channel: str
    built_in: bool
    spec: dict[str, Any]
    version: int
    updated_by: str
    updated_at: str | None


class MappingList(Out):
    items: list[Mapping]


class PreviewError(Out):
    field: str
    code: str
    message: str


class MissingColumn(Out):
    field: str
    column: str
    message: str


class PreviewLine(Out):
    line_no: int
    values: dict[str, str]
    parsed: dict[str, Any]
    errors: list[PreviewError]


class Preview(Out):
    encoding: str
    header: list[str]
    missing: list[MissingColumn]
    lines: list[PreviewLine]
    ok: bool = Field(description="every mapped column found and every previewed line read")


class TillIn(Strict):
    terminal_id: str = Field(max_length=40)
    opened_at: datetime = Field(description="when the drawer was opened with its float (timezone-aware)")
    closed_at: datetime = Field(description="when the cash was counted")
    float_fen: int = Field(le=10**11, ge=-(10**11))
    counted_fen: int | None = Field(default=None, le=10**11, ge=-(10**11), description="the counted total…")
    denominations: dict[str, int] | None = Field(default=None, description="…or pieces per face value in fen")


class SignOffIn(Strict):
    note: str = Field(default="", max_length=1_000, description="what the investigation found, when one is open")


class ToleranceIn(Strict):
    tolerance_fen: int = Field(le=10**11, ge=-(10**11))


class Tolerance(Out):
    tolerance_fen: int


@with_config(ConfigDict(extra="forbid"))
class Till(TillFacts):
    opened_at: str
    closed_at: str
    counted_at: str
    signed_off_at: str | None


@with_config(ConfigDict(extra="forbid"))
class TillWithEvents(Till):
    events: list[dict[str, Any]]


class TillList(Out):
    items: list[Till]
