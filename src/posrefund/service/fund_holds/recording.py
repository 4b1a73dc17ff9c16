"""Card pre-authorisations as posrefund learns of them (the terminal that made one, or an import of the
acquirer's records), and reading them back: a merchant sees only its own holds, others' are 404."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.fund_hold import (
    CARD_COMPLETION_TOLERANCE_BP,
    CARD_HOLD_VALIDITY,
    HeldFunds,
    HoldState,
    HoldStatus,
    HoldStep,
    after_expiry,
    held_fen,
)
from posrefund.domain.hold_attention import WITHDRAWAL, retry_due
from posrefund.domain.identifiers import AUTH_CODE, BATCH_NO, RRN, VOUCHER_NO, is_identifier
from posrefund.domain.pii import validate_payer_masked
from posrefund.domain.roles import SYSTEM_ACTOR, Actor
from posrefund.ports import UnitOfWork
from posrefund.ports.fund_holds import OPEN_OPERATIONS, HoldOperation, HoldRecord, OperationStatus
from posrefund.ports.merchants import TerminalRow
from posrefund.service.deps import Deps
from posrefund.service.records import record

CLOCK_SKEW = timedelta(minutes=10)
MAX_AMOUNT_FEN = 100_000_000_00
_IDENTIFIERS = {"rrn": RRN, "auth_code": AUTH_CODE, "voucher_no": VOUCHER_NO, "batch_no": BATCH_NO}


@dataclass(frozen=True)
class CardHoldInput:
    """What the terminal printed on the 预授权 slip (or the acquirer's record lists)."""

    terminal_id: str
    amount_fen: int
    held_at: datetime
    rrn: str
    auth_code: str
    voucher_no: str
    batch_no: str
    card_masked: str = ""
    currency: str = "CNY"
    hold_no: str = ""  # ours; defaults to batch + voucher, unique per merchant


def _check(inp: CardHoldInput, now: datetime) -> None:
    for name, pattern in _IDENTIFIERS.items():
        value = getattr(inp, name)
        if not is_identifier(pattern, value) or len(value) > 6 + 6 * (name == "rrn"):
            raise Invalid("hold.invalid_field", field=name)
    if not 0 < inp.amount_fen <= MAX_AMOUNT_FEN:
        raise Invalid("hold.invalid_field", field="amount_fen")
    if inp.currency != "CNY":
        raise Invalid("hold.invalid_field", field="currency")
    if inp.held_at.tzinfo is None or inp.held_at > now + CLOCK_SKEW:
        raise Invalid("hold.invalid_field", field="held_at")
    if len(inp.hold_no) > 64 or not inp.hold_no.isascii():
        raise Invalid("hold.invalid_field", field="hold_no")
    validate_payer_masked(inp.card_masked)


def record_card_hold(deps: Deps, actor: Actor, inp: CardHoldInput) -> HoldRecord:
    """Keep a 预授权 the terminal made: its references, the scheme's 30-day validity and 15 % tolerance."""
    actor.require("hold.record")
    now = deps.clock.now()
    _check(inp, now)
    merchant_id = actor.merchant_id or ""
    with deps.uow() as uow:
        terminal = terminal_of(uow, actor, inp.terminal_id)
        held = HeldFunds(
            channel="card",
            hold_no=inp.hold_no or f"{inp.batch_no.zfill(6)}{inp.voucher_no.zfill(6)}",
            amount_fen=inp.amount_fen,
            currency=inp.currency,
            held_at=inp.held_at,
            expires_at=inp.held_at + CARD_HOLD_VALIDITY,
            tolerance_bp=CARD_COMPLETION_TOLERANCE_BP,
            auth_code=inp.auth_code,
            rrn=inp.rrn,
            voucher_no=inp.voucher_no,
            batch_no=inp.batch_no,
            terminal_no=str(terminal["terminal_no"])[:8],
            card_masked=inp.card_masked,
        )
        hold = HoldRecord(deps.ids.new_id("hld"), merchant_id, inp.terminal_id, held, HoldStatus(), 1, "", actor.id)
        if not uow.fund_holds.add_hold(hold, now):
            raise Conflict("hold.duplicate", hold_no=held.hold_no)
        record(uow, actor, merchant_id, "hold.recorded", now, hold_id=hold.id, amount_fen=held.amount_fen)
        uow.commit()
    return hold


def terminal_of(uow: UnitOfWork, actor: Actor, terminal_id: str) -> TerminalRow:
    """The merchant's terminal the hold is made at; a terminal's key records only its own holds."""
    if actor.terminal_id is not None and actor.terminal_id != terminal_id:
        raise NotFound("terminal.not_found")
    terminal = uow.merchants.get_terminal(actor.merchant_id or "", terminal_id)
    if terminal is None:
        raise NotFound("terminal.not_found")
    return terminal


def load_hold(uow: UnitOfWork, actor: Actor, hold_id: str) -> HoldRecord:
    hold = uow.fund_holds.get_hold(actor.merchant_id or "", hold_id)
    if hold is None or (actor.terminal_id is not None and hold.terminal_id != actor.terminal_id):
        raise NotFound("hold.not_found")
    return hold


def get_hold(deps: Deps, actor: Actor, hold_id: str) -> tuple[HoldRecord, list[HoldOperation]]:
    actor.require("hold.read")
    with deps.uow(readonly=True) as uow:
        hold = load_hold(uow, actor, hold_id)
        return hold, uow.fund_holds.operations_of(hold.merchant_id, hold.id)


def list_holds(
    deps: Deps, actor: Actor, states: frozenset[HoldState] = frozenset(), limit: int = 100
) -> list[HoldRecord]:
    actor.require("hold.read")
    with deps.uow(readonly=True) as uow:
        return uow.fund_holds.holds(actor.merchant_id or "", states, limit)


def expiring_holds(deps: Deps, actor: Actor, within: timedelta, limit: int = 100) -> list[HoldRecord]:
    """Holds still held whose validity ends within ``within``: complete or release them before the issuer
    lets them go (a completion is refused after)."""
    actor.require("hold.read")
    now = deps.clock.now()
    with deps.uow(readonly=True) as uow:
        soon = uow.fund_holds.held_until(now + within, limit, actor.merchant_id or "")
    return [h for h in soon if h.held.expires_at > now]


def expire_holds(deps: Deps, limit: int = 100) -> int:
    """Mark expired every hold still held past its validity (the issuer released it); one with an operation in
    flight waits for that operation's outcome. Returns how many were marked."""
    SYSTEM_ACTOR.require("hold.expire")
    now, marked = deps.clock.now(), 0
    with deps.uow() as uow:
        for hold in uow.fund_holds.held_until(now, limit):
            ops = uow.fund_holds.operations_of(hold.merchant_id, hold.id)
            if any(op.status in OPEN_OPERATIONS for op in ops):
                continue
            if hold.held.channel == "alipay":  # Alipay keeps the money frozen: it is released by itself
                if _release_due(hold, ops, now):
                    marked += int(_release_lapsed(deps, uow, hold, now))
                continue
            status = after_expiry(hold.held, hold.status, now)
            if status != hold.status and uow.fund_holds.save_hold(_with(hold, status), now):
                record(uow, SYSTEM_ACTOR, hold.merchant_id, "hold.expired", now, hold_id=hold.id)
                marked += 1
        for hold in uow.fund_holds.held_until(now, limit, state=HoldState.HOLDING):
            refused = _refused_withdrawal(uow.fund_holds.operations_of(hold.merchant_id, hold.id))
            if refused is not None and retry_due(refused.finished_at, hold.held.expires_at, now):
                marked += int(reopen_withdrawal(uow, SYSTEM_ACTOR, refused, now))
        uow.commit()
    return marked


def _release_due(hold: HoldRecord, ops: list[HoldOperation], now: datetime) -> bool:
    """A lapsed freeze is released once by itself; a release Alipay refused is asked again (``retry_due``): the
    worker then asks the freeze, and a freeze Alipay has closed ends the hold released."""
    releases = [op for op in ops if op.step is HoldStep.RELEASE]
    if not releases:
        return True
    last = releases[-1]
    return last.status is OperationStatus.DECLINED and retry_due(last.finished_at, hold.held.expires_at, now)


def _refused_withdrawal(ops: list[HoldOperation]) -> HoldOperation | None:
    """The freeze (HOLD) of a holding hold when its withdrawal was refused and nothing else stands after it."""
    last = ops[-1] if ops else None
    if last is None or last.step is not HoldStep.HOLD or last.status is not OperationStatus.UNRESOLVED:
        return None
    return last if last.details.get(WITHDRAWAL) == "declined" else None


def reopen_withdrawal(uow: UnitOfWork, actor: Actor, op: HoldOperation, now: datetime) -> bool:
    """The freeze asked about again, due now: the worker queries it (held, or closed: cancelled) and, still
    unknown, withdraws it again. Audited ``hold.withdrawal_retried``; False when it changed meanwhile."""
    again = replace(op, status=OperationStatus.PROCESSING, next_check_at=now, finished_at=None)
    if not uow.fund_holds.record(again, op.fence):
        return False
    record(uow, actor, op.merchant_id, "hold.withdrawal_retried", now, hold_id=op.hold_id, operation_id=op.id)
    return True


def _release_lapsed(deps: Deps, uow: UnitOfWork, hold: HoldRecord, now: datetime) -> bool:
    """An Alipay freeze past its end: its rest is released (a RELEASE queued for the worker, audited)."""
    rest = held_fen(hold.held, hold.status)
    if rest <= 0 or not uow.fund_holds.save_hold(_with(hold, hold.status), now):
        return False
    operation = new_operation(deps, hold, HoldStep.RELEASE, rest, SYSTEM_ACTOR.id, "到期解冻", now)
    uow.fund_holds.add_operation(operation)
    record(uow, SYSTEM_ACTOR, hold.merchant_id, "hold.operation_asked", now, hold_id=hold.id,
           operation_id=operation.id, step=HoldStep.RELEASE.value, amount_fen=rest)  # fmt: skip
    return True


def new_operation(
    deps: Deps, hold: HoldRecord, step: HoldStep, amount_fen: int, requested_by: str, reason: str, now: datetime
) -> HoldOperation:
    """An operation queued for the worker, due now, under a number made once (the shape of a refund_no)."""
    return HoldOperation(
        id=deps.ids.new_id("hop"),
        merchant_id=hold.merchant_id,
        hold_id=hold.id,
        operation_no="HO" + deps.ids.new_refund_no(now)[2:],
        step=step,
        amount_fen=amount_fen,
        currency=hold.held.currency,
        requested_by=requested_by,
        requested_at=now,
        reason=reason,
        next_check_at=now,
    )


def _with(hold: HoldRecord, status: HoldStatus, sale_id: str | None = None) -> HoldRecord:
    return HoldRecord(
        hold.id,
        hold.merchant_id,
        hold.terminal_id,
        hold.held,
        status,
        hold.version,
        hold.sale_id if sale_id is None else sale_id,
        hold.recorded_by,
    )
