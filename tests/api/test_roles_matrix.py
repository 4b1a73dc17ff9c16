"""Every route × every role, each cell with its one exact answer: a role the route's permission allows gets
the answer the request was built for (mostly the success status; a few requests run into a refusal on
purpose, listed with their code), every other role 403 ``auth.forbidden``. Every route that names an object
answers 404 for another merchant's object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from posrefund.domain.roles import PERMISSIONS, Role
from posrefund.service import evidence, refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import RefundRequest
from tests.api.conftest import Auth
from tests.api.deposit_routes import DEPOSIT_ANSWERS, DEPOSIT_ROUTES
from tests.api.desk_routes import DESK_ANSWER, DESK_ROUTES
from tests.api.document_routes import DOCUMENT_ANSWERS, DOCUMENT_ROUTES
from tests.api.fee_routes import FEE_ANSWER, FEE_ROUTES
from tests.api.hold_routes import HOLD_ANSWERS, HOLD_ROUTES
from tests.api.provider_routes import PROVIDER_ANSWER, PROVIDER_ROUTES
from tests.api.recon_routes import RECON_ROUTES
from tests.api.risk_routes import RISK_ROUTES
from tests.conftest import World
from tests.support.helpers import new_sale, sale_body

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64


@dataclass
class Call:
    method: str
    path: str
    json: Any = None
    files: Any = None
    headers: dict[str, str] | None = None
    data: Any = None


Builder = Callable[[Deps, World, str], Call]


TO_THE_MERCHANTS_ACCOUNT = {
    "type": "MERCHANT_BANK_CARD",
    "consent_by": "顾客本人",
    "consent_how": "counter",
    "consent_at": "2026-11-20T09:00:00+08:00",
    "reason": "原卡已注销",
}


def pending_case(deps: Deps, world: World, m: str = "a") -> str:
    merchant = getattr(world, m)
    sale = new_sale(deps, merchant, amount_fen=90_000)
    return refunds.request_refund(
        deps, merchant.actors["cashier"], RefundRequest(sale_id=sale.id, amount_fen=80_000, reason="other")
    ).id


def an_evidence(deps: Deps, world: World) -> str:
    return str(evidence.upload(deps, world.a.actors["cashier"], content=JPEG, filename="r.jpg", kind="receipt")["id"])


def a_dispute(deps: Deps, world: World) -> str:
    from posrefund.service import disputes

    case_id = pending_case(deps, world)
    return str(disputes.open_dispute(deps, world.a.actors["customer_service"], case_id, "顾客称金额不对")["id"])


def seq(prefix: str = "x") -> str:
    seq.n += 1  # type: ignore[attr-defined]
    return f"{prefix}{seq.n}"  # type: ignore[attr-defined]


seq.n = 0  # type: ignore[attr-defined]


def a_user(deps: Deps, world: World) -> str:
    """A fresh cashier of merchant A, for the routes that change a user."""
    from posrefund.service import admin

    made = admin.create_user(
        deps, world.provider, username=seq("staff"), password="long-password-1", role="cashier", merchant_id=world.a.id
    )
    return str(made["id"])


def a_key(deps: Deps, world: World) -> str:
    from posrefund.domain.roles import Actor
    from posrefund.service import admin

    return str(
        admin.create_api_key(deps, Actor("setup", Role.ADMIN, world.a.id), terminal_id=world.a.terminal_id)["id"]
    )


def user_step(step: str, body: Any = None) -> tuple[str, Builder]:
    return "user.manage+provider", lambda d, w, r: Call("POST", f"/v1/users/{a_user(d, w)}/{step}", body)


# (method, path template) → (permission action, request builder). Ids in paths belong to merchant A.
ROUTES: dict[tuple[str, str], tuple[str, Builder]] = {
    ("GET", "/v1/auth/me"): ("*", lambda d, w, r: Call("GET", "/v1/auth/me")),
    ("POST", "/v1/merchants"): (
        "merchant.create",
        lambda d, w, r: Call("POST", "/v1/merchants", {"code": seq("M"), "name": "新商户"}),
    ),
    ("GET", "/v1/merchants/me"): ("merchant.read", lambda d, w, r: Call("GET", "/v1/merchants/me")),
    ("PUT", "/v1/merchants/{merchant_id}/settlement-account"): (
        "merchant.create",
        lambda d, w, r: Call(
            "PUT",
            f"/v1/merchants/{w.a.id}/settlement-account",
            {"bank": "招商银行", "holder": "商户甲", "account_no": "755912345610801", "reason": "商户来函"},
        ),
    ),
    ("PUT", "/v1/merchants/{merchant_id}/channel-accounts/{channel}"): (
        "merchant.channel_account",
        lambda d, w, r: Call("PUT", f"/v1/merchants/{w.a.id}/channel-accounts/wechat", {"sub_mchid": "1900000109"}),
    ),
    ("GET", "/v1/merchants/{merchant_id}/channel-accounts/{channel}"): (
        "merchant.channel_account",
        lambda d, w, r: Call("GET", f"/v1/merchants/{w.a.id}/channel-accounts/wechat"),
    ),
    ("POST", "/v1/stores"): ("store.manage", lambda d, w, r: Call("POST", "/v1/stores", {"name": "二号店"})),
    ("GET", "/v1/stores"): ("merchant.read", lambda d, w, r: Call("GET", "/v1/stores")),
    ("POST", "/v1/terminals"): (
        "terminal.manage",
        lambda d, w, r: Call(
            "POST", "/v1/terminals", {"store_id": w.a.store_id, "terminal_no": seq("T"), "device_sn": "SN1"}
        ),
    ),
    ("GET", "/v1/terminals"): ("merchant.read", lambda d, w, r: Call("GET", "/v1/terminals")),
    ("POST", "/v1/users"): (
        "user.manage+provider",
        lambda d, w, r: Call(
            "POST",
            "/v1/users",
            {"username": seq("user"), "password": "long-password-1", "role": "cashier", "merchant_id": w.a.id},
        ),
    ),
    ("GET", "/v1/users"): ("user.manage", lambda d, w, r: Call("GET", "/v1/users")),
    ("POST", "/v1/users/{user_id}/deactivate"): user_step("deactivate"),
    ("POST", "/v1/users/{user_id}/activate"): user_step("activate"),
    ("POST", "/v1/users/{user_id}/role"): user_step("role", {"role": "supervisor"}),
    ("POST", "/v1/users/{user_id}/password"): user_step("password", {"temporary_password": "temporary-pw-1"}),
    ("POST", "/v1/users/{user_id}/sign-out-everywhere"): user_step("sign-out-everywhere"),
    ("GET", "/v1/merchants/{merchant_id}/users"): (
        "user.manage+provider",
        lambda d, w, r: Call("GET", f"/v1/merchants/{w.a.id}/users"),
    ),
    ("GET", "/v1/api-keys"): ("apikey.revoke", lambda d, w, r: Call("GET", "/v1/api-keys")),
    ("POST", "/v1/api-keys/{key_id}/revoke"): (
        "apikey.revoke",
        lambda d, w, r: Call("POST", f"/v1/api-keys/{a_key(d, w)}/revoke"),
    ),
    # The caller's own account: a wrong current password is refused after the role check.
    ("POST", "/v1/auth/password"): (
        "account.own",
        lambda d, w, r: Call("POST", "/v1/auth/password", {"old_password": "not-it-at-all", "new_password": "x" * 9}),
    ),
    ("POST", "/v1/auth/sign-out-everywhere"): (
        "account.own",
        lambda d, w, r: Call("POST", "/v1/auth/sign-out-everywhere"),
    ),
    ("POST", "/v1/auth/users/{user_id}/unlock"): (
        "user.manage+provider",
        lambda d, w, r: Call("POST", f"/v1/auth/users/{w.a.actors['cashier'].id}/unlock"),
    ),
    ("POST", "/v1/api-keys"): (
        "apikey.create",
        lambda d, w, r: Call("POST", "/v1/api-keys", {"terminal_id": w.a.terminal_id}),
    ),
    ("GET", "/v1/policy"): ("policy.read", lambda d, w, r: Call("GET", "/v1/policy")),
    ("PUT", "/v1/policy"): ("policy.write", lambda d, w, r: Call("PUT", "/v1/policy", {"refund_window_days": 30})),
    ("POST", "/v1/policy/preview"): (
        "policy.write",
        lambda d, w, r: Call("POST", "/v1/policy/preview", {"auto_approve_limit_fen": 0}),
    ),
    ("POST", "/v1/sales"): ("sale.create", lambda d, w, r: Call("POST", "/v1/sales", sale_body(w.a, d.clock.now()))),
    ("GET", "/v1/sales"): ("sale.read", lambda d, w, r: Call("GET", "/v1/sales?voucher_no=1")),
    ("GET", "/v1/sales/{sale_id}"): ("sale.read", lambda d, w, r: Call("GET", f"/v1/sales/{new_sale(d, w.a).id}")),
    ("POST", "/v1/refunds"): (
        "refund.request",
        lambda d, w, r: Call(
            "POST",
            "/v1/refunds",
            {
                "sale_id": new_sale(d, w.a).id,
                "amount_fen": 100,
                "reason": "other",
                "note": "n",
                "customer": {"phone": "13800000000", "name": "王五", "id_no": "11010519491231002X"},
            },
            headers={"Idempotency-Key": seq("k")},
        ),
    ),
    ("GET", "/v1/refunds"): ("refund.read", lambda d, w, r: Call("GET", "/v1/refunds")),
    ("GET", "/v1/refunds/review-queue"): ("refund.review", lambda d, w, r: Call("GET", "/v1/refunds/review-queue")),
    ("GET", "/v1/refunds/{refund_id}"): (
        "refund.read",
        lambda d, w, r: Call("GET", f"/v1/refunds/{pending_case(d, w)}"),
    ),
    ("POST", "/v1/refunds/{refund_id}/approve"): (
        "refund.review",
        lambda d, w, r: Call("POST", f"/v1/refunds/{pending_case(d, w)}/approve", {"reason": "ok"}),
    ),
    ("POST", "/v1/refunds/{refund_id}/reject"): (
        "refund.review",
        lambda d, w, r: Call("POST", f"/v1/refunds/{pending_case(d, w)}/reject", {"reason": "不符合政策"}),
    ),
    ("POST", "/v1/refunds/{refund_id}/cancel"): (
        "refund.cancel",
        lambda d, w, r: Call("POST", f"/v1/refunds/{pending_case(d, w)}/cancel", {"reason": "撤回"}),
    ),
    ("GET", "/v1/refunds/{refund_id}/events"): (
        "audit.read",
        lambda d, w, r: Call("GET", f"/v1/refunds/{pending_case(d, w)}/events"),
    ),
    ("GET", "/v1/refunds/{refund_id}/items"): (
        "refund.read",
        lambda d, w, r: Call("GET", f"/v1/refunds/{pending_case(d, w)}/items"),
    ),
    ("GET", "/v1/refunds/{refund_id}/attempts"): (
        "refund.read",
        lambda d, w, r: Call("GET", f"/v1/refunds/{pending_case(d, w)}/attempts"),
    ),
    ("POST", "/v1/refunds/{refund_id}/customer/reveal"): (
        "refund.reveal_pii",
        lambda d, w, r: Call("POST", f"/v1/refunds/{pending_case(d, w)}/customer/reveal", {"purpose": "回访"}),
    ),
    ("POST", "/v1/refunds/{refund_id}/retry"): (
        "refund.retry",
        lambda d, w, r: Call("POST", f"/v1/refunds/{pending_case(d, w)}/retry", {"reason": "再试"}),
    ),
    ("POST", "/v1/refunds/{refund_id}/resolve"): (
        "refund.resolve",
        lambda d, w, r: Call(
            "POST", f"/v1/refunds/{pending_case(d, w)}/resolve", {"status": "closed", "reason": "人工处理"}
        ),
    ),
    ("POST", "/v1/refunds/{refund_id}/reroute"): (
        "refund.reroute",
        lambda d, w, r: Call(
            "POST", f"/v1/refunds/{pending_case(d, w)}/reroute", {"method": "cash", "reason": "卡已注销"}
        ),
    ),
    ("POST", "/v1/refunds/{refund_id}/abnormal-refund"): (
        "refund.abnormal_refund",
        lambda d, w, r: Call("POST", f"/v1/refunds/{pending_case(d, w)}/abnormal-refund", TO_THE_MERCHANTS_ACCOUNT),
    ),
    ("GET", "/v1/refunds/{refund_id}/abnormal-refund"): (
        "refund.read",
        lambda d, w, r: Call("GET", f"/v1/refunds/{pending_case(d, w)}/abnormal-refund"),
    ),
    ("POST", "/v1/refunds/{refund_id}/confirm-payout"): (
        "refund.confirm_payout",
        lambda d, w, r: Call("POST", f"/v1/refunds/{pending_case(d, w)}/confirm-payout", {"reference": "till 1"}),
    ),
    ("GET", "/v1/calendar/overrides"): (
        "merchant.read+provider",
        lambda d, w, r: Call("GET", "/v1/calendar/overrides"),
    ),
    ("PUT", "/v1/calendar/overrides"): (
        "calendar.manage",
        lambda d, w, r: Call(
            "PUT", "/v1/calendar/overrides", {"day": "2026-12-31", "workday": False, "note": "银行停业"}
        ),
    ),
    ("POST", "/v1/evidence"): (
        "evidence.upload",
        lambda d, w, r: Call("POST", "/v1/evidence", files={"file": ("r.jpg", JPEG, "image/jpeg")}),
    ),
    ("GET", "/v1/evidence/{evidence_id}"): (
        "evidence.read",
        lambda d, w, r: Call("GET", f"/v1/evidence/{an_evidence(d, w)}"),
    ),
    ("GET", "/v1/evidence/{evidence_id}/content"): (
        "evidence.read",
        lambda d, w, r: Call("GET", f"/v1/evidence/{an_evidence(d, w)}/content"),
    ),
    # --- notifications, contact log, follow-ups, disputes ---
    ("GET", "/v1/refunds/{refund_id}/notifications"): (
        "notify.read",
        lambda d, w, r: Call("GET", f"/v1/refunds/{pending_case(d, w)}/notifications"),
    ),
    ("PUT", "/v1/refunds/{refund_id}/notify-contact"): (
        "notify.contact",
        lambda d, w, r: Call("PUT", f"/v1/refunds/{pending_case(d, w)}/notify-contact", {"language": "en"}),
    ),
    ("POST", "/v1/refunds/{refund_id}/opt-out"): (
        "notify.contact",
        lambda d, w, r: Call("POST", f"/v1/refunds/{pending_case(d, w)}/opt-out", {"scope": "case"}),
    ),
    ("GET", "/v1/notify/templates"): ("notify.read", lambda d, w, r: Call("GET", "/v1/notify/templates")),
    ("PUT", "/v1/notify/templates"): (
        "notify.configure",
        lambda d, w, r: Call(
            "PUT", "/v1/notify/templates", {"event": "paid", "language": "en", "body": "{{ amount }}"}
        ),
    ),
    ("DELETE", "/v1/notify/templates"): (
        "notify.configure",
        lambda d, w, r: Call("DELETE", "/v1/notify/templates?event=paid&language=en"),
    ),
    ("GET", "/v1/notify/gateways"): ("notify.configure", lambda d, w, r: Call("GET", "/v1/notify/gateways")),
    ("PUT", "/v1/notify/gateways"): (
        "notify.configure",
        lambda d, w, r: Call(
            "PUT",
            "/v1/notify/gateways",
            {"kind": "sms", "url": "http://sms.example.cn", "payload": {"m": "to", "c": "text"}},
        ),
    ),
    ("GET", "/v1/merchants/{merchant_id}/notify-contact"): (
        "merchant.contact",
        lambda d, w, r: Call("GET", f"/v1/merchants/{w.a.id}/notify-contact"),
    ),
    ("PUT", "/v1/merchants/{merchant_id}/notify-contact"): (
        "merchant.contact",
        lambda d, w, r: Call("PUT", f"/v1/merchants/{w.a.id}/notify-contact", {"email": "boss@a.example"}),
    ),
    ("POST", "/v1/refunds/{refund_id}/contacts"): (
        "contact.record",
        lambda d, w, r: Call("POST", f"/v1/refunds/{pending_case(d, w)}/contacts", {"kind": "call", "note": "来电"}),
    ),
    ("GET", "/v1/refunds/{refund_id}/contacts"): (
        "contact.read",
        lambda d, w, r: Call("GET", f"/v1/refunds/{pending_case(d, w)}/contacts"),
    ),
    ("GET", "/v1/followups"): ("followup.read", lambda d, w, r: Call("GET", "/v1/followups")),
    ("POST", "/v1/followups/{refund_id}/close"): (
        "followup.close",
        lambda d, w, r: Call("POST", f"/v1/followups/{pending_case(d, w)}/close", {"note": "已到账"}),
    ),
    ("POST", "/v1/disputes"): (
        "dispute.manage",
        lambda d, w, r: Call("POST", "/v1/disputes", {"case_id": pending_case(d, w), "claim": "金额不对"}),
    ),
    ("GET", "/v1/disputes"): ("dispute.read", lambda d, w, r: Call("GET", "/v1/disputes")),
    ("GET", "/v1/disputes/{dispute_id}"): (
        "dispute.read",
        lambda d, w, r: Call("GET", f"/v1/disputes/{a_dispute(d, w)}"),
    ),
    ("POST", "/v1/disputes/{dispute_id}/evidence"): (
        "dispute.manage",
        lambda d, w, r: Call("POST", f"/v1/disputes/{a_dispute(d, w)}/evidence", {"evidence_ids": [an_evidence(d, w)]}),
    ),
    ("POST", "/v1/disputes/{dispute_id}/escalate"): (
        "dispute.manage",
        lambda d, w, r: Call("POST", f"/v1/disputes/{a_dispute(d, w)}/escalate", {"to": "acquirer", "reference": "T1"}),
    ),
    ("POST", "/v1/disputes/{dispute_id}/outcome"): (
        "dispute.decide",
        lambda d, w, r: Call(
            "POST", f"/v1/disputes/{a_dispute(d, w)}/outcome", {"outcome": "rejected", "reason": "无依据"}
        ),
    ),
}
# The reconciliation routes
ROUTES.update({k: (a, lambda d, w, r, b=b: Call(**b(d, w, r))) for k, (a, b) in RECON_ROUTES.items()})
# The reconciliation desk's routes (stored layouts, till checks)
ROUTES.update({k: (a, lambda d, w, r, b=b: Call(**b(d, w, r))) for k, (a, b) in DESK_ROUTES.items()})
# The risk routes
ROUTES.update({k: (a, lambda d, w, r, b=b: Call(**b(d, w, r))) for k, (a, b) in RISK_ROUTES.items()})
# The deposit routes
ROUTES.update({k: (a, lambda d, w, r, b=b: Call(**b(d, w, r))) for k, (a, b) in DEPOSIT_ROUTES.items()})
# The printable documents: bank applications and the refund-cause summary
ROUTES.update({k: (a, lambda d, w, r, b=b: Call(**b(d, w, r))) for k, (a, b) in DOCUMENT_ROUTES.items()})
# The fee contract routes
ROUTES.update({k: (a, lambda d, w, r, b=b: Call(**b(d, w, r))) for k, (a, b) in FEE_ROUTES.items()})
# The card pre-authorisations
ROUTES.update({k: (a, lambda d, w, r, b=b: Call(**b(d, w, r))) for k, (a, b) in HOLD_ROUTES.items()})
# The provider's desk: terminals and device returns (the provider's own staff roles: tests/security/test_provider_tenancy.py)
ROUTES.update({k: (a, lambda d, w, r, b=b: Call(**b(d, w, r))) for k, (a, b) in PROVIDER_ROUTES.items()})
# The refund reports: always the reader's own merchant (tests/api/test_reports_api.py has the figures)
_REPORT = "?from=2026-11-01&to=2026-11-30"
ROUTES.update(
    {
        ("GET", path): ("report.read", lambda d, w, r, path=path, q=q: Call("GET", path + _REPORT + q))
        for path, q in (
            ("/v1/reports/refunds", ""),
            ("/v1/reports/refunds/cases", "&key=2026-11-02"),
            ("/v1/reports/refunds/export.csv", ""),
            ("/v1/reports/refunds/export.xlsx", ""),
        )
    }
)
PUBLIC = {
    ("POST", "/v1/auth/token"),
    ("POST", "/v1/auth/refresh"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),  # this host only, or the metrics token: tests/api/test_health_metrics.py
    ("POST", "/v1/callbacks/wechatpay"),
    ("POST", "/v1/callbacks/alipay"),
}
# What an allowed role is answered where it is not 200, as (status, code): the success status of a route
# that creates or answers nothing, or the refusal its request is built to meet (a case just requested is
# pending review, so it cannot be retried, rerouted, resolved or confirmed paid out yet).
ANSWER: dict[tuple[str, str], tuple[int, str | None]] = {
    ("POST", "/v1/merchants"): (201, None),
    ("POST", "/v1/stores"): (201, None),
    ("POST", "/v1/terminals"): (201, None),
    ("POST", "/v1/users"): (201, None),
    ("POST", "/v1/api-keys"): (201, None),
    ("POST", "/v1/auth/password"): (403, "user.wrong_password"),
    # No sub-merchant account was set for the merchant yet.
    ("GET", "/v1/merchants/{merchant_id}/channel-accounts/{channel}"): (404, "channel_account.not_found"),
    ("POST", "/v1/sales"): (201, None),
    ("POST", "/v1/refunds"): (201, None),
    ("POST", "/v1/evidence"): (201, None),
    ("POST", "/v1/disputes"): (201, None),
    ("POST", "/v1/refunds/{refund_id}/contacts"): (201, None),
    ("POST", "/v1/refunds/{refund_id}/opt-out"): (204, None),
    ("POST", "/v1/auth/users/{user_id}/unlock"): (204, None),
    ("POST", "/v1/refunds/{refund_id}/retry"): (409, "state.invalid_transition"),
    ("POST", "/v1/refunds/{refund_id}/resolve"): (409, "refund.not_abnormal"),
    ("POST", "/v1/refunds/{refund_id}/abnormal-refund"): (409, "abnormal_refund.not_abnormal"),
    ("GET", "/v1/refunds/{refund_id}/abnormal-refund"): (404, "abnormal_refund.none"),
    ("POST", "/v1/holds/alipay"): (409, "hold.channel_unavailable"),  # the test app has no Alipay line
    ("POST", "/v1/refunds/{refund_id}/reroute"): (409, "refund.not_reroutable"),
    ("POST", "/v1/refunds/{refund_id}/confirm-payout"): (409, "refund.not_awaiting_confirmation"),
    # No merchant template was set for the event, so there is none to reset.
    ("DELETE", "/v1/notify/templates"): (404, "notify.template_not_found"),
    # A case just requested has no follow-up yet (it opens once the refund is on its way).
    ("POST", "/v1/followups/{refund_id}/close"): (404, "followup.not_found"),
    ("POST", "/v1/reconciliation/files"): (201, None),
    ("POST", "/v1/reconciliation/refund-imports"): (201, None),  # a file of no rows: nothing to import
    ("POST", "/v1/reconciliation/sales-imports"): (201, None),
    ("POST", "/v1/reconciliation/runs"): (201, None),
    ("POST", "/v1/reconciliation/discrepancies/{discrepancy_id}/wrong-charge"): (201, None),
    # The discrepancy the builder picks is not a lost refund; its wrong charge, a sale only the acquirer's file
    # shows, is refunded by the acquirer's references (booked on the merchant's only terminal).
    ("POST", "/v1/reconciliation/discrepancies/{discrepancy_id}/recover"): (409, "recon.not_recoverable"),
    **FEE_ANSWER,
    ("POST", "/v1/reconciliation/wrong-charges/{wc_id}/correction"): (201, None),
    **DESK_ANSWER,
}
ANSWER.update(DEPOSIT_ANSWERS)
ANSWER.update(DOCUMENT_ANSWERS)
ANSWER.update(PROVIDER_ANSWER)
ANSWER.update(HOLD_ANSWERS)
# Cells where one allowed role is answered otherwise than the route's other allowed roles.
CELL: dict[tuple[str, str, str], tuple[int, str | None]] = {
    # Only the requester (or a supervisor / admin) may withdraw a request; these roles may cancel their own.
    ("POST", "/v1/refunds/{refund_id}/cancel", "customer_service"): (403, "refund.cancel_not_requester"),
    ("POST", "/v1/refunds/{refund_id}/cancel", "terminal"): (403, "refund.cancel_not_requester"),
    # Admin is asked after finance, which already imported the same file and ran the same dates: a replay.
    ("POST", "/v1/reconciliation/files", "admin"): (200, None),
    ("POST", "/v1/reconciliation/runs", "admin"): (200, None),
}
ROLES = ["cashier", "supervisor", "customer_service", "finance", "risk", "auditor", "admin", "terminal", "provider"]
ROLE_OF = {r: Role.PROVIDER_ADMIN if r == "provider" else Role(r) for r in ROLES}


def allowed(action: str, role: str) -> bool:
    if action == "*":
        return True
    if action == "merchant.read+provider":
        return role == "provider" or ROLE_OF[role] in PERMISSIONS["merchant.read"]
    if action == "user.manage+provider":
        return role == "provider" or ROLE_OF[role] in PERMISSIONS["user.manage"]
    return ROLE_OF[role] in PERMISSIONS[action]


def send(client: TestClient, call: Call, headers: dict[str, str]) -> Any:
    return client.request(
        call.method,
        call.path,
        json=call.json,
        files=call.files,
        data=call.data,
        headers={**headers, **(call.headers or {})},
    )


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    assert routes - PUBLIC == set(ROUTES)


def expected(route: tuple[str, str], role: str) -> tuple[int, str | None]:
    action, _ = ROUTES[route]
    if not allowed(action, role):
        return 403, "auth.forbidden"
    return CELL.get((*route, role), ANSWER.get(route, (200, None)))


def test_every_route_declares_the_permission_the_matrix_checks(app: FastAPI) -> None:
    """The roles docs/api.md shows for a route are those this matrix holds it to."""
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            if (method.upper(), path) in ROUTES:
                assert op.get("x-permission") == ROUTES[(method.upper(), path)][0], (method, path)


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_role_matrix(route: tuple[str, str], client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    _, build = ROUTES[route]
    for role in ROLES:
        who = "provider" if role == "provider" else f"a.{role}"
        r = send(client, build(deps, world, role), auth(who))
        status, code = expected(route, role)
        assert r.status_code == status, (role, r.status_code, r.text)
        if code is not None:
            assert r.json()["code"] == code, (role, r.text)


def _merchant_role(action: str) -> str | None:
    """A merchant's own role allowed the action (None: only the provider's admin may call it)."""
    return next((r for r in ROLES if r != "provider" and allowed(action, r)), None)


# Routes only the provider's admin may call: their isolation (another provider's merchant) is in
# tests/api/test_channel_accounts.py.
@pytest.mark.parametrize(
    "route",
    sorted(k for k in ROUTES if "{" in k[1] and _merchant_role(ROUTES[k][0]) is not None),
    ids=lambda r: f"{r[0]} {r[1]}",
)
def test_other_merchants_ids_answer_404(
    route: tuple[str, str], client: TestClient, auth: Auth, deps: Deps, world: World
) -> None:
    action, build = ROUTES[route]
    role = _merchant_role(action)
    assert role is not None
    r = send(client, build(deps, world, role), auth(f"b.{role}"))
    assert r.status_code == 404, (role, r.text)
    assert r.json()["code"].endswith("not_found")


def test_terminal_key_sees_only_its_own_terminal(client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
    from posrefund.domain.roles import Actor
    from posrefund.service import admin

    boss = Actor("setup", Role.ADMIN, world.a.id)
    other = admin.create_terminal(deps, boss, store_id=world.a.store_id, terminal_no="OTHER1", device_sn="SN-O")
    body = sale_body(world.a, deps.clock.now(), terminal_id=other["id"])
    assert client.post("/v1/sales", json=body, headers=auth("a.terminal")).status_code == 404
    foreign = new_sale(deps, world.a, terminal_id=other["id"])
    assert client.get("/v1/refunds?count=true", headers=auth("a.terminal")).json()["total"] == 0
    r = client.post(
        "/v1/refunds",
        json={"sale_id": foreign.id, "amount_fen": 1, "reason": "other"},
        headers=auth("a.terminal", **{"Idempotency-Key": "t1"}),
    )
    assert r.status_code == 404
