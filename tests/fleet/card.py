"""Everything the fleet test knows about the card channel, in one place: the card host simulator and its adapter
are being rewritten (a new card dialect), so only this module should need adjusting when they change. It uses the
simulator's public constructor, its ``add_payment`` and the shared ledger interface, and the channels file's
``[card]`` section as docs/channels.example.toml describes it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posrefund.domain.sale import Sale
from posrefund.simulators.acquirer.server import DEMO_TMK, AcquirerSimulator

TERMINAL_ID, MERCHANT_ID = "00000001", "898310000000001"


@dataclass
class CardHost:
    """The running card host, how to tell it about a sale, and its ``[card]`` channels-file section."""

    simulator: AcquirerSimulator
    register: Callable[[Sale], None]
    section: dict[str, Any]
    sale_fields: Callable[[int], dict[str, Any]]
    original_rrn: dict[str, str] = field(default_factory=dict)  # our refund number → the sale's RRN

    def remember(self, refund_no: str, sale: Sale, amount_fen: int) -> str:
        """The host never sees our refund number: it knows a refund by the original sale's RRN (and amount), and
        keys its ledger by terminal:batch:trace. Returns the key a fault for this refund is planned under."""
        self.original_rrn[refund_no] = sale.rrn.zfill(12)
        return f"{sale.rrn.zfill(12)}:{amount_fen}"

    def rows_by_refund(self) -> dict[str, list[dict[str, Any]]]:
        """The host's ledger rows (one per message that moved money or was undone) by our refund number."""
        ours = {rrn: no for no, rrn in self.original_rrn.items()}
        rows: dict[str, list[dict[str, Any]]] = {}
        for row in self.simulator.ledger():
            if (no := ours.get(str(row.get("original_rrn")))) is not None:
                rows.setdefault(no, []).append(row)
        return rows


def start_card_host(answer_timeout: float, slow_seconds: float) -> CardHost:
    """A started card host whose ``latency`` answers come ``slow_seconds`` late; the adapter waits
    ``answer_timeout``."""
    sim = AcquirerSimulator(DEMO_TMK, slow_seconds=slow_seconds)
    host, port = sim.start()
    tmk_file = Path(tempfile.mkdtemp(prefix="posrefund-fleet-card-")) / "tmk.hex"
    tmk_file.write_text(DEMO_TMK.hex(), encoding="utf-8")

    def register(sale: Sale) -> None:
        """The host knows a captured sale by its reference, authorisation, voucher and batch numbers."""
        numbers = (sale.rrn.zfill(12), sale.auth_code.zfill(6), sale.voucher_no.zfill(6), sale.batch_no.zfill(6))
        sim.add_payment(*numbers, sale.amount_fen, sale.paid_at, TERMINAL_ID, settled=True)

    section = {
        "host": host,
        "port": port,
        "tmk_hex_file": str(tmk_file),
        "tpdu_destination": "0006",
        "tpdu_source": "0000",
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
