"""Admin pages: stores, terminals, operators and roles, and the refund policy, each error beside its field."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import DomainError, Invalid
from posrefund.domain.policy import EvidenceKind, Reason, RefundPolicy
from posrefund.domain.roles import MERCHANT_STAFF
from posrefund.domain.sale import Channel
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, Errors, actor_of, ctx_of, lang_of, render
from posrefund.service import admin, policies

router = APIRouter(prefix=PREFIX + "/admin", route_class=ConsoleRoute, include_in_schema=False)
ROLES = sorted(r.value for r in MERCHANT_STAFF)
WINDOW_CHANNELS = (Channel.WECHAT.value, Channel.ALIPAY.value, Channel.UNIONPAY_QR.value)
FIELD_OF = {
    "user.invalid_username": "username",
    "user.username_taken": "username",
    "user.weak_password": "password",
    "user.invalid_role": "role",
    "terminal.invalid_terminal_no": "terminal_no",
    "terminal.no_taken": "terminal_no",
    "store.not_found": "store_id",
    "policy.limits_out_of_order": "auto_approve_limit_fen",
}


async def _form(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    return {n: str(form.get(n) or "")[:400] for n in names}


@router.get("/stores")
async def stores_page(request: Request) -> Response:
    return await stores(request)


async def stores(
    request: Request, errors: Errors | None = None, form: dict[str, str] | None = None, status: int = 200
) -> Response:
    actor = actor_of(request)
    actor.require("store.manage")
    c = ctx_of(request)
    rows = await c.run(admin.list_stores, c.deps, actor)
    return render(
        request, "admin_stores.html", status, rows=rows, form=form or {"name": "", "address": ""}, errors=errors
    )


@router.post("/stores")
async def create_store(request: Request) -> Response:
    actor = actor_of(request)
    c = ctx_of(request)
    form = await _form(request, "name", "address")
    try:
        await c.run(admin.create_store, c.deps, actor, name=form["name"], address=form["address"])
    except DomainError as err:
        if err.code == "auth.forbidden":
            raise
        errors = Errors(lang_of(request))
        errors.add(err, FIELD_OF)
        return await stores(request, errors, form, 422)
    return RedirectResponse(f"{PREFIX}/admin/stores", status_code=303)


@router.get("/terminals")
async def terminals_page(request: Request) -> Response:
    return await terminals(request)


async def terminals(
    request: Request, errors: Errors | None = None, form: dict[str, str] | None = None, status: int = 200
) -> Response:
    actor = actor_of(request)
    actor.require("terminal.manage")
    c = ctx_of(request)
    rows = await c.run(admin.list_terminals, c.deps, actor)
    store_rows = await c.run(admin.list_stores, c.deps, actor)
    return render(
        request,
        "admin_terminals.html",
        status,
        rows=rows,
        stores=store_rows,
        form=form or {"store_id": "", "terminal_no": "", "device_sn": ""},
        errors=errors,
    )


@router.post("/terminals")
async def create_terminal(request: Request) -> Response:
    actor = actor_of(request)
    c = ctx_of(request)
    form = await _form(request, "store_id", "terminal_no", "device_sn")
    try:
        await c.run(
            admin.create_terminal,
            c.deps,
            actor,
            store_id=form["store_id"][:64],
            terminal_no=form["terminal_no"],
            device_sn=form["device_sn"],
        )
    except DomainError as err:
        if err.code == "auth.forbidden":
            raise
        errors = Errors(lang_of(request))
        errors.add(err, FIELD_OF)
        return await terminals(request, errors, form, 422)
    return RedirectResponse(f"{PREFIX}/admin/terminals", status_code=303)


@router.get("/users")
async def users_page(request: Request) -> Response:
    return await users(request)


async def users(
    request: Request, errors: Errors | None = None, form: dict[str, str] | None = None, status: int = 200
) -> Response:
    actor = actor_of(request)
    actor.require("user.manage")
    c = ctx_of(request)
    rows = await c.run(admin.list_users, c.deps, actor)
    return render(
        request,
        "admin_users.html",
        status,
        rows=rows,
        roles=ROLES,
        form=form or {"username": "", "display_name": "", "role": "cashier"},
        errors=errors,
    )


@router.post("/users")
async def create_user(request: Request) -> Response:
    actor = actor_of(request)
    c = ctx_of(request)
    form = await _form(request, "username", "display_name", "role", "password")
    try:
        await c.run(
            admin.create_user,
            c.deps,
            actor,
            username=form["username"],
            password=form["password"],
            role=form["role"],
            display_name=form["display_name"],
        )
    except DomainError as err:
        if err.code == "auth.forbidden":
            raise
        errors = Errors(lang_of(request))
        errors.add(err, FIELD_OF)
        form["password"] = ""  # never sent back to the browser
        return await users(request, errors, form, 422)
    return RedirectResponse(f"{PREFIX}/admin/users", status_code=303)


YUAN_FIELDS = ("auto_approve_limit_fen", "supervisor_limit_fen", "two_person_limit_fen")
COUNT_FIELDS = ("refund_window_days", "max_partial_refunds")


def policy_form(policy: RefundPolicy) -> dict[str, Any]:
    out: dict[str, Any] = {k: fmt.yuan_input(getattr(policy, k)) for k in YUAN_FIELDS}
    out.update({k: str(getattr(policy, k)) for k in COUNT_FIELDS})
    phone = policy.require_customer_phone_above_fen
    out["require_customer_phone_above_fen"] = "" if phone is None else fmt.yuan_input(phone)
    out.update({f"window_{ch}": str(policy.channel_window_days.get(ch, "")) for ch in WINDOW_CHANNELS})
    out["evidence"] = {f"{r}:{k}" for r, kinds in policy.evidence_required.items() for k in kinds}
    return out


def _document(form: Any, errors: Errors) -> dict[str, Any]:
    """The policy document from the form; shapes are checked here, every rule by ``RefundPolicy``."""
    doc: dict[str, Any] = {}
    for name in YUAN_FIELDS:
        try:
            doc[name] = fmt.parse_yuan(str(form.get(name) or ""), name)
        except DomainError as err:
            errors.add(err)
    for name in COUNT_FIELDS:
        try:
            doc[name] = fmt.parse_count(str(form.get(name) or ""), name)
        except DomainError as err:
            errors.add(err)
    phone = str(form.get("require_customer_phone_above_fen") or "").strip()
    try:
        doc["require_customer_phone_above_fen"] = (
            fmt.parse_yuan(phone, "require_customer_phone_above_fen") if phone else None
        )
    except DomainError as err:
        errors.add(err)
    windows: dict[str, int] = {}
    for ch in WINDOW_CHANNELS:
        value = str(form.get(f"window_{ch}") or "").strip()
        if value:
            try:
                windows[ch] = fmt.parse_count(value, f"window_{ch}", low=1, high=100_000)
            except DomainError as err:
                errors.add(err)
    doc["channel_window_days"] = windows
    evidence: dict[str, list[str]] = {}
    for item in form.getlist("evidence"):
        reason, _, kind = str(item).partition(":")
        if reason not in Reason.__members__.values() or kind not in EvidenceKind.__members__.values():
            errors.add(Invalid("console.invalid_choice", field="evidence"))
            continue
        evidence.setdefault(reason, []).append(kind)
    doc["evidence_required"] = evidence
    return doc


@router.get("/policy")
async def policy_page(request: Request) -> Response:
    actor = actor_of(request)
    actor.require("policy.write")
    c = ctx_of(request)
    policy = await c.run(policies.get_policy, c.deps, actor)
    return render(
        request,
        "admin_policy.html",
        form=policy_form(policy),
        reasons=list(Reason),
        kinds=list(EvidenceKind),
        channels=WINDOW_CHANNELS,
        saved=bool(request.query_params.get("saved")),
    )


@router.post("/policy")
async def save_policy(request: Request) -> Response:
    actor = actor_of(request)
    actor.require("policy.write")
    c = ctx_of(request)
    form = await request.form()
    errors = Errors(lang_of(request))
    doc = _document(form, errors)
    if not errors:
        try:
            await c.run(policies.put_policy, c.deps, actor, doc)
        except DomainError as err:
            errors.add(err, FIELD_OF)
    if errors:
        shown = {
            k: str(form.get(k) or "")[:40] for k in (*YUAN_FIELDS, *COUNT_FIELDS, "require_customer_phone_above_fen")
        }
        shown.update({f"window_{ch}": str(form.get(f"window_{ch}") or "")[:12] for ch in WINDOW_CHANNELS})
        values: dict[str, Any] = dict(shown)
        values["evidence"] = {str(x) for x in form.getlist("evidence")}
        return render(
            request,
            "admin_policy.html",
            422,
            form=values,
            reasons=list(Reason),
            kinds=list(EvidenceKind),
            channels=WINDOW_CHANNELS,
            saved=False,
            errors=errors,
        )
    return RedirectResponse(f"{PREFIX}/admin/policy?saved=1", status_code=303)
