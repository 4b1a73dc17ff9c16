"""Fakes at the edges: a payment channel with a ledger and scripted faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from posrefund.domain.channel import (
    ASK_AGAIN_SOON,
    CallbackNotice,
    CallbackRejected,
    ChannelAnswer,
    Outcome,
    RefundOrder,
)


@dataclass
class FakeChannel:
    """Executes each refund_no at most once. ``script`` maps a refund_no to the answers its calls get in
    turn (after the list runs out, the truth is answered); ``on_call`` can crash the caller mid-call."""

    name: str = "wechat"
    ledger: dict[str, int] = field(default_factory=dict)
    script: dict[str, list[str]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    on_call: Callable[[str, RefundOrder], None] | None = None
    final: dict[str, Outcome] = field(default_factory=dict)

    def _truth(self, order: RefundOrder) -> ChannelAnswer:
        if order.refund_no not in self.ledger:
            return ChannelAnswer(Outcome.NOT_FOUND)
        outcome = self.final.get(order.refund_no, Outcome.SUCCEEDED)
        return ChannelAnswer(outcome, channel_refund_id=f"CH-{order.refund_no}", code=outcome.value.upper())

    def _step(self, kind: str, order: RefundOrder) -> ChannelAnswer:
        self.calls.append((kind, order.refund_no))
        plan = self.script.get(order.refund_no, [])
        step = plan.pop(0) if plan else "truth"
        if kind == "submit" and step not in ("lost", "not_sent", "system_error", "slow_down"):
            self.ledger.setdefault(order.refund_no, order.amount_fen)  # not_sent: the request never left
        if self.on_call:
            self.on_call(kind, order)
        if step in ("truth", "lost"):
            return self._truth(order) if step == "truth" else ChannelAnswer(Outcome.UNKNOWN, code="TIMEOUT")
        if step == "timeout":
            return ChannelAnswer(Outcome.UNKNOWN, code="TIMEOUT")
        if step in ("system_error", "system_error_applied"):  # executed behind the error, or not
            return ChannelAnswer(Outcome.UNKNOWN, code="SYSTEM_ERROR", details={ASK_AGAIN_SOON: "yes"})
        if step == "slow_down":
            return ChannelAnswer(Outcome.UNKNOWN, code="FREQUENCY_LIMITED")
        if step == "processing":
            return ChannelAnswer(Outcome.ACCEPTED, channel_refund_id=f"CH-{order.refund_no}", code="PROCESSING")
        return ChannelAnswer(Outcome(step), channel_refund_id=f"CH-{order.refund_no}", code=step.upper())

    def submit(self, order: RefundOrder) -> ChannelAnswer:
        return self._step("submit", order)

    def query(self, order: RefundOrder) -> ChannelAnswer:
        return self._step("query", order)


class FakeVerifier:
    """A channel signature stand-in: body must be JSON signed with HMAC in ``x-sig``; stale if ``ts`` < 0."""

    def __init__(self, key: bytes = b"k") -> None:
        self.key = key

    def sign(self, body: bytes) -> str:
        import hashlib
        import hmac

        return hmac.new(self.key, body, hashlib.sha256).hexdigest()

    def verify(self, headers: dict[str, str], body: bytes) -> CallbackNotice:
        import hmac
        import json

        if not hmac.compare_digest(headers.get("x-sig", ""), self.sign(body)):
            raise CallbackRejected("bad signature")
        doc = json.loads(body)
        if doc.get("ts", 0) < 0:
            raise CallbackRejected("stale")
        return CallbackNotice(
            refund_no=doc["refund_no"], answer=ChannelAnswer(Outcome(doc["outcome"])), notice_id=doc["id"]
        )
