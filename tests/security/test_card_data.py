"""A full card number written any way, sent through any HTTP input, is refused at the one boundary with
422 ``pan_detected`` naming the field only; afterwards neither the database nor the log holds it.

One test per (written form × input channel). The API answers JSON; the console (forms a person posts)
answers an HTML page that carries the same code.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from posrefund.adapters.db import tables
from tests.api.conftest import Auth, refund_body
from tests.console.test_console_pages import PNG, refund_form
from tests.security.probes import WRITTEN, Probe

FORMS = sorted(WRITTEN)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["code"], body["params"]) == ("pan_detected", {"field": field})


def refused_page(r: Any) -> None:
    assert r.status_code == 422, r.text
    assert 'data-code="pan_detected"' in r.text and "请勿提交完整银行卡号" in r.text


@pytest.mark.parametrize("form", FORMS)
def test_json_body(form: str, client: TestClient, auth: Auth, probe: Probe) -> None:
    body = refund_body(probe.sale().id, note=f"顾客卡号 {WRITTEN[form]} 请退")
    refused(client.post("/v1/refunds", json=body, headers=auth("a.cashier", **{"Idempotency-Key": "k1"})), "note")
    probe.nothing_kept(WRITTEN[form])


@pytest.mark.parametrize("form", FORMS)
def test_json_body_with_a_capitalised_content_type(form: str, client: TestClient, auth: Auth, probe: Probe) -> None:
    body = json.dumps(refund_body(probe.sale().id, note=WRITTEN[form]), ensure_ascii=False).encode()
    headers = auth("a.cashier", **{"Idempotency-Key": "k-cap", "Content-Type": "Application/JSON"})
    refused(client.post("/v1/refunds", content=body, headers=headers), "note")
    probe.nothing_kept(WRITTEN[form])


@pytest.mark.parametrize("encoding", ["form", "multipart"])
@pytest.mark.parametrize("form", FORMS)
def test_form_field(form: str, encoding: str, as_user: Any, probe: Probe) -> None:
    """A console form, URL-encoded or multipart (with a photo): the note is kept with the refund."""
    sale = probe.sale()
    cashier = as_user("a.cashier")
    data = {**refund_form(cashier, sale.id, note=WRITTEN[form]), "csrf": cashier.csrf}
    files = {"evidence": ("r.png", PNG, "image/png")} if encoding == "multipart" else None
    refused_page(cashier.client.post(f"/console/desk/sale/{sale.id}", data=data, files=files))
    assert probe.rows(tables.evidence) == 0
    probe.nothing_kept(WRITTEN[form])


@pytest.mark.parametrize("form", FORMS)
def test_multipart_file_name(form: str, client: TestClient, auth: Auth, probe: Probe) -> None:
    files = {"file": (f"{WRITTEN[form]}.jpg", JPEG, "image/jpeg")}
    refused(client.post("/v1/evidence", files=files, headers=auth("a.cashier")), "file.filename")
    assert probe.rows(tables.evidence) == 0
    probe.nothing_kept(WRITTEN[form])


@pytest.mark.parametrize("form", FORMS)
def test_query(form: str, client: TestClient, auth: Auth, probe: Probe) -> None:
    refused(client.get("/v1/sales", params={"order_no": WRITTEN[form]}, headers=auth("a.cashier")), "order_no")
    probe.nothing_kept(WRITTEN[form])


@pytest.mark.parametrize("form", FORMS)
def test_path(form: str, client: TestClient, auth: Auth, probe: Probe) -> None:
    refused(client.get(f"/v1/refunds/{WRITTEN[form]}", headers=auth("a.cashier")), "path")
    probe.nothing_kept(WRITTEN[form])  # the access log names the path: redacted
    assert '"path": "/v1/refunds/[PAN]' in probe.log()


@pytest.mark.parametrize("form", FORMS)
def test_header(form: str, client: TestClient, auth: Auth, probe: Probe) -> None:
    """The idempotency key is stored with the refund it guards: a card number in it would be kept."""
    headers: dict[str, Any] = {**auth("a.cashier"), "Idempotency-Key": WRITTEN[form].encode("utf-8")}
    refused(client.post("/v1/refunds", json=refund_body(probe.sale().id), headers=headers), "headers.idempotency-key")
    probe.nothing_kept(WRITTEN[form])
