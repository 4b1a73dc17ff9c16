"""No console page answers 500, whatever query string or form a client throws at it (Hypothesis, SQLite)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posrefund.service import disputes, refunds
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import World
from tests.console.conftest import Browser
from tests.support.helpers import new_sale

NASTY = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "1e9",
        "12.345",
        "9" * 40,
        "2026-02-30",
        "2026-11-20",
        "../..",
        "<script>x</script>",
        "'; DROP TABLE refunds;--",
        "13812345678",
        "approve",
        "reject",
        "goods_quality",
        "receipt",
        "\u202e",
        "ｘ" * 600,
    ]
)
VALUE = st.one_of(NASTY, st.text(max_size=80))
FIELDS = [
    "voucher_no",
    "order_no",
    "last4",
    "amount",
    "on",
    "reason",
    "note",
    "phone",
    "name",
    "evidence_kind",
    "form_id",
    "decision",
    "purpose",
    "channel",
    "escalate",
    "status",
    "store_id",
    "from",
    "to",
    "page",
    "username",
    "display_name",
    "role",
    "password",
    "terminal_no",
    "device_sn",
    "address",
    "refund_window_days",
    "max_partial_refunds",
    "auto_approve_limit_fen",
    "supervisor_limit_fen",
    "two_person_limit_fen",
    "require_customer_phone_above_fen",
    "window_wechat",
    "evidence",
    "next",
    "to",
    # notifications, follow-ups, disputes and their settings
    "language",
    "email",
    "wechat_openid",
    "scope",
    "claim",
    "claimed",
    "evidence_id",
    "reference",
    "outcome",
    "subject",
    "body",
    "do",
    "url",
    "payload",
    "credential",
    "sms.url",
    "min_days",
    "part",
]
FORM = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), VALUE, max_size=10)

GETS = [
    "/console/desk",
    "/console/review",
    "/console/service",
    "/console/reports",
    "/console/reports/export.csv",
    "/console/admin/stores",
    "/console/admin/terminals",
    "/console/admin/users",
    "/console/admin/policy",
    "/console/lang",
    "/console/login",
    "/console/cases/{case}",
    "/console/cases/{case}/live",
    "/console/desk/sale/{sale}",
    "/console/desk/answer/{case}",
    "/console/evidence/{case}",
    # notifications, follow-ups, disputes and their settings
    "/console/cases/{case}/notify",
    "/console/followups",
    "/console/disputes",
    "/console/disputes/{dispute}",
    "/console/admin/notify",
    "/console/admin/notify/templates/paid/zh",
    "/console/admin/notify/templates/{case}/en",
    "/console/admin/notify/gateways",
    # reconciliation; the pages with ids: tests/console/test_console_reconciliation_junk.py
    "/console/recon",
]
POSTS = [
    "/console/desk/sale/{sale}",
    "/console/cases/{case}/review",
    "/console/cases/{case}/reveal",
    "/console/cases/{case}/contact",
    "/console/admin/stores",
    "/console/admin/terminals",
    "/console/admin/users",
    "/console/admin/policy",
    "/console/login",
    "/console/logout",
    # notifications, follow-ups, disputes and their settings
    "/console/cases/{case}/notify/contact",
    "/console/cases/{case}/notify/opt-out",
    "/console/cases/{case}/notify/link",
    "/console/cases/{case}/disputes",
    "/console/followups/{case}/close",
    "/console/disputes/{dispute}/evidence",
    "/console/disputes/{dispute}/escalate",
    "/console/disputes/{dispute}/decide",
    "/console/admin/notify/templates/paid/zh",
    "/console/admin/notify/gateways/sms",
    # reconciliation
    "/console/recon/import",
    "/console/recon/run",
]
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _ids(deps: Any, world: World) -> dict[str, str]:
    sale = new_sale(deps, world.a, amount_fen=300_000)
    req = RefundRequest(
        sale_id=sale.id, amount_fen=200_000, reason="goods_quality", customer=CustomerInput(phone="13912345678")
    )
    case = refunds.request_refund(deps, world.a.actors["cashier"], req)
    dispute = disputes.open_dispute(deps, world.a.actors["customer_service"], case.id, "顾客不同意")
    return {"sale": sale.id, "case": case.id, "dispute": dispute["id"]}


def _path(template: str, ids: dict[str, str], junk_id: str | None) -> str:
    junk = quote(junk_id, safe="") if junk_id else None
    return template.format(sale=junk or ids["sale"], case=junk or ids["case"], dispute=junk or ids["dispute"])


JUNK_ID = st.one_of(st.none(), st.text(max_size=70).filter(bool))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("route", GETS)
def test_no_500_on_any_query_string(route: str, as_user: Any, world: World, deps: Any) -> None:
    ids = _ids(deps, world)
    users = {"admin": as_user("a.admin"), "cashier": as_user("a.cashier")}

    @SETTINGS
    @given(params=FORM, junk_id=JUNK_ID, who=st.sampled_from(sorted(users)))
    def run(params: dict[str, str], junk_id: str | None, who: str) -> None:
        b: Browser = users[who]
        r = b.client.get(_path(route, ids, junk_id), params=params, follow_redirects=False)
        assert r.status_code < 500, (route, params, r.text[:500])

    run()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("route", POSTS)
def test_no_500_on_any_form(route: str, as_user: Any, world: World, deps: Any) -> None:
    ids = _ids(deps, world)
    users = {"admin": as_user("a.admin"), "supervisor2": as_user("a.supervisor2")}

    @SETTINGS
    @given(form=FORM, junk_id=JUNK_ID, who=st.sampled_from(sorted(users)), multipart=st.booleans())
    def run(form: dict[str, str], junk_id: str | None, who: str, multipart: bool) -> None:
        b: Browser = users[who]
        data = {**form, "csrf": b.csrf}
        files = {"evidence": ("x.bin", b"\x00\xff junk", "application/octet-stream")} if multipart else None
        r = b.client.post(_path(route, ids, junk_id), data=data, files=files, follow_redirects=False)
        assert r.status_code < 500, (route, form, r.text[:500])
        seen.add(r.status_code)
        if route == "/console/logout" or (route == "/console/login" and r.status_code == 303):
            b.sign_in(b_name[who])  # stay signed in for the next example

    b_name = {who: world.a.usernames[who] for who in users}
    seen: set[int] = set()
    run()
    assert seen - {403}, "every form was refused before reaching its page: the test would prove nothing"
