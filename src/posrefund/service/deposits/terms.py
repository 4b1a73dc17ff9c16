"""A merchant's deposit terms templates: what kind of money a deposit is, when it is due back, and what may
be deducted; each deposit recorded under one keeps it."""

from __future__ import annotations

from typing import Any

from posrefund.domain.deposits import FULL_BP, DepositKind
from posrefund.domain.errors import Conflict, Invalid
from posrefund.domain.free_text import free_text
from posrefund.domain.roles import Actor
from posrefund.ports.deposits import TermsRow
from posrefund.service.deps import Deps
from posrefund.service.records import record

MAX_NAME = 80
MAX_TERMS_TEXT = 2000
BAD_FIELD = "deposit.invalid_field"
MAX_HOLD_DAYS = 3650


def kind_of(value: str) -> DepositKind:
    """The deposit kind a caller named; anything else is refused with the three allowed."""
    try:
        return DepositKind(value)
    except ValueError:
        raise Invalid("deposit.invalid_kind", kind=value) from None


def whole(value: Any, field: str, low: int, high: int) -> int:
    """A whole number within bounds (bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid("deposit.invalid_field", field=field)
    return value


def create_terms(
    deps: Deps,
    actor: Actor,
    *,
    name: str,
    kind: str,
    hold_days: int,
    costs_deductible: bool = False,
    max_deduction_bp: int = FULL_BP,
    text: str = "",
) -> TermsRow:
    """A new template (names are unique per merchant; a template is never changed under the deposits that
    hold it — a new one is made instead)."""
    actor.require("deposit.terms")
    typed = kind_of(kind)
    if costs_deductible and typed is not DepositKind.ADVANCE:
        raise Invalid("deposit.invalid_field", field="costs_deductible")
    now = deps.clock.now()
    row: TermsRow = {
        "id": deps.ids.new_id("dpt"),
        "merchant_id": actor.merchant_id or "",
        "name": free_text(name, "name", limit=MAX_NAME, missing=BAD_FIELD, too_long=BAD_FIELD),
        "kind": typed.value,
        "hold_days": whole(hold_days, "hold_days", 1, MAX_HOLD_DAYS),
        "costs_deductible": bool(costs_deductible),
        "max_deduction_bp": whole(max_deduction_bp, "max_deduction_bp", 0, FULL_BP),
        "text": free_text(text, "text", limit=MAX_TERMS_TEXT, required=False, too_long=BAD_FIELD),
        "created_by": actor.id,
        "created_at": now,
    }
    with deps.uow() as uow:
        if not uow.deposits.add_terms(row):
            raise Conflict("deposit.terms_duplicate", name=row["name"])
        record(uow, actor, row["merchant_id"], "deposit.terms_created", now, terms_id=row["id"], kind=row["kind"])
        uow.commit()
    return row


def list_terms(deps: Deps, actor: Actor) -> list[TermsRow]:
    actor.require("deposit.read")
    with deps.uow(readonly=True) as uow:
        return uow.deposits.list_terms(actor.merchant_id or "")
