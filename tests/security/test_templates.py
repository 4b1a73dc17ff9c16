"""A merchant's notification template is untrusted input: one that would blow up in size or give a filter
a bad argument is refused when it is saved (422 with a code that names the problem), and one stored before
these rules came in never breaks a send (the default text goes out instead) and never answers 500."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from fastapi import FastAPI
from jinja2 import TemplateError
from starlette.testclient import TestClient

from posrefund.adapters.notifiers.http_gateway import gateway_from
from posrefund.domain.notification import TEMPLATE_VARIABLES
from posrefund.entrypoints.api.app import create_app
from posrefund.service.deps import Deps
from posrefund.service.notifications import sending
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.notifications.templates import MAX_BODY, MAX_FILTERS, render_text
from tests.api.conftest import Auth
from tests.api.test_notify_api import a_refund
from tests.conftest import World
from tests.security.test_headers import signed_in
from tests.support.notifications import SMS_PAYLOAD, gateway_server

# Each replace of "" by ten characters makes its input eleven times longer: six make 50 MB of a link.
SIX_REPLACES = "{{ link" + '|replace("", "xxxxxxxxxx")' * 6 + " }}"
LONGEST_CHAIN = "{{ link" + '|replace("", "xxxxxxxxxx")' * ((MAX_BODY - 12) // 26) + " }}"


def put(client: TestClient, auth: Auth, body: str, lang: str = "zh") -> dict[str, object]:
    r = client.put(
        "/v1/notify/templates",
        json={"event": "accepted", "language": "zh", "subject": "s", "body": body},
        headers=auth("a.admin", **{"Accept-Language": lang}),
    )
    return {"status": r.status_code, **r.json()}


def test_a_replace_chain_is_refused_at_save(client: TestClient, auth: Auth) -> None:
    got = put(client, auth, SIX_REPLACES)
    assert (got["status"], got["code"], got["params"]) == (
        422,
        "notify.template_unsafe",
        {"field": "body", "limit": 4096, "where": "replace"},
    )
    assert got["message"] == ("模板会生成超过 4096 个字符的消息（正文，replace）：请减少替换等会加长文字的过滤器")


def test_the_longest_filter_chain_a_template_can_hold_is_refused_at_once(client: TestClient, auth: Auth) -> None:
    assert len(LONGEST_CHAIN) <= MAX_BODY
    started = time.process_time()  # CPU of this process (server thread included): a busy neighbour cannot add to it
    got = put(client, auth, LONGEST_CHAIN)
    assert time.process_time() - started < 1.0  # a blow-up takes minutes
    assert (got["status"], got["code"], got["params"]) == (
        422,
        "notify.template_too_complex",
        {"field": "body", "count": 76, "most": 24},
    )


def test_the_longest_chain_that_passes_renders_in_bounded_time() -> None:
    chain = "{{ link" + '|replace("", "xxxxxxxxxx")' * MAX_FILTERS + " }}"
    started = time.process_time()
    with pytest.raises(TemplateError):
        render_text(chain, TEMPLATE_VARIABLES)
    assert time.process_time() - started < 0.5


def test_a_truncate_shorter_than_its_ellipsis_is_refused_at_save_not_500(client: TestClient, auth: Auth) -> None:
    got = put(client, auth, "{{ link|truncate(1) }}", lang="en")
    assert (got["status"], got["code"], got["params"]) == (
        422,
        "notify.template_bad_argument",
        {"field": "body", "filter": "truncate", "argument": "end", "value": "'...'"},
    )
    assert got["message"] == "Invalid argument end of filter truncate in the template (body): '...'"


@pytest.mark.parametrize(
    ("body", "argument"),
    [
        ("{{ link|truncate('a') }}", "length"),
        ("{{ link|truncate(0) }}", "length"),
        ("{{ link|truncate(999999999999) }}", "length"),
        ("{{ link|truncate(9, 'yes') }}", "killwords"),
        ("{{ link|truncate(9, false, '..', '1') }}", "leeway"),
        ("{{ link|replace(1, 'x') }}", "old"),
        ("{{ link|replace('a', 'b', '3') }}", "count"),
        ("{{ link|trim(5) }}", "chars"),
        ("{{ link|default(none, 'no') }}", "default_value"),
    ],
)
def test_every_bad_filter_argument_is_refused_by_name(client: TestClient, auth: Auth, body: str, argument: str) -> None:
    got = put(client, auth, body)
    assert (got["status"], got["code"]) == (422, "notify.template_bad_argument"), body
    assert isinstance(got["params"], dict) and got["params"]["argument"] == argument


def test_a_template_whose_text_is_over_the_limit_is_refused(client: TestClient, auth: Auth) -> None:
    body = "{{ " + " ~ ".join(["link"] * 150) + " }}"  # 1,050 characters of template, 4,350 of message
    got = put(client, auth, body)
    assert (got["status"], got["code"], got["params"]) == (
        422,
        "notify.template_unsafe",
        {"field": "body", "limit": 4096, "where": "text"},
    )


def test_the_message_limit_is_configurable(deps: Deps, backend: str, world: World) -> None:
    app = create_app(replace(deps, message_limit=200), inline=backend == "sqlite")
    with TestClient(app, raise_server_exceptions=False) as client:
        got = put(client, Auth(app, world), "{{ " + " ~ ".join(["link"] * 7) + " }}")  # 203 characters
    assert (got["status"], got["code"], got["params"]) == (
        422,
        "notify.template_unsafe",
        {"field": "body", "limit": 200, "where": "text"},
    )


def test_the_console_preview_of_a_bad_template_answers_422_not_500(app: FastAPI, world: World) -> None:
    admin = signed_in(app, world, "admin")
    path = "/console/admin/notify/templates/paid/zh"
    for body in ("{{ link|truncate(1) }}", SIX_REPLACES):
        r = admin.post(path, {"subject": "s", "body": body, "do": "preview"})
        assert r.status_code == 422, body
    assert "模板会生成超过 4096 个字符的消息" in r.text


@pytest.mark.parametrize("stored", ["{{ link|truncate(1) }}", SIX_REPLACES, LONGEST_CHAIN])
def test_a_stored_template_that_no_longer_passes_sends_the_default_text(
    client: TestClient, auth: Auth, deps: Deps, world: World, stored: str
) -> None:
    """As if saved before these rules: written straight to the table, past the service's check."""
    with deps.uow() as uow:
        uow.notify_settings.put_template(
            {
                "merchant_id": world.a.id,
                "event": "accepted",
                "language": "zh",
                "subject": "s",
                "body": stored,
                "updated_by": "x",
                "updated_at": deps.clock.now(),
            }
        )
        uow.commit()
    with gateway_server() as gw:
        router = NotifyRouter(gateways={"sms": gateway_from("sms", {"url": gw.url, "payload": SMS_PAYLOAD}, "")})
        a_refund(client, auth, deps, world)
        started = time.perf_counter()
        sending.sweep(deps, router)
        assert time.perf_counter() - started < 5
        texts = gw.texts()
    assert [t for t in texts if "您的退款申请已受理" in t] == [texts[0]] and "xxx" not in "".join(texts)
