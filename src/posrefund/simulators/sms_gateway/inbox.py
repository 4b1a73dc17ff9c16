"""What the local SMS gateway received: each message once per idempotency key, newest first, in memory.

A real SMS provider drops a repeated send that carries the key of one it already took (the sender retries
after a crash with the same key); this inbox does the same, so a demo shows exactly what a customer's phone
would have shown."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

KEEP = 1000  # the newest messages kept: a demo left running for days stays small


@dataclass(frozen=True)
class Received:
    """One text message as the gateway took it: its own id, the sender's id, the number, the text."""

    id: str
    out_id: str
    phone: str
    text: str
    received_at: str  # ISO 8601, UTC

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Inbox:
    """Messages by idempotency key (or by their own id when the sender gave none), the oldest dropped past
    ``keep``. Safe to use from the server's request threads."""

    def __init__(self, keep: int = KEEP, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._keep = keep
        self._clock = clock
        self._lock = threading.Lock()
        self._by_key: OrderedDict[str, Received] = OrderedDict()

    def take(self, key: str, phone: str, text: str, out_id: str) -> tuple[Received, bool]:
        """The message stored under ``key`` (a new one, or the one a repeat of the key stored) and whether
        it is new."""
        with self._lock:
            if key and key in self._by_key:
                return self._by_key[key], False
            message = Received(
                id=f"sms{secrets.token_hex(8)}",
                out_id=out_id,
                phone=phone,
                text=text,
                received_at=self._clock().astimezone(UTC).isoformat(),
            )
            self._by_key[key or message.id] = message
            while len(self._by_key) > self._keep:
                self._by_key.popitem(last=False)
            return message, True

    def newest_first(self) -> list[Received]:
        with self._lock:
            return list(reversed(self._by_key.values()))
