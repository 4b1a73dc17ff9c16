"""The card terminal's own memory: its trace and batch numbers and the journal of what it sent.

A POS terminal numbers every message it sends (trace, field 11) inside a batch (60.2) and must never reuse a pair:
the acquirer finds what a reversal undoes, and answers a resend with its first answer, by those numbers. So they
live in the database, advanced atomically, and every void or refund is written down (state ``sent``) before it
leaves: a crash, a timeout or a second worker then finds the message and resends or reverses it instead of
sending a second one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# Journal states: what the terminal knows about one message it sent.
SENT = "sent"  # written down before it left; no valid answer yet
ANSWERED = "answered"  # the host answered (response code kept): approved or refused
UNSENT = "unsent"  # nothing ever left the terminal (no connection): safe to send again as a new message
REJECTED = "rejected"  # the host refused it unread (our MAC failed there, or it wants a new sign-on): nothing moved
REVERSING = "reversing"  # a void without an answer: its reversal (冲正) has not been acknowledged yet
REVERSED = "reversed"  # the host acknowledged the reversal: nothing moved
UNRESOLVED = "unresolved"  # resends or reversals used up: the settlement file or a person decides
OPEN_STATES = frozenset({SENT, REVERSING})


@dataclass(frozen=True, slots=True)
class TerminalNumbers:
    """One freshly allocated trace number (field 11) and the batch it belongs to (60.2), both six digits."""

    batch_no: str
    trace_no: str


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One void or refund as the terminal sent it. ``fields`` is the ISO 8583 message without its MAC, kept so a
    resend repeats it exactly and a reversal can quote it; ``id`` is 0 until the journal stores it."""

    terminal_id: str
    merchant_id: str
    batch_no: str
    trace_no: str
    refund_no: str
    kind: str  # "void" | "refund"
    amount_fen: int
    fields: dict[str, str]
    state: str = SENT
    sends: int = 0
    reversal_tries: int = 0
    response_code: str = ""
    rrn: str = ""
    auth_code: str = ""
    host_time: str = ""  # the host's MMDDhhmmss from the answer's 13 + 12
    id: int = 0


class TerminalJournal(Protocol):
    """Persistent numbers and journal of card terminals; every method commits before it returns."""

    def allocate(self, terminal_id: str) -> TerminalNumbers:
        """The next trace number (1…999999, then 1 again) in the terminal's open batch, never handed out twice."""
        ...

    def open_batch(self, terminal_id: str) -> str:
        """The terminal's open batch number (six digits)."""
        ...

    def close_batch(self, terminal_id: str, batch_no: str) -> str:
        """Advance the batch after a settlement of ``batch_no``; returns the new open batch number."""
        ...

    def record(self, entry: JournalEntry) -> JournalEntry:
        """Store a message about to be sent (state ``sent``); returns it with its id."""
        ...

    def count_send(self, entry_id: int, *, reversal: bool = False) -> int:
        """Note one more transmission (of the message, or of its reversal) before it leaves; returns the count."""
        ...

    def settle(
        self, entry_id: int, state: str, *, code: str = "", rrn: str = "", auth_code: str = "", host_time: str = ""
    ) -> None:
        """Move an entry to ``state``, with what the answer said when there was one."""
        ...

    def latest(self, terminal_id: str, refund_no: str) -> JournalEntry | None:
        """The last message sent for ``refund_no`` from this terminal."""
        ...

    def in_batch(self, terminal_id: str, batch_no: str) -> list[JournalEntry]:
        """Every message of one batch, in trace order."""
        ...
