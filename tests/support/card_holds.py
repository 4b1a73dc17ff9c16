"""The card terminal adapter on the service's own database, talking to the acquirer simulator, for the tests of
card pre-authorisations (service and API): the terminal's 预授权 and the hold as posrefund records it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine

from posrefund.adapters.channels.acquirer import messages
from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.adapters.channels.acquirer.holds import CardHoldChannel
from posrefund.adapters.channels.acquirer.journal import SqlTerminalJournal
from posrefund.adapters.channels.acquirer.transport import Link
from posrefund.domain.channel import Outcome
from posrefund.service.fund_holds import CardHoldInput, HoldWorker
from posrefund.simulators.acquirer.server import AcquirerSimulator
from tests.conftest import FixedClock, World

TMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")


@dataclass
class Card:
    sim: AcquirerSimulator
    card: CardAcquirerChannel
    holds: CardHoldChannel
    worker: HoldWorker

    def slip(self, world: World, amount_fen: int = 10_000) -> CardHoldInput:
        """The terminal's 预授权 (0100 03) on the simulator, as the slip it prints."""
        answer = self.holds.authorise(f"PA{amount_fen}", amount_fen)
        assert answer.outcome is Outcome.SUCCEEDED and answer.succeeded_at is not None
        return CardHoldInput(
            terminal_id=world.a.terminal_id,
            amount_fen=amount_fen,
            held_at=answer.succeeded_at,
            rrn=answer.channel_refund_id,
            auth_code=answer.details["auth_code"],
            voucher_no=answer.details["stan"],
            batch_no=answer.details["batch_no"],
            card_masked="622202******1234",
        )

    def live(self, rrn: str, kind: str) -> list[dict[str, object]]:
        """The host's executed messages of ``kind`` on the pre-authorisation ``rrn``."""
        return [r for r in self.sim.book.hold_rows(rrn) if r["kind"] == kind and r["executed"]]


@contextmanager
def card_host(engine: Engine, clock: FixedClock) -> Iterator[Card]:
    sim = AcquirerSimulator(TMK, clock=clock.now)
    host, port = sim.start()
    try:
        link = Link(host, port, destination=b"\x00\x06", source=b"\x00\x00", timeout=0.5)
        terminal = messages.Terminal("T0000009", "898310048990009")
        adapter = CardAcquirerChannel(link, TMK, terminal, SqlTerminalJournal(engine))
        holds = CardHoldChannel(adapter)
        yield Card(sim, adapter, holds, HoldWorker({"card": holds}, worker="test-worker"))
    finally:
        sim.stop()
