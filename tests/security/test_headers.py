"""The browser's rules on every answer (Content-Security-Policy without inline script, no framing, no
sniffing, no referrer), the console's cookies (HttpOnly, SameSite=Strict, Secure over HTTPS), and markup
typed into a form shown as text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.entrypoints.api.app import create_app
from posrefund.entrypoints.api.security_headers import CSP, DOCS_CSP
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.api.test_tracking_page import a_case, link
from tests.conftest import PASSWORD, World
from tests.console.conftest import Browser
from tests.support.helpers import new_sale

TEMPLATES = Path(__file__).parents[2] / "src/posrefund/entrypoints/console/templates"
EXACT = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def assert_guarded(r: Any) -> None:
    assert {k: r.headers.get(k) for k in EXACT} == EXACT, r.request.url


def signed_in(app: FastAPI, world: World, role: str, base_url: str = "http://testserver") -> Browser:
    b = Browser(app)
    b.client = TestClient(app, raise_server_exceptions=False, base_url=base_url)
    r = b.sign_in(world.a.usernames[role], PASSWORD)
    assert r.status_code == 303, r.text
    return b


def test_the_sign_in_page_carries_the_policy_and_no_framing(client: TestClient) -> None:
    r = client.get("/console/login")
    assert r.status_code == 200
    assert_guarded(r)
    assert "frame-ancestors 'none'" in CSP and "script-src 'self';" in CSP and "style-src 'self';" in CSP


def test_every_console_page_of_every_role_carries_the_policy(app: FastAPI, world: World) -> None:
    for role, path in (
        ("cashier", "/console/desk"),
        ("supervisor", "/console/review"),
        ("customer_service", "/console/service"),
        ("finance", "/console/reports"),
        ("admin", "/console/admin/users"),
    ):
        b = signed_in(app, world, role)
        r = b.get(path)
        assert r.status_code == 200, path
        assert_guarded(r)
    for r in (b.get("/console/no-such-page"), b.get("/console/static/console.css"), b.get("/console/static/none.js")):
        assert_guarded(r)
    assert [r.status_code for r in (b.get("/console/static/console.js"), b.get("/console/static/tracking.css"))] == [
        200,
        200,
    ]


def test_no_template_has_an_inline_script_handler_or_style() -> None:
    found = []
    for path in sorted(TEMPLATES.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (
            r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>",
            r"\son[a-z]+\s*=",
            r"\sstyle\s*=",
            r"<style",
            r"javascript:",
        ):
            found += [f"{path.name}: {m.group(0)}" for m in re.finditer(pattern, text, re.IGNORECASE)]
    assert found == []


def test_the_tracking_page_carries_the_policy_and_sends_no_referrer(
    client: TestClient, deps: Deps, world: World
) -> None:
    case = a_case(deps, world)
    for r in (client.get(link(deps, case.id)), client.get("/t/forged-token")):
        assert_guarded(r)
        assert "<style" not in r.text and "<script" not in r.text and " style=" not in r.text
    assert r.status_code in (400, 403, 404)


def test_the_json_api_and_its_errors_carry_the_policy(client: TestClient) -> None:
    answers = (client.get("/healthz"), client.get("/v1/refunds"), client.get("/v1/nothing-here"))
    assert [r.status_code for r in answers] == [200, 401, 404]
    for r in answers:
        assert_guarded(r)


def test_the_generated_api_docs_may_load_their_cdn_but_still_not_be_framed(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-security-policy"] == DOCS_CSP
    assert "frame-ancestors 'none'" in DOCS_CSP and r.headers["x-frame-options"] == "DENY"


def cookies_of(r: Any) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in r.headers.get_list("set-cookie")}


def test_the_session_cookie_is_httponly_strict_and_not_secure_over_plain_http(app: FastAPI, world: World) -> None:
    b = Browser(app)
    b.get("/console/login")
    r = b.post("/console/login", {"username": world.a.usernames["cashier"], "password": PASSWORD})
    session = cookies_of(r.history[0] if r.history else r)["prc_session"].lower()
    assert "httponly" in session and "samesite=strict" in session and "path=/console" in session
    assert "secure" not in session.replace("samesite", "")
    assert "strict-transport-security" not in r.headers


def test_over_https_the_session_and_language_cookies_are_secure_with_hsts(app: FastAPI, world: World) -> None:
    b = signed_in(app, world, "cashier", base_url="https://testserver")
    r = b.get("/console/lang", params={"to": "en", "next": "/console/desk"}, follow_redirects=False)
    cookies = cookies_of(r)
    for name in ("prc_session", "prc_lang"):
        assert "; secure" in cookies[name].lower() and "httponly" in cookies[name].lower(), name
    assert r.headers["strict-transport-security"] == "max-age=31536000"


@pytest.fixture
def proxied(deps: Deps, backend: str) -> Iterator[FastAPI]:
    yield create_app(deps, inline=backend == "sqlite", behind_https=True)


def test_behind_a_configured_https_proxy_cookies_are_secure_even_on_plain_http(proxied: FastAPI) -> None:
    with TestClient(proxied, base_url="http://testserver") as c:
        r = c.get("/console/login")
    assert "; secure" in cookies_of(r)["prc_session"].lower()
    assert r.headers["strict-transport-security"] == "max-age=31536000"


def test_a_forwarded_proto_header_from_the_client_does_not_make_the_app_think_https(client: TestClient) -> None:
    r = client.get("/console/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "secure" not in cookies_of(r)["prc_session"].lower().replace("samesite", "")
    assert "strict-transport-security" not in r.headers


def test_markup_typed_into_a_refund_is_shown_as_text(app: FastAPI, deps: Deps, world: World) -> None:
    """Autoescape first, the policy behind it: a note with a script and a handler reaches the page inert."""
    note = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    sale = new_sale(deps, world.a, amount_fen=500_000)
    req = RefundRequest(sale.id, 400_000, "goods_quality", note=note, customer=CustomerInput(name="<b>王</b>"))
    case = refunds.request_refund(deps, world.a.actors["cashier"], req)
    page = signed_in(app, world, "supervisor").get(f"/console/cases/{case.id}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page.text
    assert "<script>alert" not in page.text and "<img src=x" not in page.text and "<b>王" not in page.text
