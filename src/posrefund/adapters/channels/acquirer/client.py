"""Bank-card voids (消费撤销) and refunds (退货) sent as a China UnionPay POS terminal (docs/channels.md).

The adapter is one terminal of the acquirer: it signs on (0800) to receive working keys under its master key,
MACs every financial message, numbers each message with its persisted trace and batch numbers, and writes the
message to its journal before it leaves. There is no status query on this network, so ``query`` reads the journal:

- a void (0200) without a valid answer is reversed (0400, 39 = 98, or A0 when the answer failed its MAC), up to
  ``reversal_tries`` times; once the host acknowledges (00/25) nothing moved and the same refund_no can be sent
  again as a new message (new trace);
- a refund (0220) is a notification-class message that cannot be reversed: on a lost answer the SAME message (same
  trace) is sent again, up to ``resends`` times; the host answers a repeat with its first answer;
- when those are used up the outcome is UNRESOLVED: the acquirer's settlement file or a person settles it.

A call never takes longer than ``longest_call_seconds``; what is left open then is carried on by the next
``query``. ``settlement.settle`` closes the batch (0500, and 0320 batch upload when the host is not balanced).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Final

from posrefund.adapters.channels.acquirer import keys as keyring
from posrefund.adapters.channels.acquirer import mapping, messages
from posrefund.adapters.channels.acquirer.transport import Exchange, Link
from posrefund.domain.channel import ChannelAnswer, Method, Outcome, RefundOrder
from posrefund.ports.terminal import (
    ANSWERED,
    REJECTED,
    REVERSED,
    REVERSING,
    SENT,
    UNRESOLVED,
    UNSENT,
    JournalEntry,
    TerminalJournal,
    TerminalNumbers,
)

log = logging.getLogger(__name__)
KIND: Final = {Method.VOID: "void", Method.REFUND: "refund"}


class SignOnFailed(Exception):
    """No working keys: the host did not answer the sign-on, refused it, or sent keys failing their check values."""


class CardAcquirerChannel:
    """``PaymentChannel`` for bank cards (and UnionPay QR, acquired the same way) as POS terminal ``terminal``.

    ``ChannelAnswer.details``: ``method``, ``terminal_no``, ``batch_no``, ``stan``, ``sends``, ``reversal_tries``;
    ``auth_code`` and ``refund_fen`` when approved; ``hint=use_refund`` when a void is out of void range;
    ``state`` (the journal's) while the outcome is open."""

    name = "card"

    def __init__(
        self,
        link: Link,
        tmk: bytes,
        terminal: messages.Terminal,
        journal: TerminalJournal,
        *,
        resends: int = 3,
        reversal_tries: int = 3,
    ) -> None:
        if len(tmk) != 16:
            raise ValueError("the terminal master key is 16 bytes")
        if not (0 < len(terminal.terminal_id) <= 8 and 0 < len(terminal.merchant_id) <= 15):
            raise ValueError("terminal_id is 1–8 characters, merchant_id 1–15")
        self.link, self.terminal, self.journal = link, terminal, journal
        self._tmk = tmk
        self.resends, self.reversal_tries = resends, reversal_tries
        self._keys: keyring.WorkingKeys | None = None
        self._sign_on_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CardAcquirerChannel({self.link.host}:{self.link.port}, terminal {self.terminal.terminal_id})"

    @property
    def timeout(self) -> float:
        return self.link.timeout

    @property
    def longest_call_seconds(self) -> float:
        """The longest ``submit``, ``query`` or settlement step can take: one message, its resends, its reversals."""
        return self.timeout * (1 + self.resends + self.reversal_tries)

    # ---- PaymentChannel --------------------------------------------------------------------------------------

    def submit(self, order: RefundOrder) -> ChannelAnswer:
        """Send a void or refund for ``order`` unless the journal already holds one for its refund_no."""
        if order.method not in KIND:
            return ChannelAnswer(Outcome.DECLINED, code="unsupported_method", message=f"card cannot {order.method}")
        problem = _invalid(order)
        if problem:
            return ChannelAnswer(Outcome.DECLINED, code="invalid_request", message=problem)
        build = messages.void if order.method is Method.VOID else messages.refund
        original = _original(order)
        return self.send(
            order.refund_no,
            KIND[order.method],
            order.amount_fen,
            lambda n: build(self.terminal, n, order.amount_fen, original),
        )

    def query(self, order: RefundOrder) -> ChannelAnswer:
        """What the journal knows of ``order.refund_no``, carrying on with resends or reversals still allowed."""
        return self.recall(order.refund_no, KIND.get(order.method, str(order.method)))

    # ---- one numbered operation, whatever its message --------------------------------------------------------

    def send(self, number: str, kind: str, amount_fen: int, build: messages.Builder) -> ChannelAnswer:
        """Send the message ``build`` makes under a fresh trace for operation ``number`` (our refund_no or hold
        operation_no), unless the journal already holds one of this ``kind`` for it: that one is driven on."""
        deadline = time.monotonic() + self.longest_call_seconds
        prior = self.journal.latest(self.terminal.terminal_id, number)
        if prior is not None and prior.kind == kind:
            resumed = self._resume(prior, deadline)
            if resumed is not None:
                return resumed
        try:
            self._working_keys(deadline)
        except SignOnFailed as exc:
            return ChannelAnswer(Outcome.UNKNOWN, message=f"not sent: {exc}", details={"sent": "false"})
        numbers = self.journal.allocate(self.terminal.terminal_id)
        return self._open(number, kind, amount_fen, numbers, build(numbers), deadline, True)

    def recall(self, number: str, kind: str) -> ChannelAnswer:
        """What the journal knows of operation ``number``, driving on an open message; NOT_FOUND when nothing
        of ``kind`` moved (never sent, reversed, refused unread): it may be sent again under the same number."""
        entry = self.journal.latest(self.terminal.terminal_id, number)
        if entry is None or entry.kind != kind:
            return mapping.nothing_done(None, f"this terminal never sent {number} as a {kind}")
        resumed = self._resume(entry, time.monotonic() + self.longest_call_seconds)
        return resumed or mapping.nothing_done(entry, f"nothing moved ({entry.state}): send it again")

    # ---- the journal's messages ------------------------------------------------------------------------------

    def _resume(self, entry: JournalEntry, deadline: float) -> ChannelAnswer | None:
        """The outcome of a journal entry, driving it on if it is still open; None when nothing moved."""
        if entry.state == ANSWERED:
            return mapping.answered(entry, datetime.now(UTC))
        if entry.state == UNRESOLVED:
            return mapping.unresolved(entry, "resends or reversals used up earlier")
        if entry.state in (SENT, REVERSING):
            return self.drive(entry, deadline)
        return None  # UNSENT, REJECTED, REVERSED

    def _open(
        self,
        refund_no: str,
        kind: str,
        amount_fen: int,
        numbers: TerminalNumbers,
        fields: dict[str, str],
        deadline: float,
        may_sign_on_again: bool,
    ) -> ChannelAnswer:
        """Write the message down (committed), then send it."""
        entry = self.journal.record(
            JournalEntry(
                terminal_id=self.terminal.terminal_id,
                merchant_id=self.terminal.merchant_id,
                batch_no=numbers.batch_no,
                trace_no=numbers.trace_no,
                refund_no=refund_no,
                kind=kind,
                amount_fen=amount_fen,
                fields=fields,
            )
        )
        return self.drive(entry, deadline, may_sign_on_again=may_sign_on_again)

    def drive(self, entry: JournalEntry, deadline: float, *, may_sign_on_again: bool = False) -> ChannelAnswer:
        """Send (or resend) ``entry`` until it is answered; a void without an answer is reversed, a refund is
        resent with the same trace; when those are used up the entry is UNRESOLVED."""
        if entry.state == REVERSING:
            return self._reverse(entry, deadline, messages.NO_ANSWER, "no answer")
        notification = entry.kind in mapping.NOTIFICATIONS
        allowed = 1 + (self.resends if notification else 0)
        why, why_code = "no answer", messages.NO_ANSWER
        while entry.sends < allowed:
            keys = self._keys_in_time(deadline)
            if keys is None:
                return mapping.still_open(entry, f"{why}; no time or no keys left for this call")
            entry = replace(entry, sends=self.journal.count_send(entry.id))
            exchange = self.link.exchange(entry.fields, keys.mak, deadline)
            if _believable(exchange):
                return self._answered(entry, exchange, keys, deadline, may_sign_on_again)
            if not exchange.left and entry.sends == 1:
                self.journal.settle(entry.id, UNSENT)
                return ChannelAnswer(
                    Outcome.UNKNOWN,
                    message=f"not sent: {exchange.reason}",
                    details=mapping.base(entry) | {"sent": "false"},
                )
            why = exchange.reason or "answer without a valid MAC"
            why_code = messages.ANSWER_MAC_FAILED if exchange.mac_ok is False else messages.NO_ANSWER
            log.warning("card %s trace %s: %s (send %d)", entry.kind, entry.trace_no, why, entry.sends)
            if not notification:
                break
        if not notification:
            return self._reverse(entry, deadline, why_code, why)
        self.journal.settle(entry.id, UNRESOLVED)
        return mapping.unresolved(replace(entry, state=UNRESOLVED), f"{why} after {entry.sends} sends")

    def _answered(
        self,
        entry: JournalEntry,
        exchange: Exchange,
        keys: keyring.WorkingKeys,
        deadline: float,
        may_sign_on_again: bool,
    ) -> ChannelAnswer:
        doc = exchange.answer or {}
        code = doc.get("39", "")
        if _refused_unread(exchange) and code != mapping.APPROVED:  # this transmission was not read: sign on
            self._forget(keys)
            if entry.sends > 1:
                # An earlier send of the same trace may have been executed: resend that trace, so the host
                # answers with what it did (a new message would be a second refund).
                return self.drive(entry, deadline)
            self.journal.settle(entry.id, REJECTED, code=code or "A0")
            if may_sign_on_again and self._keys_in_time(deadline) is not None:
                numbers = self.journal.allocate(self.terminal.terminal_id)
                fields = entry.fields | {
                    "11": numbers.trace_no,
                    "60": entry.fields["60"][:2] + numbers.batch_no + messages.NO_NMC,
                }
                return self._open(entry.refund_no, entry.kind, entry.amount_fen, numbers, fields, deadline, False)
            return mapping.still_open(replace(entry, state=REJECTED), f"refused {code}: the terminal signs on again")
        if exchange.sign_on_again:
            self._forget(keys)  # answered, but the host wants new keys before the next message
        if code in mapping.UNKNOWN_CODES:
            # The host itself does not know what happened: a reversible message is reversed; a notification's
            # repeat would only get this same answer again, so no more asking is possible.
            if entry.kind not in mapping.NOTIFICATIONS:
                return self._reverse(entry, deadline, messages.NO_ANSWER, f"answered {code}")
            self.journal.settle(entry.id, UNRESOLVED, code=code)
            return mapping.unresolved(replace(entry, state=UNRESOLVED, response_code=code), f"answered {code}")
        host_time = doc.get("13", "") + doc.get("12", "")
        rrn, auth = doc.get("37", "").strip(), doc.get("38", "").strip()
        self.journal.settle(entry.id, ANSWERED, code=code, rrn=rrn, auth_code=auth, host_time=host_time)
        done = replace(entry, state=ANSWERED, response_code=code, rrn=rrn, auth_code=auth, host_time=host_time)
        return mapping.answered(done, datetime.now(UTC))

    def _reverse(self, entry: JournalEntry, deadline: float, why_code: str, why: str) -> ChannelAnswer:
        """冲正 the message in ``entry`` (a void, or a 预授权-family request) until the host acknowledges it
        (00/25) or the tries are used up."""
        if entry.state != REVERSING:
            self.journal.settle(entry.id, REVERSING)
            entry = replace(entry, state=REVERSING)
        message = messages.reversal(entry.fields, why_code)
        while entry.reversal_tries < self.reversal_tries:
            keys = self._keys_in_time(deadline)
            if keys is None:
                return mapping.still_open(entry, f"{why}; reversal pending")
            entry = replace(entry, reversal_tries=self.journal.count_send(entry.id, reversal=True))
            exchange = self.link.exchange(message, keys.mak, deadline)
            code = (exchange.answer or {}).get("39", "")
            if exchange.mac_ok and code in mapping.REVERSAL_ACKS:
                self.journal.settle(entry.id, REVERSED)
                return mapping.still_open(replace(entry, state=REVERSED), f"{why}; reversed, nothing moved")
            if _refused_unread(exchange):
                self._forget(keys)
            log.warning("card reversal of trace %s not acknowledged: %s", entry.trace_no, exchange.reason or code)
        self.journal.settle(entry.id, UNRESOLVED)
        log.error("card void trace %s: reversal never acknowledged", entry.trace_no)
        return mapping.unresolved(replace(entry, state=UNRESOLVED), f"{why}; reversal never acknowledged")

    # ---- keys ------------------------------------------------------------------------------------------------

    def sign_on(self) -> None:
        """签到 now (0800, 60.3 = 003): fetch and verify new working keys; raises ``SignOnFailed``."""
        with self._sign_on_lock:
            self._keys = None
            self._keys = self._sign_on(time.monotonic() + self.timeout)

    def _working_keys(self, deadline: float) -> keyring.WorkingKeys:
        keys = self._keys
        if keys is not None:
            return keys
        with self._sign_on_lock:
            if self._keys is None:
                self._keys = self._sign_on(deadline)
            return self._keys

    def _keys_in_time(self, deadline: float) -> keyring.WorkingKeys | None:
        if time.monotonic() >= deadline:
            return None
        try:
            return self._working_keys(deadline)
        except SignOnFailed as exc:
            log.warning("card terminal %s: %s", self.terminal.terminal_id, exc)
            return None

    def _forget(self, keys: keyring.WorkingKeys) -> None:
        with self._sign_on_lock:
            if self._keys is keys:
                self._keys = None

    def _sign_on(self, deadline: float) -> keyring.WorkingKeys:
        numbers = self.journal.allocate(self.terminal.terminal_id)
        exchange = self.link.exchange(messages.sign_on(self.terminal, numbers), None, deadline)
        doc = exchange.answer
        if doc is None:
            raise SignOnFailed(f"sign-on unanswered: {exchange.reason}")
        if doc.get("39") != mapping.APPROVED or not doc.get("62"):
            raise SignOnFailed(f"sign-on refused: {doc.get('39', '')}")
        try:
            return keyring.working_keys(self._tmk, bytes.fromhex(doc["62"]))
        except keyring.KeyCheckFailed as exc:
            log.error("card terminal %s refused the sign-on's keys: %s", self.terminal.terminal_id, exc)
            raise SignOnFailed(str(exc)) from None

    def admin_exchange(self, build: messages.Builder) -> Exchange:
        """One administrative message (settlement, batch upload) under a fresh trace number; raises
        ``SignOnFailed`` when there are no keys to MAC it with."""
        deadline = time.monotonic() + 2 * self.timeout  # a sign-on, then the message
        keys = self._working_keys(deadline)
        exchange = self.link.exchange(build(self.journal.allocate(self.terminal.terminal_id)), keys.mak, deadline)
        if _refused_unread(exchange):
            self._forget(keys)
        return exchange


def _believable(exchange: Exchange) -> bool:
    """An answer counts when its MAC verified, or when it is a refusal the host made without reading our message
    (no MAC possible then), which can never move money; an unMACed approval never counts."""
    if exchange.answer is None:
        return False
    if exchange.mac_ok:
        return True
    return _refused_unread(exchange) and exchange.answer.get("39") != mapping.APPROVED


def _refused_unread(exchange: Exchange) -> bool:
    """The host refused without reading: it could not check our MAC (A0) or wants a new sign-on first."""
    return exchange.sign_on_again or (exchange.answer or {}).get("39") in mapping.SIGN_ON_CODES


def _original(order: RefundOrder) -> messages.Original:
    sale = order.sale
    return messages.quoting(sale.rrn, sale.auth_code, sale.batch_no, sale.voucher_no, sale.paid_at)


def _invalid(order: RefundOrder) -> str:
    sale = order.sale
    checks = [
        (order.currency == "CNY", "only CNY card refunds are supported"),
        (0 < order.amount_fen < 10**12, "amount must be 1 to 999999999999 fen"),
        (0 < len(order.refund_no) <= 64 and order.refund_no.isascii(), "refund_no must be 1–64 ASCII characters"),
        (len(sale.rrn) == 12 and sale.rrn.isascii(), "the sale's RRN must be 12 characters"),
        (len(sale.auth_code) <= 6 and sale.auth_code.isascii(), "the sale's auth code must be ≤6 characters"),
        (sale.voucher_no.isdigit() and len(sale.voucher_no) <= 6, "the sale's voucher (trace) no. is ≤6 digits"),
        (sale.batch_no.isdigit() and len(sale.batch_no) <= 6, "the sale's batch no. is ≤6 digits"),
        (sale.paid_at.tzinfo is not None, "the sale's paid_at must be timezone-aware"),
    ]
    return next((why for ok, why in checks if not ok), "")
