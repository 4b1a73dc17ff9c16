"""The acquirer simulator's side door, on its own HTTP port (the acquirer's protocol is ISO 8583 over TCP), so a
demo or an operator can look inside and set it up:

- ``GET /__sim__/ledger`` · ``GET /__sim__/payments`` · ``GET /__sim__/messages`` → JSON lists
- ``POST /__sim__/payments`` ``{rrn, auth_code, voucher_no, batch_no, amount_fen, paid_at, terminal_no,
  merchant_no?, settled?}`` → 201
- ``POST /__sim__/faults`` ``{refund_no, fault, applied?, code?, times?}`` → 204
- ``POST /__sim__/settle`` ``{terminal_no?}`` → 200 with the batches now open
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from posrefund.simulators.common.faults import Fault
from posrefund.simulators.common.side_door import Routes, fault_route


class SideDoorHost(Protocol):
    """What the side door needs of the simulator (so this module does not import the server)."""

    def ledger(self) -> list[dict[str, Any]]: ...
    def payments(self) -> list[dict[str, Any]]: ...
    def messages(self) -> list[dict[str, Any]]: ...
    def settle(self, terminal_no: str | None = None) -> dict[str, str]: ...
    def set_fault(
        self, refund_no: str, fault: str, *, applied: bool | None = None, code: str = "", times: int | None = None
    ) -> None: ...
    def add_payment(
        self,
        rrn: str,
        auth_code: str,
        voucher_no: str,
        batch_no: str,
        amount_fen: int,
        paid_at: datetime,
        terminal_no: str,
        *,
        merchant_no: str = "",
        settled: bool = False,
    ) -> None: ...


def side_routes(sim: SideDoorHost) -> Routes:
    def add_payment(body: dict[str, Any]) -> tuple[int, Any]:
        sim.add_payment(
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

    def set_fault(refund_no: str, fault: Fault) -> None:
        sim.set_fault(refund_no, fault.name, applied=fault.applied, code=fault.code, times=fault.times)

    def settle(body: dict[str, Any]) -> tuple[int, Any]:
        terminal = body.get("terminal_no")
        return 200, sim.settle(str(terminal) if terminal is not None else None)

    return {
        ("GET", "ledger"): lambda _: (200, sim.ledger()),
        ("GET", "payments"): lambda _: (200, sim.payments()),
        ("GET", "messages"): lambda _: (200, sim.messages()),
        ("POST", "payments"): add_payment,
        ("POST", "faults"): fault_route(set_fault, status=204),
        ("POST", "settle"): settle,
    }
