"""A refund application to the bank (退费申请) through the API, on SQLite and PostgreSQL: prepared on a card
refund with its evidence, the form printed as PDF (read back with pypdf: the sale's fields and the masked card,
never a full number), submitted with a deadline in Chinese business days, answered — and the refusals with
their exact codes: a wallet refund, an outcome before submission, another merchant's case."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from pypdf import PdfReader
from starlette.testclient import TestClient

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.entrypoints.api.app import create_app
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from tests.api.conftest import Auth
from tests.api.test_disputes_api import JPEG, upload
from tests.conftest import World
from tests.support.helpers import sale_body
from tests.support.limits import RELAXED


@pytest.fixture
def app(deps: Deps, backend: str) -> FastAPI:
    """The API with the Chinese calendar behind its business days (rest days, holidays, make-up workdays)."""
    router = Router(channels={}, is_workday=ChineseCalendar().is_workday)
    return create_app(deps, inline=backend == "sqlite", rate_limits=RELAXED, router=router)


# Saturday 2026-11-21 and Sunday 22 are rest days; 15 business days from Friday 20 November land on 11 December.
SUBMITTED_ON = date(2026, 11, 20)
DEADLINE = date(2026, 12, 11)


def card_case(
    client: TestClient, auth: Auth, deps: Deps, world: World, channel: str = "card"
) -> tuple[str, dict[str, Any]]:
    body = sale_body(world.a, deps.clock.now(), channel=channel, amount_fen=128_800, payer_masked="622202******1234")
    if channel != "card":
        body["payer_masked"] = "o***ab"
    sale = client.post("/v1/sales", json=body, headers=auth("a.cashier"))
    assert sale.status_code == 201, sale.text
    receipt = upload(client, auth, "小票.jpg", JPEG, "receipt")
    r = client.post(
        "/v1/refunds",
        json={
            "sale_id": sale.json()["id"],
            "amount_fen": 128_800,
            "reason": "goods_quality",
            "evidence_ids": [receipt],
        },
        headers=auth("a.cashier", **{"Idempotency-Key": f"bank-{channel}"}),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), sale.json()


def test_application_lifecycle(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    case_id, sale = card_case(client, auth, deps, world)
    base = f"/v1/refunds/{case_id}/bank-application"
    prep = {
        "reason": "account_closed",
        "statement": "商户已销户，终端已撤机",
        "attachments": ["签购单复印件", "营业执照复印件"],
    }
    r = client.post(base, json=prep, headers=auth("a.finance"))
    assert r.status_code == 201, r.text
    app = r.json()
    assert (app["status"], app["reason"], len(app["evidence_ids"])) == ("prepared", "account_closed", 1)
    assert client.post(base, json=prep, headers=auth("a.finance")).json()["code"] == "bank_application.open_exists"

    early = client.post(
        f"{base}/{app['id']}/outcome",
        json={"outcome": "accepted", "outcome_on": "2026-11-20"},
        headers=auth("a.finance"),
    )
    assert (early.status_code, early.json()["code"]) == (409, "bank_application.not_submitted")

    pdf = client.get(app["pdf"], headers=auth("a.supervisor"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in (
        "银行卡退费申请书",
        "商户 MA",
        "MA01",
        "2026-11-19 10:00",
        "¥1,288.00",
        sale["voucher_no"],
        sale["rrn"],
    ):
        assert expected in text, expected
    assert "622202******1234" in text and "小票.jpg" in text and "营业执照复印件" in text
    assert re.search(r"\d{13,19}", text.replace(sale["rrn"], "")) is None

    sub = {
        "submitted_on": SUBMITTED_ON.isoformat(),
        "channel": "counter",
        "bank": "中国银行上海分行",
        "bank_reference": "BOC-7781",
    }
    r = client.post(f"{base}/{app['id']}/submit", json=sub, headers=auth("a.finance"))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["deadline"]) == ("submitted", DEADLINE.isoformat())
    again = client.post(f"{base}/{app['id']}/submit", json=sub, headers=auth("a.finance"))
    assert (again.status_code, again.json()["code"]) == (409, "bank_application.already_submitted")

    rejected = {"outcome": "rejected", "outcome_on": "2026-11-20", "bank_reply": ""}
    blank = client.post(f"{base}/{app['id']}/outcome", json=rejected, headers=auth("a.finance"))
    assert (blank.status_code, blank.json()["code"]) == (422, "bank_application.text_required")
    done = {"outcome": "accepted", "outcome_on": "2026-11-20", "bank_reply": "已受理，3 个工作日内退回持卡人"}
    r = client.post(f"{base}/{app['id']}/outcome", json=done, headers=auth("a.finance"))
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    closed = client.post(f"{base}/{app['id']}/outcome", json=done, headers=auth("a.finance"))
    assert (closed.status_code, closed.json()["code"]) == (409, "bank_application.closed")

    events = client.get(f"/v1/refunds/{case_id}/events", headers=auth("a.auditor")).json()["items"]
    actions = [e["action"] for e in events if e["action"].startswith("bank_application.")]
    assert actions == ["bank_application.prepared", "bank_application.submitted", "bank_application.accepted"]
    listed = client.get(base, headers=auth("a.cashier")).json()["items"]
    assert [a["status"] for a in listed] == ["accepted"]


def test_refusals(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    wallet, _ = card_case(client, auth, deps, world, channel="wechat")
    r = client.post(f"/v1/refunds/{wallet}/bank-application", json={"reason": "too_old"}, headers=auth("a.finance"))
    assert (r.status_code, r.json()["code"]) == (409, "bank_application.not_card")

    case_id, _ = card_case(client, auth, deps, world)
    base = f"/v1/refunds/{case_id}/bank-application"
    app = client.post(base, json={"reason": "issuer_dispute"}, headers=auth("a.finance")).json()
    for who, path in (
        ("b.finance", base),
        ("b.admin", f"{base}/{app['id']}"),
        ("b.supervisor", f"{base}/{app['id']}/form.pdf"),
    ):
        r = client.get(path, headers=auth(who))
        assert (r.status_code, r.json()["code"]) == (404, "refund.not_found"), who
    r = client.post(base, json={"reason": "too_old"}, headers=auth("b.finance"))
    assert (r.status_code, r.json()["code"]) == (404, "refund.not_found")
    r = client.post(
        f"{base}/{app['id']}/submit",
        json={"submitted_on": "2026-11-20", "channel": "mail", "bank": "x"},
        headers=auth("a.cashier"),
    )
    assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden")
    r = client.post(
        f"{base}/{app['id']}/submit",
        json={"submitted_on": "2026-12-01", "channel": "mail", "bank": "工行"},
        headers=auth("a.finance"),
    )
    assert (r.status_code, r.json()["code"]) == (422, "bank_application.bad_submission_date")
    r = client.post(
        f"{base}/nope/submit",
        json={"submitted_on": "2026-11-20", "channel": "mail", "bank": "工行"},
        headers=auth("a.finance"),
    )
    assert (r.status_code, r.json()["code"]) == (404, "bank_application.not_found")
