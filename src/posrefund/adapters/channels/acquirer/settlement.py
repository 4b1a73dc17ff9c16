"""Closing the terminal's batch (结算, 0500) and, when the host's totals differ, the batch upload (批上送, 0320).

Totals are counted from the journal as a UnionPay terminal counts them (the terminal source docs/holds.md cites:
``ChkIfDebitTxn`` / ``ChkIfCreditTxn``): **debit** = every approved 预授权完成, request (0200, 60.1 = 20) and
notification (0220, 24); **credit** = every approved 消费撤销, 退货 and 预授权完成撤销. A cancelled completion stays in
debit and its cancel is in credit; 预授权 and 预授权撤销 move no money and are not counted.

Before the 0500 the terminal settles what it does not know the outcome of: open messages are driven (resent or
reversed), and a completion notification whose answer never came (resends used up, UNRESOLVED) is batch-uploaded
as the offline completion it is (0320 = the same message, 60.1 = 24, its own trace): the host answers what it did
with it, booking it if it never had it, so the terminal's totals count what the host counts. The host answers 0510
with field 48's balance code: 1 balanced, 2 not balanced (the terminal then uploads each transaction, 60.3 = 201,
and an end message, 60.3 = 207), 3 error. Either way the batch number then advances.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Final

from posrefund.adapters.channels.acquirer import messages
from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.ports.terminal import ANSWERED, OPEN_STATES, UNRESOLVED, JournalEntry, TerminalNumbers

BALANCED: Final = "1"
NOT_BALANCED: Final = "2"
DEBITS: Final = frozenset({"complete", "notice"})  # 预授权完成 (请求, 通知)
CREDITS: Final = frozenset({"void", "refund", "compvoid"})  # 消费撤销, 退货, 预授权完成撤销
_BALANCE_AT: Final = 30  # 48: debit n12 + n3, credit n12 + n3, then the domestic balance code


class SettlementFailed(Exception):
    """The host did not answer the settlement (or an upload) with a valid MAC: the batch stays open."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """What the terminal sent and what the host said. ``balance_code`` 2: the host's totals differ from the
    terminal's (reported: the transactions were uploaded, the acquirer's file or a person reconciles the batch).
    ``offline_uploaded`` / ``offline_refused``: unanswered completion notifications the host took / refused."""

    batch_no: str
    count: int  # credits
    credit_fen: int
    balance_code: str
    uploaded: int
    next_batch_no: str
    debit_count: int = 0
    debit_fen: int = 0
    offline_uploaded: int = 0
    offline_refused: int = 0

    @property
    def balanced(self) -> bool:
        return self.balance_code == BALANCED


def settle(channel: CardAcquirerChannel) -> Settlement:
    """Settle the open batch of ``channel``'s terminal; raises ``SettlementFailed`` or ``SignOnFailed``."""
    journal, terminal = channel.journal, channel.terminal
    batch = journal.open_batch(terminal.terminal_id)
    for entry in journal.in_batch(terminal.terminal_id, batch):
        if entry.state in OPEN_STATES:
            channel.drive(entry, time.monotonic() + channel.longest_call_seconds)
    offline = _upload_offline(channel, journal.in_batch(terminal.terminal_id, batch))
    done = [e for e in journal.in_batch(terminal.terminal_id, batch) if _approved(e)]
    debits = [e for e in done if e.kind in DEBITS]
    credits = [e for e in done if e.kind in CREDITS]
    totals = (sum(e.amount_fen for e in debits), len(debits), sum(e.amount_fen for e in credits), len(credits))
    answer = _ask(channel, lambda n: messages.settlement(terminal, n, batch, *totals))
    code = answer.get("48", "")[_BALANCE_AT : _BALANCE_AT + 1]
    uploaded = 0
    if code == NOT_BALANCED:
        for entry in debits + credits:
            _ask(channel, partial(messages.upload, terminal, batch_no=batch, entry=entry))
            uploaded += 1
        _ask(channel, lambda n: messages.upload_end(terminal, n, batch, uploaded))
    next_batch = journal.close_batch(terminal.terminal_id, batch)
    return Settlement(batch, len(credits), totals[2], code, uploaded, next_batch, len(debits), totals[0], *offline)


def _upload_offline(channel: CardAcquirerChannel, entries: list[JournalEntry]) -> tuple[int, int]:
    """批上送 of each completion notification left without an answer: the host's answer settles the entry
    (approved: counted in debit; refused: not). Returns (taken, refused)."""
    taken = refused = 0
    for entry in entries:
        if entry.kind != "notice" or entry.state != UNRESOLVED:
            continue
        doc = _ask(channel, partial(_offline, entry), approved_only=False)
        code, rrn, auth = doc.get("39", ""), doc.get("37", "").strip(), doc.get("38", "").strip()
        host_time = doc.get("13", "") + doc.get("12", "")
        channel.journal.settle(entry.id, ANSWERED, code=code, rrn=rrn, auth_code=auth, host_time=host_time)
        taken, refused = taken + (code == "00"), refused + (code != "00")
    return taken, refused


def _offline(entry: JournalEntry, _numbers: TerminalNumbers) -> dict[str, str]:
    """The notification itself under its own trace: the fresh number the admin exchange hands out goes unused."""
    return messages.offline_upload(entry)


def _approved(entry: JournalEntry) -> bool:
    return entry.state == ANSWERED and entry.response_code == "00"


def _ask(channel: CardAcquirerChannel, build: messages.Builder, *, approved_only: bool = True) -> dict[str, str]:
    exchange = channel.admin_exchange(build)
    code = (exchange.answer or {}).get("39", "")
    if exchange.answer is None or not exchange.mac_ok or (approved_only and code != "00"):
        raise SettlementFailed(exchange.reason or f"answered {code!r}")
    return exchange.answer
