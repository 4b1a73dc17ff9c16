"""The reconciliation routes for the role × route matrix: each builder returns the request
as keyword arguments of ``Call``; ids in paths belong to merchant A."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from posrefund.adapters.settlement import file_fingerprint, parse_card_settlement
from posrefund.service import reconciliation, wrong_charges
from posrefund.service.deps import Deps
from tests.conftest import World

CARD = Path(__file__).parent.parent / "fixtures" / "settlement" / "card_acquirer.csv"
DAY = date(2026, 11, 20)
P = "/v1/reconciliation"


def a_file(d: Deps, w: World) -> str:
    report = reconciliation.import_file(
        d,
        w.a.actors["finance"],
        source="card",
        filename=CARD.name,
        fingerprint=file_fingerprint(CARD),
        size=CARD.stat().st_size,
        lines=parse_card_settlement(CARD),
    )
    return report.file_id


def a_run(d: Deps, w: World) -> str:
    a_file(d, w)
    return str(reconciliation.reconcile(d, w.a.actors["finance"], source="card", date_from=DAY, date_to=DAY)["id"])


def a_discrepancy(d: Deps, w: World, free: bool = False) -> int:
    rows, _ = reconciliation.list_discrepancies(d, w.a.actors["finance"], a_run(d, w), limit=500)
    if free:
        rows = [r for r in rows if not r["wrong_charge_id"]] or rows
    return int(rows[0]["id"])


def a_wrong_charge(d: Deps, w: World) -> str:
    rows, _ = reconciliation.list_discrepancies(d, w.a.actors["finance"], a_run(d, w), limit=500)
    for r in rows:
        if r["wrong_charge_id"]:
            return str(r["wrong_charge_id"])
    return str(wrong_charges.open_case(d, w.a.actors["finance"], int(rows[0]["id"]))["id"])


def run_call(d: Deps, w: World) -> dict[str, Any]:
    a_file(d, w)
    body = {"source": "card", "date_from": DAY.isoformat(), "date_to": DAY.isoformat()}
    return {"method": "POST", "path": f"{P}/runs", "json": body}


Builder = Callable[[Deps, World, str], dict[str, Any]]
RECON_ROUTES: dict[tuple[str, str], tuple[str, Builder]] = {
    ("POST", f"{P}/files"): (
        "recon.import",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/files?source=card",
            "files": {"file": ("card.csv", CARD.read_bytes(), "text/csv")},
        },
    ),
    ("POST", f"{P}/refund-imports"): (
        "recon.import",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/refund-imports",
            "files": {"file": ("refunds.csv", b"refund_no,channel,order_no,amount_fen,refunded_at\n", "text/csv")},
        },
    ),
    ("POST", f"{P}/sales-imports"): (
        "sale.import",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/sales-imports",
            "files": {"file": ("sales.csv", b"terminal_id,order_no,channel,amount_fen,paid_at\n", "text/csv")},
        },
    ),
    ("GET", f"{P}/files/{{file_id}}"): (
        "recon.read",
        lambda d, w, r: {"method": "GET", "path": f"{P}/files/{a_file(d, w)}"},
    ),
    ("POST", f"{P}/files/{{file_id}}/withdraw"): (
        "recon.import",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/files/{a_file(d, w)}/withdraw",
            "json": {"reason": f"渠道重新生成了对账单 {r}"},
        },
    ),
    ("POST", f"{P}/runs"): (
        "recon.run",
        lambda d, w, r: run_call(d, w),
    ),
    ("GET", f"{P}/runs/{{run_id}}"): (
        "recon.read",
        lambda d, w, r: {"method": "GET", "path": f"{P}/runs/{a_run(d, w)}"},
    ),
    ("GET", f"{P}/runs/{{run_id}}/discrepancies"): (
        "recon.read",
        lambda d, w, r: {"method": "GET", "path": f"{P}/runs/{a_run(d, w)}/discrepancies?class=missing_here"},
    ),
    ("GET", f"{P}/runs/{{run_id}}/discrepancies.csv"): (
        "recon.read",
        lambda d, w, r: {"method": "GET", "path": f"{P}/runs/{a_run(d, w)}/discrepancies.csv"},
    ),
    ("GET", f"{P}/discrepancies/{{discrepancy_id}}"): (
        "recon.read",
        lambda d, w, r: {"method": "GET", "path": f"{P}/discrepancies/{a_discrepancy(d, w)}"},
    ),
    ("POST", f"{P}/discrepancies/{{discrepancy_id}}/recover"): (
        "recon.correct",
        lambda d, w, r: {"method": "POST", "path": f"{P}/discrepancies/{a_discrepancy(d, w)}/recover", "json": {}},
    ),
    ("POST", f"{P}/discrepancies/{{discrepancy_id}}/wrong-charge"): (
        "recon.case",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/discrepancies/{a_discrepancy(d, w, free=True)}/wrong-charge",
            "json": {"cause": "channel_error", "responsible": "acquirer"},
        },
    ),
    ("GET", f"{P}/wrong-charges/{{wc_id}}"): (
        "recon.read",
        lambda d, w, r: {"method": "GET", "path": f"{P}/wrong-charges/{a_wrong_charge(d, w)}"},
    ),
    ("PATCH", f"{P}/wrong-charges/{{wc_id}}"): (
        "recon.case",
        lambda d, w, r: {
            "method": "PATCH",
            "path": f"{P}/wrong-charges/{a_wrong_charge(d, w)}",
            "json": {"analysis": f"复核 {r}"},
        },
    ),
    ("POST", f"{P}/wrong-charges/{{wc_id}}/correction"): (
        "recon.correct",
        lambda d, w, r: {
            "method": "POST",
            "path": f"{P}/wrong-charges/{a_wrong_charge(d, w)}/correction",
            "json": {"amount_fen": 100},
        },
    ),
    ("GET", f"{P}/fee-rates"): ("recon.read", lambda d, w, r: {"method": "GET", "path": f"{P}/fee-rates"}),
    ("PUT", f"{P}/fee-rates"): (
        "recon.fee_rates",
        lambda d, w, r: {"method": "PUT", "path": f"{P}/fee-rates", "json": {"channel": "card", "rate_bp": 60}},
    ),
}
