"""The documents at the command line: a month's cause summary printed and written as PDF and HTML, and a
card refund's bank application prepared, printed, submitted and answered."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from posrefund.config import Settings
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.integration.test_cli import env, js, run  # noqa: F401 - the CLI's environment fixture
from tests.support.helpers import new_sale


def test_summary_and_bank_application(env: Settings, deps: Deps, world: World, tmp_path: Path) -> None:  # noqa: F811
    sale = new_sale(deps, world.a, channel="card", amount_fen=8_800, payer_masked="436742******9876")
    case = refunds.request_refund(deps, world.a.actors["cashier"], RefundRequest(sale.id, 8_800, "wrong_amount"))
    pdf, html = tmp_path / "m.pdf", tmp_path / "m.html"
    out = js("reports", "summary", "-m", "MA", "--period", "2026-11", "--pdf", str(pdf), "--html", str(html))
    assert (out["refunds"], out["causes"][0]["reason"], out["causes"][0]["refunds"]) == (1, "wrong_amount", 1)
    assert "退款原因月报" in PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    assert "错收金额" in html.read_text(encoding="utf-8")
    bad = run("reports", "summary", "-m", "MA", "--period", "2026-13", ok=False)
    assert bad.exit_code == 1 and "summary.bad_period" in bad.output

    app = js("refund", "bank-application", "prepare", case.id, "-m", "MA", "--reason", "too_old")
    form = tmp_path / "form.pdf"
    run("refund", "bank-application", "pdf", case.id, app["id"], "-m", "MA", str(form))
    assert "436742******9876" in PdfReader(io.BytesIO(form.read_bytes())).pages[0].extract_text()
    sub = ("--on", "2026-11-20", "--channel", "mail", "--bank", "建设银行")
    submitted = js("refund", "bank-application", "submit", case.id, app["id"], "-m", "MA", *sub)
    assert (submitted["status"], submitted["deadline"]) == ("submitted", "2026-12-11")
    done = js(
        "refund",
        "bank-application",
        "outcome",
        case.id,
        app["id"],
        "-m",
        "MA",
        "--result",
        "accepted",
        "--on",
        "2026-11-20",
    )
    assert done["status"] == "accepted"
