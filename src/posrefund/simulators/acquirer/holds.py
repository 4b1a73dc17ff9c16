"""The 预授权 family on the host: 预授权 (0100 03, 60.1 = 10), 预授权撤销 (0100 20, 11), 预授权完成 request (0200 00,
20) and notification (0220 00, 24), 预授权完成撤销 (0200 20, 21). Field 25 is 06 on all of them.

Each is a money message under the trace rules of ``money`` (a resend gets the first answer, a reversal 0400 undoes
a request, never a notification; the same faults apply). What became of a pre-authorisation is read from the live
messages quoting its RRN, so a reversal puts it back by itself. The checks, and the codes a host refuses with:

- release: the pre-authorisation is found by RRN (37), auth code (38) and date (61.3) → else 25; still held and
  within its validity → else 12; for the whole amount → else 64.
- completion: the same finding; 0 < amount ≤ amount + tolerance → else 13 / 61. The completion becomes a sale
  (its own RRN) that a 退货 may refund; the issuer releases the rest.
- completion cancel: 37 is the completion's RRN, 61 its batch + trace → else 25; a notification completion cannot
  be cancelled, nor one of another terminal or of a settled batch, nor one refunded or already cancelled → 12;
  the whole amount → else 64. The hold is held again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final

from posrefund.simulators.acquirer import protocol
from posrefund.simulators.acquirer.exchange import Answering, Exchange, Reply
from posrefund.simulators.acquirer.ledger import (
    COMPLETE,
    COMPLETION_VOID,
    EXECUTED,
    NOTICE,
    PREAUTH,
    RELEASE,
    SHANGHAI,
    Entry,
    Payment,
    PreAuth,
)
from posrefund.simulators.acquirer.money import MoneyRules

Check = Callable[[Exchange], str]
P = protocol
OK: Final = "00"


class HoldRules:
    """The 预授权 family's checks and bookings; called with the ledger lock held."""

    def __init__(self, host: Answering, money: MoneyRules) -> None:
        self.host, self.money, self.ledger = host, money, host.ledger
        self._table: dict[tuple[str, str, str], tuple[str, Check, Callable[[Exchange, Entry], None] | None]] = {
            (P.MTI_AUTHORISATION, P.PROC_PREAUTH, P.TYPE_PREAUTH): (PREAUTH, self._preauth, self._book_preauth),
            (P.MTI_AUTHORISATION, P.PROC_VOID_OR_REFUND, P.TYPE_PREAUTH_RELEASE): (RELEASE, self._release, None),
            (P.MTI_FINANCIAL, P.PROC_PURCHASE, P.TYPE_COMPLETION): (COMPLETE, self._complete, self._book_sale),
            (P.MTI_ADVICE, P.PROC_PURCHASE, P.TYPE_COMPLETION_NOTICE): (NOTICE, self._complete, self._book_sale),
            (P.MTI_FINANCIAL, P.PROC_VOID_OR_REFUND, P.TYPE_COMPLETION_VOID): (COMPLETION_VOID, self._uncomplete, None),
        }

    def route(self, ex: Exchange) -> Reply | None:
        """The answer to a 预授权-family message, or None when ``ex`` is not one."""
        found = self._table.get((ex.msg.mti, ex.get("3"), ex.get("60")[:2]))
        if found is None:
            return None
        kind, check, booked = found
        if ex.get("25") != P.CONDITION_PREAUTH:
            return self.host.send(ex, ex.answer("30"), kind)
        return self.money.submit(ex, kind, check, booked)

    def upload_notice(self, ex: Exchange) -> Reply:
        """批上送 of an offline 预授权完成(通知) (0320, 3 = 000000, 25 = 06, 60.1 = 24, 11 = its own trace): the host
        answers what it did with that trace (no second execution); a notification it never had is checked as one
        and, approved, executed now (a sale, counted in the batch's debit)."""
        entry = self.ledger.entries.get((ex.terminal_no, ex.batch_no, ex.get("11")))
        if entry is not None and entry.status == EXECUTED:
            same = entry.kind == NOTICE and ex.get("4").isdigit() and int(ex.get("4")) == entry.amount_fen
            answer = ex.answer(OK, **self.host.entry_fields(entry)) if same else ex.answer("94")
            return self.host.send(ex, answer, "batch_upload")
        code = self._complete(ex) if ex.get("25") == P.CONDITION_PREAUTH else "30"
        if code != OK:
            return self.host.send(ex, ex.answer(code), "batch_upload")
        entry = self.money.take(ex, NOTICE)
        self._book_sale(ex, entry)
        return self.host.send(ex, ex.answer(OK, **self.host.entry_fields(entry)), "batch_upload")

    def _preauth(self, ex: Exchange) -> str:
        amount = ex.get("4")
        if not amount.isdigit() or ex.get("49") != P.CURRENCY_CNY:
            return "30"
        return OK if int(amount) > 0 else "13"

    def _book_preauth(self, ex: Exchange, entry: Entry) -> None:
        self.ledger.preauths[entry.rrn] = PreAuth(
            entry.rrn, entry.auth_code, entry.amount_fen, entry.executed_at, ex.terminal_no, entry.key
        )
        self.ledger.open_batches.setdefault(ex.terminal_no, ex.batch_no)

    def _held(self, ex: Exchange) -> tuple[PreAuth | None, str]:
        """The pre-authorisation a release or completion quotes, and 00 or why it cannot be touched."""
        if not ex.get("4").isdigit() or len(ex.get("37").strip()) != 12 or ex.get("49") != P.CURRENCY_CNY:
            return None, "30"
        p = self.ledger.preauth(ex.get("37"))
        date = ex.get("61")[12:16]
        if p is None or ex.get("38").strip() not in ("", p.auth_code) or p.terminal_no != ex.terminal_no:
            return None, "25"
        if date not in ("", "0000") and date != f"{p.held_at.astimezone(SHANGHAI):%m%d}":
            return None, "25"
        expired = self.ledger.now() - p.held_at >= timedelta(days=self.host.rules.hold_validity_days)
        if expired or self.ledger.hold_state(p) != "held":
            return p, "12"
        return p, OK

    def _release(self, ex: Exchange) -> str:
        p, code = self._held(ex)
        if p is None or code != OK:
            return code
        return OK if int(ex.get("4")) == p.amount_fen else "64"

    def _complete(self, ex: Exchange) -> str:
        p, code = self._held(ex)
        if p is None or code != OK:
            return code
        amount = int(ex.get("4"))
        if amount <= 0:
            return "13"
        ceiling = p.amount_fen + p.amount_fen * self.host.rules.completion_tolerance_bp // 10_000
        return OK if amount <= ceiling else "61"

    def _book_sale(self, ex: Exchange, entry: Entry) -> None:
        """The completion is a sale of its own (its RRN, auth code, trace and batch) that a 退货 may refund."""
        self.ledger.open_batches.setdefault(ex.terminal_no, ex.batch_no)
        self.ledger.payments[entry.rrn] = Payment(
            entry.rrn,
            entry.auth_code,
            entry.trace_no,
            entry.batch_no,
            entry.amount_fen,
            entry.executed_at,
            ex.terminal_no,
            entry.merchant_no,
            from_completion=True,
        )

    def _uncomplete(self, ex: Exchange) -> str:
        rrn, original = ex.get("37"), ex.get("61")
        if not ex.get("4").isdigit() or len(rrn.strip()) != 12 or len(original) < 12:
            return "30"
        done = next((e for e in self.ledger.live() if e.rrn == rrn and e.kind in (COMPLETE, NOTICE)), None)
        if done is None or (original[:6], original[6:12]) != (done.batch_no, done.trace_no):
            return "25"
        in_open_batch = self.ledger.open_batches.get(done.terminal_no) == done.batch_no
        sale = self.ledger.payments.get(rrn)
        settled = sale is not None and sale.settled
        if done.kind == NOTICE or done.terminal_no != ex.terminal_no or not in_open_batch or settled:
            return "12"
        if self.ledger.cancelled(rrn) or self.ledger.refunded(rrn) > 0:
            return "12"
        return OK if int(ex.get("4")) == done.amount_fen else "64"
