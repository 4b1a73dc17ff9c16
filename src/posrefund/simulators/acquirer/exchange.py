"""What one request to the host is while it is answered (``Exchange``), what the host does with it (``Reply``),
the settings acquirers differ on (``Rules``) and the terminals' keys (``Terminals``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol

from posrefund.simulators.acquirer.keys import WorkingKeys
from posrefund.simulators.acquirer.protocol import Message
from posrefund.simulators.common.faults import Fault

if TYPE_CHECKING:
    from posrefund.simulators.acquirer.ledger import Entry, HostLedger

ECHOED: Final = ("3", "4", "11", "25", "41", "42", "49", "60")


@dataclass(slots=True)
class Reply:
    """What to do with one request: answer it (maybe late), or close the connection without a word."""

    response: bytes | None
    delay: float = 0.0


@dataclass
class Rules:
    """The limits acquirers differ on, and how late a ``latency`` answer comes."""

    slow_seconds: float = 3.0
    refund_window_days: int | None = None
    max_partial_refunds: int | None = None
    completion_tolerance_bp: int = 1_500  # a completion may take the pre-authorised amount + 15 %
    hold_validity_days: int = 30  # past it the issuer has released the hold by itself


@dataclass
class Terminals:
    """Each terminal's master key (a default one for any terminal not listed) and its current working keys."""

    default_tmk: bytes | None
    tmks: dict[str, bytes] = field(default_factory=dict)
    working: dict[str, WorkingKeys] = field(default_factory=dict)

    def tmk(self, terminal_no: str) -> bytes | None:
        return self.tmks.get(terminal_no, self.default_tmk)


@dataclass(slots=True)
class Exchange:
    """One request being answered: the message, its terminal and that terminal's MAK (None before sign-on)."""

    msg: Message
    terminal_no: str
    mak: bytes | None

    def get(self, key: str) -> str:
        return self.msg.fields.get(key, "")

    @property
    def batch_no(self) -> str:
        return self.get("60")[2:8]

    def answer(self, code: str, **extra: str) -> dict[str, str]:
        """The answer's fields: the MTI + 10, the request's echoed fields, 39 and any ``extra``."""
        mti = self.msg.mti
        out = {"t": f"{mti[:2]}{int(mti[2]) + 1}{mti[3]}"}
        out |= {k: self.msg.fields[k] for k in ECHOED if k in self.msg.fields}
        return out | extra | {"39": code}


class Answering(Protocol):
    """What the rules need of the host: its books and settings, and a way to send an answer."""

    ledger: HostLedger
    rules: Rules

    def send(
        self,
        ex: Exchange,
        fields: dict[str, str],
        kind: str,
        *,
        requirement: int = ...,
        mac: bool = ...,
        fault: Fault | None = ...,
        key: str = ...,
    ) -> Reply: ...

    def entry_fields(self, entry: Entry) -> dict[str, str]: ...
