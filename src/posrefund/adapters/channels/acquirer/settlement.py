"""Closing the terminal's batch (结算, 0500) and, when the host's totals differ, the batch upload (批上送, 0320).

Totals come from the journal: every void and refund of the open batch the host approved. Messages still open are
driven first (resent or reversed), since a terminal settles only what it knows the outcome of. The host answers
0510 with field 48's balance code: 1 balanced, 2 not balanced (the terminal then uploads each transaction and an
end message, 60.3 = 207), 3 error. Either way the batch number then advances, so later messages start a new batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Final

from posrefund.adapters.channels.acquirer import messages
from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.ports.terminal import ANSWERED, OPEN_STATES, JournalEntry

BALANCED: Final = "1"
NOT_BALANCED: Final = "2"
_CREDITS: Final = frozenset({"void", "refund"})
_BALANCE_AT: Final = 30  # 48: debit n12 + n3, credit n12 + n3, then the domestic balance code


class SettlementFailed(Exception):
    """The host did not answer the settlement (or an upload) with a valid MAC: the batch stays open."""


@dataclass(frozen=True, slots=True)
class Settlement:
    batch_no: str
    count: int
    credit_fen: int
    balance_code: str
    uploaded: int
    next_batch_no: str


def settle(channel: CardAcquirerChannel) -> Settlement:
    """Settle the open batch of ``channel``'s terminal; raises ``SettlementFailed`` or ``SignOnFailed``."""
    journal, terminal = channel.journal, channel.terminal
    batch = journal.open_batch(terminal.terminal_id)
    for entry in journal.in_batch(terminal.terminal_id, batch):
        if entry.state in OPEN_STATES:
            channel.drive(entry, time.monotonic() + channel.longest_call_seconds)
    done = [e for e in journal.in_batch(terminal.terminal_id, batch) if _executed(e)]
    credit = sum(e.amount_fen for e in done)
    answer = _ask(channel, lambda n: messages.settlement(terminal, n, batch, credit, len(done)))
    code = answer.get("48", "")[_BALANCE_AT : _BALANCE_AT + 1]
    uploaded = 0
    if code == NOT_BALANCED:
        for entry in done:
            _ask(channel, partial(messages.upload, terminal, batch_no=batch, entry=entry))
            uploaded += 1
        _ask(channel, lambda n: messages.upload_end(terminal, n, batch, uploaded))
    next_batch = journal.close_batch(terminal.terminal_id, batch)
    return Settlement(batch, len(done), credit, code, uploaded, next_batch)


def _executed(entry: JournalEntry) -> bool:
    """A void or refund the host approved: the credit side of the batch. The 预授权 family's messages share the
    journal but are no credit (a completion is a sale)."""
    return entry.kind in _CREDITS and entry.state == ANSWERED and entry.response_code == "00"


def _ask(channel: CardAcquirerChannel, build: messages.Builder) -> dict[str, str]:
    exchange = channel.admin_exchange(build)
    if exchange.answer is None or not exchange.mac_ok or exchange.answer.get("39") != "00":
        code = (exchange.answer or {}).get("39", "")
        raise SettlementFailed(exchange.reason or f"answered {code!r}")
    return exchange.answer
