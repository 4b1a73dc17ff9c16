"""An Alipay fund freeze (资金授权冻结) asked at the counter with the payment code the payer shows.

The code is good for one call while the payer stands there and is never stored: the hold and its HOLD operation
are written down already claimed (sent, fenced, leased) before the call, the call is made at once with the code
in memory, and the answer is recorded under the claim as the worker would. Should the answer be lost (or this
process die), the worker finds the operation once its lease runs out and *asks* Alipay (never sends it again:
the code is gone); a freeze Alipay has no trace of, or one still unknown after ``HoldWorker.freeze_tries``
calls, is withdrawn (alipay.fund.auth.operation.cancel) and the hold ends cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from posrefund.domain.channel import ChannelAnswer
from posrefund.domain.errors import Conflict, Invalid
from posrefund.domain.fund_hold import HeldFunds, HoldState, HoldStatus, HoldStep
from posrefund.domain.roles import Actor
from posrefund.ports.fund_holds import HoldOperation, HoldRecord, OperationStatus
from posrefund.service.deps import Deps
from posrefund.service.fund_holds.execution import Claim, HoldWorker, call_claimed, record_answer
from posrefund.service.fund_holds.recording import MAX_AMOUNT_FEN, load_hold, terminal_of
from posrefund.service.records import record

# An Alipay freeze lasts until it is released or converted; posrefund lets it go (asks for its release) by this.
LONGEST_FREEZE = timedelta(days=365)


@dataclass(frozen=True)
class AlipayHoldInput:
    """What the counter asks: the amount to freeze, the payer's payment code (never stored), the title shown to
    the payer, and when posrefund considers the hold over."""

    terminal_id: str
    amount_fen: int
    payer_code: str
    title: str
    expires_at: datetime
    currency: str = "CNY"

    def __repr__(self) -> str:  # the payer's code stays out of every log line and traceback
        return f"AlipayHoldInput(terminal_id={self.terminal_id!r}, amount_fen={self.amount_fen})"


def _check(inp: AlipayHoldInput, now: datetime) -> None:
    code = inp.payer_code
    if not (code.isascii() and code.isdigit() and 16 <= len(code) <= 24 and 25 <= int(code[:2]) <= 30):
        raise Invalid("hold.invalid_field", field="payer_code")  # Alipay: 25~30 开头的 16~24 位数字
    if not 0 < inp.amount_fen <= MAX_AMOUNT_FEN:
        raise Invalid("hold.invalid_field", field="amount_fen")
    if inp.currency != "CNY":
        raise Invalid("hold.invalid_field", field="currency")
    if not inp.title.strip() or len(inp.title) > 100:
        raise Invalid("hold.invalid_field", field="title")
    if inp.expires_at.tzinfo is None or not now < inp.expires_at <= now + LONGEST_FREEZE:
        raise Invalid("hold.invalid_field", field="expires_at")


def record_alipay_hold(deps: Deps, actor: Actor, hw: HoldWorker, inp: AlipayHoldInput) -> HoldRecord:
    """Freeze ``inp.amount_fen`` of the payer's Alipay money: the hold is returned held (with Alipay's auth_no),
    failed (Alipay refused: the operation says why) or holding (the answer is not known yet; the worker asks).
    Each step commits on its own, so the freeze asked is written down before the call leaves: the API and the
    console run this apart from their group commit (``AppContext.run_apart``), off the event loop."""
    claim = ask_freeze(deps, actor, hw, inp)
    return finish_freeze(deps, actor, hw, claim, call_claimed(deps, hw, claim, inp.payer_code))


def finish_freeze(deps: Deps, actor: Actor, hw: HoldWorker, claim: Claim, answer: ChannelAnswer) -> HoldRecord:
    """Alipay's answer to the freeze recorded under the claim, as the worker records any answer."""
    record_answer(deps, hw, claim, answer)
    with deps.uow(readonly=True) as uow:
        return load_hold(uow, actor, claim.hold.id)


def ask_freeze(deps: Deps, actor: Actor, hw: HoldWorker, inp: AlipayHoldInput) -> Claim:
    """The hold (holding) and its HOLD operation written down, already claimed, before anything is sent."""
    actor.require("hold.record")
    now = deps.clock.now()
    _check(inp, now)
    if "alipay" not in hw.channels:
        raise Conflict("hold.channel_unavailable")
    merchant_id = actor.merchant_id or ""
    with deps.uow() as uow:
        terminal_of(uow, actor, inp.terminal_id)
        number = deps.ids.new_refund_no(now)[2:]
        held = HeldFunds("alipay", "HF" + number, inp.amount_fen, inp.currency, now, inp.expires_at)
        hold = HoldRecord(deps.ids.new_id("hld"), merchant_id, inp.terminal_id, held, HoldStatus(HoldState.HOLDING))
        hold = HoldRecord(hold.id, merchant_id, inp.terminal_id, held, hold.status, 1, "", actor.id)
        if not uow.fund_holds.add_hold(hold, now):
            raise Conflict("hold.duplicate", hold_no=held.hold_no)
        operation = HoldOperation(
            id=deps.ids.new_id("hop"),
            merchant_id=merchant_id,
            hold_id=hold.id,
            operation_no="HO" + number,
            step=HoldStep.HOLD,
            amount_fen=inp.amount_fen,
            currency=inp.currency,
            requested_by=actor.id,
            requested_at=now,
            reason=inp.title,
            status=OperationStatus.PROCESSING,  # claimed here: written down before the call leaves
            attempts=1,
            fence=1,
            sent=True,
            next_check_at=now + hw.lease_for("alipay"),
        )
        uow.fund_holds.add_operation(operation)
        record(uow, actor, merchant_id, "hold.freeze_asked", now, hold_id=hold.id, amount_fen=inp.amount_fen)
        uow.commit()
    return Claim(operation, hold, 1, fresh=True)
