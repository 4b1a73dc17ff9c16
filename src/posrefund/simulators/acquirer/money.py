"""Voids (消费撤销, 0200 60.1=23), refunds (退货, 0220 60.1=25) and reversals (冲正, 0400): the checks a host makes
before moving money, and the faults planned for a message.

A message is the host's by its terminal (41), batch (60.2) and trace (11). A trace already used for another
message is refused (94); the same message again (same MTI, amount, references) gets the first answer again when
it was executed, and is processed anew when it was refused, failed or reversed, so a terminal's resend never
moves money twice. Faults are planned under ``terminal:batch:trace`` or ``<original RRN>:<amount in fen>``
(whichever the caller knows; the first is looked up first)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final

from posrefund.simulators.acquirer import protocol
from posrefund.simulators.acquirer.exchange import Answering, Exchange, Reply
from posrefund.simulators.acquirer.ledger import NOTICE, REFUND, SHANGHAI, VOID, Entry, Payment, TraceKey, key_text
from posrefund.simulators.common.faults import Fault

SUBMIT_FAULTS: Final = (
    "latency",
    "no_answer_after_accept",
    "system_error",
    "decline",
    "host_reversal",
    "bad_response_mac",
)
REVERSAL_FAULTS: Final = ("reversal_lost",)
FAULTS: Final = SUBMIT_FAULTS + REVERSAL_FAULTS
DEFAULT_RATE_FAULTS: Final = ("no_answer_after_accept",)


def trace_key(ex: Exchange) -> TraceKey:
    return (ex.terminal_no, ex.batch_no, ex.get("11"))


def fingerprint(ex: Exchange) -> tuple[str, ...]:
    """What makes two messages under one trace the same message."""
    return tuple(ex.get(k) for k in ("t", "3", "4", "37", "38", "41", "42", "49", "60", "61"))


class MoneyRules:
    """The void, refund and reversal rules over the host's ledger; called with the ledger lock held."""

    def __init__(self, host: Answering) -> None:
        self.host = host
        self.ledger = host.ledger

    def submit(
        self,
        ex: Exchange,
        kind: str,
        check: Callable[[Exchange], str] | None = None,
        booked: Callable[[Exchange, Entry], None] | None = None,
    ) -> Reply:
        """Answer one money message under the trace rules: ``check`` (this module's void and refund rules unless
        given) says 00 or the refusal; ``booked`` records what an executed message made (a hold, a sale)."""
        key = trace_key(ex)
        seen, entry = self.ledger.seen.get(key), self.ledger.entries.get(key)
        if seen is not None and seen != fingerprint(ex):
            return self.host.send(ex, ex.answer("94"), kind)
        if entry is not None and entry.status == "executed":
            return self.host.send(ex, dict(entry.answer), kind)  # a resend: the first answer, nothing new
        fault = self._fault(ex, SUBMIT_FAULTS) or self._drawn()
        self.ledger.seen[key] = fingerprint(ex)
        code = check(ex) if check is not None else self._check(ex, kind)
        if code == "00" and fault and fault.name == "decline":
            code = fault.code or "51"
        if code == "00" and fault and fault.name == "system_error":
            code = fault.code or "96"
        if code != "00":
            return self.host.send(ex, ex.answer(code), kind)
        entry = self._execute(ex, kind, previous=entry)
        if booked is not None:
            booked(ex, entry)
        reply = self.host.send(ex, dict(entry.answer), kind, fault=fault)
        if fault and fault.name == "host_reversal":
            self.ledger.reverse(entry, "host")
        return reply

    def take(self, ex: Exchange, kind: str) -> Entry:
        """Execute ``ex`` as a ``kind`` message the host never had (a batch-uploaded offline notification)."""
        self.ledger.seen[trace_key(ex)] = fingerprint(ex)
        return self._execute(ex, kind, previous=None)

    def _execute(self, ex: Exchange, kind: str, previous: Entry | None) -> Entry:
        rrn, auth, now = self.ledger.next_reference()
        if previous is not None:  # the same message after a reversal: executed again, with its first references
            rrn, auth = previous.rrn, previous.auth_code
        entry = Entry(
            terminal_no=ex.terminal_no,
            batch_no=ex.batch_no,
            trace_no=ex.get("11"),
            kind=kind,
            amount_fen=int(ex.get("4")),
            original_rrn=ex.get("37"),
            rrn=rrn,
            auth_code=auth,
            merchant_no=ex.get("42").strip(),
            executed_at=now,
            fingerprint=fingerprint(ex),
            answer={},
            execution=previous.execution + 1 if previous else 1,
        )
        entry.answer = ex.answer("00", **self.host.entry_fields(entry))
        self.ledger.record(entry)
        return entry

    def _fault(self, ex: Exchange, names: tuple[str, ...]) -> Fault | None:
        plan = self.ledger.faults
        by_trace = plan.take(key_text(trace_key(ex)), names)
        amount = ex.get("4").lstrip("0") or "0"
        return by_trace or plan.take(f"{ex.get('37')}:{amount}", names)

    def _drawn(self) -> Fault | None:
        name = self.ledger.faults.draw()
        return Fault(name) if name else None

    def _check(self, ex: Exchange, kind: str) -> str:
        """00, or the code a real host refuses this void or refund with."""
        amount = ex.get("4")
        if not amount.isdigit() or len(ex.get("37").strip()) != 12 or len(ex.get("61")) < 12:
            return "30"
        if ex.get("49") != protocol.CURRENCY_CNY:
            return "30"
        payment = self.ledger.payment(ex.get("37"))
        if payment is None or not _auth_matches(ex, payment):
            return "25"
        if kind == VOID:
            return self._void(ex, payment, int(amount))
        return self._refund(ex, payment, int(amount))

    def _void(self, ex: Exchange, p: Payment, amount: int) -> str:
        original = ex.get("61")
        if (original[:6], original[6:12]) != (p.batch_no, p.voucher_no):
            return "25"
        same_batch = p.terminal_no == ex.terminal_no and p.batch_no == ex.batch_no and self.ledger.in_open_batch(p)
        if not same_batch or self.ledger.refunded(p.rrn):
            return "12"
        return "64" if amount != p.amount_fen else "00"

    def _refund(self, ex: Exchange, p: Payment, amount: int) -> str:
        original_date = ex.get("61")[12:16]
        if original_date not in ("", "0000") and original_date != f"{p.paid_at.astimezone(SHANGHAI):%m%d}":
            return "25"
        if amount <= 0 or amount > p.amount_fen:
            return "13"
        rules = self.host.rules
        if rules.refund_window_days is not None and self.ledger.now() - p.paid_at > timedelta(
            days=rules.refund_window_days
        ):
            return "58"
        if self.ledger.refunded(p.rrn) + amount > p.amount_fen:
            return "61"
        if rules.max_partial_refunds is not None and amount < p.amount_fen:
            count = sum(1 for e in self.ledger.live() if e.original_rrn == p.rrn and e.kind == REFUND)
            if count >= rules.max_partial_refunds:
                return "65"
        return "00"

    def reverse(self, ex: Exchange) -> Reply:
        """0400 names the original by terminal, batch and trace: a void or a 预授权-family request is undone (00,
        also when it already was); a notification (退货, 预授权完成通知) is not reversible (12);
        nothing executed under that trace → 25. Both 00 and 25 acknowledge."""
        key = trace_key(ex)
        entry = self.ledger.entries.get(key)
        planned = self._fault(ex, REVERSAL_FAULTS)
        if planned is None and entry is not None:
            planned = self.ledger.faults.take(f"{entry.original_rrn}:{entry.amount_fen}", REVERSAL_FAULTS)
        if planned is not None:  # reversal_lost: neither applied nor answered
            return self.host.send(ex, ex.answer("00"), "reversal", fault=planned)
        if entry is None or entry.amount_fen != int(ex.get("4") or 0):
            code = "25"
        elif entry.kind in (REFUND, NOTICE):  # notifications are not reversible
            code = "12"
        else:
            self.ledger.reverse(entry, "terminal")
            code = "00"
        return self.host.send(ex, ex.answer(code), "reversal")


def _auth_matches(ex: Exchange, p: Payment) -> bool:
    auth = ex.get("38").strip()
    return not auth or auth == p.auth_code.strip()
