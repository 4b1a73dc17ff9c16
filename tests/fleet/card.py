"""Everything the fleet test knows about the card channel, in one place: the card host simulator and its adapter
are being rewritten (a new card dialect), so only this module should need adjusting when they change. It uses the
simulator's public constructor, its ``add_payment`` and the shared ledger interface, and the channels file's
``[card]`` section as docs/channels.example.toml describes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from posrefund.domain.sale import Sale
from posrefund.simulators.acquirer.server import DEMO_MAC_KEY, AcquirerSimulator

TERMINAL_ID, MERCHANT_ID = "00000001", "898310000000001"


@dataclass
class CardHost:
    """The running card host, how to tell it about a sale, and its ``[card]`` channels-file section."""

    simulator: AcquirerSimulator
    register: Callable[[Sale], None]
    section: dict[str, Any]
    sale_fields: Callable[[int], dict[str, Any]]

    def messages_about(self, refund_no: str) -> int:
        """How many messages the host received about our refund (submits, queries, reversals)."""
        return sum(1 for m in self.simulator.messages() if m.get("refund_no") == refund_no)

    def ledger_key(self, refund_no: str, row: dict[str, Any]) -> bool:
        """Whether a ledger row is the one of our refund ``refund_no`` (the new dialect may key rows by
        terminal:batch:trace and carry our number elsewhere)."""
        return str(row.get("refund_no")) == refund_no


def start_card_host(answer_timeout: float, slow_seconds: float) -> CardHost:
    """A started card host whose ``latency`` answers come ``slow_seconds`` late; the adapter waits
    ``answer_timeout``."""
    sim = AcquirerSimulator(DEMO_MAC_KEY, slow_seconds=slow_seconds)
    host, port = sim.start()

    def register(sale: Sale) -> None:
        """The host knows a captured sale by its reference, authorisation, voucher and batch numbers."""
        numbers = (sale.rrn.zfill(12), sale.auth_code.zfill(6), sale.voucher_no.zfill(6), sale.batch_no.zfill(6))
        sim.add_payment(*numbers, sale.amount_fen, sale.paid_at, TERMINAL_ID, settled=True)

    section = {
        "host": host,
        "port": port,
        "mac_key_hex": DEMO_MAC_KEY.hex(),
        "terminal_id": TERMINAL_ID,
        "merchant_id": MERCHANT_ID,
        "timeout": answer_timeout,
    }

    def sale_fields(i: int) -> dict[str, Any]:
        return {
            "payer_masked": "622202******1234",
            "settlement_status": "settled",
            "rrn": f"{880000 + i:012d}",
            "voucher_no": f"{i % 999_999 + 1:06d}",
            "batch_no": "000003",
            "auth_code": "A1B2C3",
        }

    return CardHost(sim, register, section, sale_fields)
