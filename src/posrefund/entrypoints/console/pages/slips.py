"""The printable refund slip (退款凭条) of a case: A4, or a 58 / 80 mm receipt roll (``?paper=``), with the
tracking page's QR code as inline SVG (segno), so the page needs nothing but its own style sheet to print."""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import Response

from posrefund.domain.errors import Invalid
from posrefund.entrypoints.console.forms import signed_in
from posrefund.entrypoints.console.texts import EN
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, lang_of, render
from posrefund.service import slips

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
PAPERS = ("a4", "80", "58")
# Dots per QR module: big enough to scan off thermal paper, small enough to fit 58 mm with its quiet zone.
SCALE = {"a4": 4, "80": 4, "58": 3}


def qr_svg(url: str, paper: str, title: str) -> Markup:
    """The link as an inline SVG QR code (medium error correction: a smudged receipt still scans)."""
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=SCALE[paper], title=title, svgclass="qr", lineclass="qrline")
    return Markup(svg)  # noqa: S704 - segno writes path data and escapes the title itself


@router.get("/cases/{case_id}/slip")
async def slip(request: Request, case_id: str) -> Response:
    paper = request.query_params.get("paper", "a4")
    if paper not in PAPERS:
        raise Invalid("console.invalid_choice", field="paper")
    actor, c = signed_in(request)
    found = await c.run(slips.refund_slip, c.deps, actor, c.notify_router, case_id[:64], paper)
    title = "扫码查看退款进度"
    qr = qr_svg(found.tracking_url, paper, EN.get(title, title) if lang_of(request) == "en" else title)
    return render(request, "slip.html", slip=found, paper=paper, papers=PAPERS, qr=qr)
