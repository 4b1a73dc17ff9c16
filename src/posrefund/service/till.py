"""The till check (日结 / 现金盘点): at the end of a shift the cashier enters the counted cash; posrefund compares it
with the shift's float, cash sales and cash refunds (``domain.till``), and a difference beyond the merchant's
tolerance opens a wrong-charge investigation (错收调查) on the shift, naming its transactions. A supervisor signs
the shift off — never the person who counted it — and, when an investigation is open, says what it found.

Every step is an audit event on the shift's own trail (case id = the till check's id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from posrefund.domain.errors import Conflict, Forbidden, Invalid, NotFound
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.roles import Actor
from posrefund.domain.till import (
    DEFAULT_TOLERANCE_FEN,
    TillFigures,
    check_window,
    counted_total,
    float_amount,
    tolerance_amount,
)
from posrefund.ports import TillRow, UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.records import record

MAX_NOTE = 1_000
COUNTED, SIGNED_OFF = "counted", "signed_off"
OPEN, CLOSED = "open", "closed"


@dataclass(frozen=True)
class TillCount:
    """What the cashier enters: the shift (terminal, opened, closed), the float, and the cash counted."""

    terminal_id: str
    opened_at: datetime
    closed_at: datetime
    float_fen: int
    counted_fen: int | None = None
    denominations: dict[str, Any] | None = None


def _note(value: str) -> str:
    if len(value) > MAX_NOTE:
        raise Invalid("request.field_too_long", field="note", max=MAX_NOTE)
    refuse_card_data(value, "note")
    return value.strip()


def _tolerance(uow: UnitOfWork, merchant_id: str) -> int:
    found = uow.tills.tolerance(merchant_id)
    return DEFAULT_TOLERANCE_FEN if found is None else found


def count_till(deps: Deps, actor: Actor, count: TillCount) -> TillRow:
    """Record the count of one shift and compare it; beyond tolerance, the investigation opens at once."""
    actor.require("till.count")
    counted, pieces = counted_total(count.counted_fen, count.denominations)
    float_fen = float_amount(count.float_fen)
    now = deps.clock.now()
    check_window(count.opened_at, count.closed_at, now)
    merchant_id = actor.merchant_id or ""
    with deps.uow() as uow:
        if uow.merchants.get_terminal(merchant_id, count.terminal_id) is None:
            raise NotFound("till.terminal_not_found")
        other = uow.tills.overlapping(count.terminal_id, count.opened_at, count.closed_at)
        if other is not None:
            raise Conflict("till.shift_overlaps", till_id=other)
        cash = uow.tills.shift_cash(merchant_id, count.terminal_id, count.opened_at, count.closed_at)
        figures = TillFigures(float_fen, counted, cash["sales_fen"], cash["refunds_fen"], _tolerance(uow, merchant_id))
        row: TillRow = {
            "id": deps.ids.new_id("til"),
            "merchant_id": merchant_id,
            "terminal_id": count.terminal_id,
            "cashier_id": actor.id,
            "opened_at": count.opened_at,
            "closed_at": count.closed_at,
            "float_fen": float_fen,
            "counted_fen": counted,
            "denominations": pieces,
            "cash_sales_fen": figures.cash_sales_fen,
            "cash_refunds_fen": figures.cash_refunds_fen,
            "expected_fen": figures.expected_fen,
            "difference_fen": figures.difference_fen,
            "tolerance_fen": figures.tolerance_fen,
            "transactions": {"sales": cash["sale_ids"], "refunds": cash["refund_ids"]},
            "status": COUNTED,
            "investigation": OPEN if figures.beyond_tolerance else "",
            "investigation_note": "",
            "counted_by": actor.id,
            "counted_at": now,
            "signed_off_by": "",
            "signed_off_at": None,
            "sign_off_note": "",
            "version": 1,
        }
        uow.tills.add_till(row)
        _counted_events(uow, actor, row, now)
        uow.commit()
    return row


def _counted_events(uow: UnitOfWork, actor: Actor, row: TillRow, now: datetime) -> None:
    record(
        uow,
        actor,
        row["merchant_id"],
        "till.counted",
        now,
        case_id=row["id"],
        after=COUNTED,
        terminal_id=row["terminal_id"],
        expected_fen=row["expected_fen"],
        counted_fen=row["counted_fen"],
        difference_fen=row["difference_fen"],
        tolerance_fen=row["tolerance_fen"],
    )
    if row["investigation"] == OPEN:
        record(
            uow,
            actor,
            row["merchant_id"],
            "till.investigation_opened",
            now,
            case_id=row["id"],
            reason="差额超出容差：可能错收或错付",
            difference_fen=row["difference_fen"],
            tolerance_fen=row["tolerance_fen"],
            sale_ids=row["transactions"]["sales"],
            refund_ids=row["transactions"]["refunds"],
        )


def _load(uow: UnitOfWork, actor: Actor, till_id: str) -> TillRow:
    row = uow.tills.get_till(actor.merchant_id or "", till_id)
    if row is None:
        raise NotFound("till.not_found")
    return row


def sign_off(deps: Deps, actor: Actor, till_id: str, note: str = "") -> TillRow:
    """A supervisor closes the shift; with an investigation open, the note says what it found and closes it."""
    actor.require("till.sign_off")
    note = _note(note)
    now = deps.clock.now()
    with deps.uow() as uow:
        row = _load(uow, actor, till_id)
        if actor.id in (row["cashier_id"], row["counted_by"]):
            raise Forbidden("till.own_shift")
        if row["status"] == SIGNED_OFF:
            raise Conflict("till.already_signed_off")
        investigating = row["investigation"] == OPEN
        if investigating and not note:
            raise Invalid("till.note_required")
        new: TillRow = {**row, "status": SIGNED_OFF, "signed_off_by": actor.id, "signed_off_at": now}
        new["sign_off_note"], new["version"] = note, row["version"] + 1
        if investigating:
            new["investigation"], new["investigation_note"] = CLOSED, note
        if not uow.tills.save_till(new):
            raise Conflict("till.already_signed_off")
        if investigating:
            record(uow, actor, row["merchant_id"], "till.investigation_closed", now, case_id=till_id, reason=note)
        record(
            uow, actor, row["merchant_id"], "till.signed_off", now, case_id=till_id, before=COUNTED, after=SIGNED_OFF
        )
        uow.commit()
    return new


def get_till(deps: Deps, actor: Actor, till_id: str) -> dict[str, Any]:
    """The shift with its trail."""
    actor.require("till.read")
    with deps.uow(readonly=True) as uow:
        row = _load(uow, actor, till_id)
        events = uow.audit.case_events(row["merchant_id"], till_id)
    return {**row, "events": events}


def list_tills(deps: Deps, actor: Actor, limit: int = 50) -> list[TillRow]:
    actor.require("till.read")
    with deps.uow(readonly=True) as uow:
        return uow.tills.tills(actor.merchant_id or "", max(1, min(limit, 200)))


def tolerance(deps: Deps, actor: Actor) -> int:
    actor.require("till.read")
    with deps.uow(readonly=True) as uow:
        return _tolerance(uow, actor.merchant_id or "")


def set_tolerance(deps: Deps, actor: Actor, tolerance_fen: int) -> int:
    """The difference a till may show without an investigation (either way), audited with the old value."""
    actor.require("till.configure")
    value = tolerance_amount(tolerance_fen)
    now = deps.clock.now()
    merchant_id = actor.merchant_id or ""
    with deps.uow() as uow:
        was = _tolerance(uow, merchant_id)
        uow.tills.put_tolerance(merchant_id, value, actor.id, now)
        record(uow, actor, merchant_id, "till.tolerance_set", now, was_fen=was, tolerance_fen=value)
        uow.commit()
    return value
