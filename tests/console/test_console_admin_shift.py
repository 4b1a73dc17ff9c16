"""Administration a shift needs from the console: unlocking an operator, issuing a terminal key shown once,
the refund policy read by all staff and changed by admins with a preview of its effect on the last 30 days'
refunds. Each change is audited; roles that may not are refused."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from posrefund.adapters.db import tables
from posrefund.service import refunds
from posrefund.service.refunds import RefundRequest
from tests.conftest import World
from tests.console.test_console_pages import count
from tests.support.helpers import new_sale

AUDIT = tables.audit_events.c


def _policy_form(**changes: str) -> dict[str, Any]:
    base = {
        "refund_window_days": "30",
        "max_partial_refunds": "50",
        "auto_approve_limit_fen": "100.00",
        "supervisor_limit_fen": "5000.00",
        "two_person_limit_fen": "10000.00",
        "require_customer_phone_above_fen": "",
    }
    return base | changes


def test_admin_unlocks_a_locked_operator(as_user: Any, world: World, engine: Engine, deps: Any) -> None:
    cashier_id = world.a.actors["cashier"].id
    with engine.begin() as c:
        c.execute(
            update(tables.users)
            .where(tables.users.c.id == cashier_id)
            .values(locked_until=deps.clock.now() + timedelta(minutes=15), failed_logins=10)
        )
    admin = as_user("a.admin")
    page = admin.get("/console/admin/users")
    assert f"/console/admin/users/{cashier_id}/unlock" in page.text and "解除锁定" in page.text
    r = admin.post(f"/console/admin/users/{cashier_id}/unlock", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/console/admin/users?done=unlock")
    assert count(engine, tables.audit_events, AUDIT.action == "user.unlocked") == 1
    with engine.connect() as c:
        row = c.execute(select(tables.users.c.locked_until).where(tables.users.c.id == cashier_id)).one()
    assert row[0] is None


def test_admin_issues_a_key_shown_once(as_user: Any, world: World, engine: Engine) -> None:
    admin = as_user("a.admin")
    admin.get("/console/admin/terminals")
    issued_before = count(engine, tables.audit_events, AUDIT.action == "apikey.created")
    r = admin.post(f"/console/admin/terminals/{world.a.terminal_id}/keys")
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    key = re.search(r'id="issued-key" type="text" readonly value="([^"]+)"', r.text)
    assert key is not None
    me = admin.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {key.group(1)}"})
    assert me.status_code == 200 and me.json()["role"] == "terminal"
    assert key.group(1) not in admin.get("/console/admin/terminals").text
    assert count(engine, tables.audit_events, AUDIT.action == "apikey.created") == issued_before + 1
    missing = admin.post("/console/admin/terminals/trm_nope/keys")
    assert missing.status_code == 404


def test_key_issue_and_unlock_are_refused_to_other_roles(as_user: Any, world: World, engine: Engine) -> None:
    before = count(engine, tables.audit_events, AUDIT.action.in_(("apikey.created", "user.unlocked")))
    supervisor = as_user("a.supervisor")
    supervisor.get("/console/desk")
    assert supervisor.post(f"/console/admin/terminals/{world.a.terminal_id}/keys").status_code == 403
    assert supervisor.post(f"/console/admin/users/{world.a.actors['cashier'].id}/unlock").status_code == 403
    assert count(engine, tables.audit_events, AUDIT.action.in_(("apikey.created", "user.unlocked"))) == before


def test_policy_is_read_by_all_staff_and_saved_by_admins(as_user: Any, world: World) -> None:
    cashier = as_user("a.cashier")
    page = cashier.get("/console/admin/policy")
    assert page.status_code == 200 and "只读" in page.text and '<fieldset class="plain" disabled>' in page.text
    assert "保存政策" not in page.text and 'href="/console/admin/policy"' in page.text
    assert cashier.post("/console/admin/policy/preview", _policy_form()).status_code == 403
    assert cashier.post("/console/admin/policy", _policy_form()).status_code == 403


def test_preview_counts_the_last_30_days_and_saves_nothing(
    as_user: Any, world: World, deps: Any, engine: Engine
) -> None:
    for amount in (5_000, 20_000, 80_000):
        sale = new_sale(deps, world.a, amount_fen=100_000)
        req = RefundRequest(sale_id=sale.id, amount_fen=amount, reason="customer_cancelled")
        refunds.request_refund(deps, world.a.actors["cashier"], req)
    admin = as_user("a.admin")
    admin.get("/console/admin/policy")
    before = count(engine, tables.audit_events, AUDIT.action == "policy.updated")
    stricter = _policy_form(auto_approve_limit_fen="0.00", two_person_limit_fen="500.00", refund_window_days="1")
    r = admin.post("/console/admin/policy/preview", stricter)
    assert r.status_code == 200 and "修改后的影响（近 30 天）" in r.text
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">\d+</td><td class="num">(\d+)</td>', r.text))
    assert rows["需要主管审核"] == "3" and rows["需要双人审批"] == "1" and rows["将被拒绝"] == "0"
    bad = admin.post("/console/admin/policy/preview", _policy_form(auto_approve_limit_fen="9000.00"))
    assert bad.status_code == 422 and 'id="f-auto_approve_limit_fen-err"' in bad.text
    assert count(engine, tables.audit_events, AUDIT.action == "policy.updated") == before
