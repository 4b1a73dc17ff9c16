"""The acquirer simulator's side door, on its own HTTP port (the acquirer's protocol is ISO 8583 over TCP), so a
demo or an operator can look inside and set it up:

- ``GET /__sim__/ledger`` · ``GET /__sim__/payments`` · ``GET /__sim__/messages`` → JSON lists (ledger rows are keyed
  ``terminal:batch:trace`` and carry the original RRN)
- ``GET /__sim__/settlement`` → ``{"csv": …}``: the acquirer's settlement file of everything it executed
- ``POST /__sim__/payments`` ``{rrn, auth_code, voucher_no, batch_no, amount_fen, paid_at, terminal_no,
  merchant_no?, settled?}`` → 201
- ``POST /__sim__/faults`` ``{refund_no, fault, applied?, code?, times?}`` → 204, where ``refund_no`` is the key
  the host knows a message by: ``terminal:batch:trace`` or ``<original RRN>:<amount in fen>``
- ``POST /__sim__/settle`` ``{terminal_no?}`` → 200 with the batches now open
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from posrefund.simulators.acquirer.host import Host
from posrefund.simulators.acquirer.ledger import HostLedger
from posrefund.simulators.acquirer.settlement_file import settlement_csv
from posrefund.simulators.common.side_door import Routes, fault_route


def side_routes(book: HostLedger, host: Host) -> Routes:
    """The routes, read straight from the books and the host: the server module is not needed here."""

    def add_payment(body: dict[str, Any]) -> tuple[int, Any]:
        book.add_payment(
            rrn=str(body["rrn"]),
            auth_code=str(body["auth_code"]),
            voucher_no=str(body["voucher_no"]),
            batch_no=str(body["batch_no"]),
            amount_fen=int(body["amount_fen"]),
            paid_at=datetime.fromisoformat(str(body["paid_at"])),
            terminal_no=str(body["terminal_no"]),
            merchant_no=str(body.get("merchant_no", "")),
            settled=bool(body.get("settled", False)),
        )
        return 201, {"ok": True}

    def settle(body: dict[str, Any]) -> tuple[int, Any]:
        terminal = body.get("terminal_no")
        return 200, book.settle(str(terminal) if terminal is not None else None)

    return {
        ("GET", "ledger"): lambda _: (200, book.ledger()),
        ("GET", "payments"): lambda _: (200, book.payment_rows()),
        ("GET", "messages"): lambda _: (200, host.messages()),
        ("GET", "settlement"): lambda _: (200, {"csv": settlement_csv(book)}),
        ("POST", "payments"): add_payment,
        ("POST", "faults"): fault_route(book.set_fault, status=204),
        ("POST", "settle"): settle,
    }
