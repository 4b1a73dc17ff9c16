"""Admin pages: stores, terminals, operators and roles, and the refund policy, each error beside its field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import Invalid
from posrefund.domain.policy import EvidenceKind, Reason, RefundPolicy
from posrefund.domain.roles import MERCHANT_STAFF
from posrefund.domain.sale import Channel
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.web import (
    PREFIX,
    ConsoleRoute,
    actor_of,
    allowed,
    ctx_of,
    lang_of,
    may,
    render,
    submit,
)
from posrefund.service import accounts, admin, auth, policies, policy_preview
from posrefund.service.policy_preview import PolicyPreview

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


async def _create(
    request: Request,
    names: tuple[str, ...],
    create: Callable[..., Any],
    args: Callable[[dict[str, str]], dict[str, str]],
    again: Callable[[Request, Errors, dict[str, str], int], Awaitable[Response]],
) -> Response:
    """Create a store, terminal or operator from its form; a refusal comes back beside its field with what
    was typed, except the password, which is never sent back to the browser."""
    actor = actor_of(request)
    c = ctx_of(request)
    form = await _form(request, *names)
    shown = form | ({"password": ""} if "password" in form else {})

    async def step() -> None:
        await c.run(create, c.deps, actor, **args(form))

    return await submit(
        request,
        step,
        lambda errors: again(request, errors, shown, 422),
        request.url.path,
        FIELD_OF,
        passing=("auth.forbidden",),
    )


@router.get("/stores")
async def stores_page(request: Request) -> Response:
    return await stores(request)


async def stores(
    request: Request, errors: Errors | None = None, form: dict[str, str] | None = None, status: int = 200
) -> Response:
    actor, c = allowed(request, "store.manage")
    rows = await c.run(admin.list_stores, c.deps, actor)
    return render(
        request, "admin_stores.html", status, rows=rows, form=form or {"name": "", "address": ""}, errors=errors
    )


@router.post("/stores")
async def create_store(request: Request) -> Response:
    return await _create(request, ("name", "address"), admin.create_store, dict, stores)


@router.get("/terminals")
async def terminals_page(request: Request) -> Response:
    return await terminals(request)


async def terminals(
    request: Request,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
    issued: dict[str, Any] | None = None,
) -> Response:
    actor, c = allowed(request, "terminal.manage")
    rows = await c.run(admin.list_terminals, c.deps, actor)
    store_rows = await c.run(admin.list_stores, c.deps, actor)
    keys = await c.run(accounts.list_api_keys, c.deps, actor) if may(actor, "apikey.revoke") else []
    return render(
        request,
        "admin_terminals.html",
        status,
        errors=errors,
        rows=rows,
        stores=store_rows,
        keys=keys,
        done=request.query_params.get("done", "") == "revoked",
        issued=issued,
        form=form or {"store_id": "", "terminal_no": "", "device_sn": ""},
    )


@router.post("/terminals")
async def create_terminal(request: Request) -> Response:
    return await _create(
        request,
        ("store_id", "terminal_no", "device_sn"),
        admin.create_terminal,
        lambda f: f | {"store_id": f["store_id"][:64]},
        terminals,
    )


@router.post("/terminals/{terminal_id}/keys")
async def issue_key(request: Request, terminal_id: str) -> Response:
    """A new key for a terminal (a new or re-installed POS), shown on this page once and never again: only
    its hash is kept. The page is not cached (``no-store``) and not reached by a redirect, so a reload does
    not show it again but asks to issue another."""
    actor, c = allowed(request, "apikey.create")
    key = await c.run(admin.create_api_key, c.deps, actor, terminal_id=terminal_id[:64])
    return await terminals(request, None, None, 201, issued=key)


@router.post("/terminals/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: str) -> Response:
    """Revoke a terminal's key (a stolen or retired POS) once the operator confirmed it on the page: the key
    fails on its next API request; revoking it again is told on the page."""
    actor, c = allowed(request, "apikey.revoke")

    async def step() -> None:
        await c.run(accounts.revoke_api_key, c.deps, actor, key_id[:64])

    return await submit(
        request,
        step,
        lambda errors: terminals(request, errors, None, 409),
        f"{PREFIX}/admin/terminals?done=revoked",
        passing=("auth.forbidden", "apikey.not_found"),
    )


@router.get("/users")
async def users_page(request: Request) -> Response:
    return await users(request)


async def users(
    request: Request, errors: Errors | None = None, form: dict[str, str] | None = None, status: int = 200
) -> Response:
    actor, c = allowed(request, "user.manage")
    rows = await c.run(admin.list_users, c.deps, actor)
    done = request.query_params.get("done", "")
    return render(
        request,
        "admin_users.html",
        status,
        errors=errors,
        rows=rows,
        done=done if done in USER_STEPS else "",
        roles=ROLES,
        form=form or {"username": "", "display_name": "", "role": "cashier"},
    )


@router.post("/users")
async def create_user(request: Request) -> Response:
    return await _create(request, ("username", "display_name", "role", "password"), admin.create_user, dict, users)


# One operator's lifecycle: the step's service command and the form field (if any) it takes.
USER_STEPS: dict[str, tuple[Callable[..., Any], str]] = {
    "deactivate": (accounts.deactivate_user, ""),
    "activate": (accounts.activate_user, ""),
    "role": (accounts.set_role, "role"),
    "password": (accounts.reset_password, "temporary_password"),
    "sign-out": (accounts.sign_out_everywhere, ""),
    "unlock": (auth.unlock_user, ""),
}


@router.post("/users/{user_id}/{step}")
async def change_user(request: Request, user_id: str, step: str) -> Response:
    """Deactivate, reactivate, re-role, reset the password of or sign out one operator; a refusal comes back
    on the page (the temporary password is never sent back)."""
    if step not in USER_STEPS:
        raise Invalid("console.invalid_choice", field="step")
    actor, c = allowed(request, "user.manage")
    command, field = USER_STEPS[step]
    form = await _form(request, field) if field else {}

    async def run() -> None:
        await c.run(command, c.deps, actor, user_id[:64], *form.values())
        c.tokens.generations.forget(user_id)  # the operator's sessions end on their very next request

    return await submit(
        request,
        run,
        lambda errors: users(request, errors, None, 422),
        f"{PREFIX}/admin/users?done={step}",
        passing=("auth.forbidden",),
    )


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
        with errors.catch():
            doc[name] = fmt.parse_yuan(str(form.get(name) or ""), name)
    for name in COUNT_FIELDS:
        with errors.catch():
            doc[name] = fmt.parse_count(str(form.get(name) or ""), name)
    phone = str(form.get("require_customer_phone_above_fen") or "").strip()
    with errors.catch():
        doc["require_customer_phone_above_fen"] = (
            fmt.parse_yuan(phone, "require_customer_phone_above_fen") if phone else None
        )
    windows: dict[str, int] = {}
    for ch in WINDOW_CHANNELS:
        value = str(form.get(f"window_{ch}") or "").strip()
        if value:
            with errors.catch():
                windows[ch] = fmt.parse_count(value, f"window_{ch}", low=1, high=100_000)
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


def _policy_page(
    request: Request,
    form: dict[str, Any],
    status: int = 200,
    *,
    saved: bool = False,
    errors: Errors | None = None,
    preview: PolicyPreview | None = None,
) -> Response:
    """The policy form, whether showing the saved policy, a refused edit with what was typed, or the preview
    of an edit's effect on the last 30 days' refunds."""
    return render(
        request,
        "admin_policy.html",
        status,
        form=form,
        reasons=list(Reason),
        kinds=list(EvidenceKind),
        channels=WINDOW_CHANNELS,
        saved=saved,
        errors=errors,
        preview=preview,
    )


@router.get("/policy")
async def policy_page(request: Request) -> Response:
    """Every member of staff reads the policy; only admins see it as a form they can save."""
    actor, c = allowed(request, "policy.read")
    policy = await c.run(policies.get_policy, c.deps, actor)
    return _policy_page(request, policy_form(policy), saved=bool(request.query_params.get("saved")))


@router.post("/policy")
async def save_policy(request: Request) -> Response:
    actor, c = allowed(request, "policy.write")
    form = await request.form()
    errors = Errors(lang_of(request))
    doc = _document(form, errors)
    if not errors:
        with errors.catch(FIELD_OF):
            await c.run(policies.put_policy, c.deps, actor, doc)
    if errors:
        return _policy_page(request, _typed(form), 422, errors=errors)
    return RedirectResponse(f"{PREFIX}/admin/policy?saved=1", status_code=303)


def _typed(form: Any) -> dict[str, Any]:
    """The policy form as the admin typed it, to show again."""
    shown = {k: str(form.get(k) or "")[:40] for k in (*YUAN_FIELDS, *COUNT_FIELDS, "require_customer_phone_above_fen")}
    shown.update({f"window_{ch}": str(form.get(f"window_{ch}") or "")[:12] for ch in WINDOW_CHANNELS})
    values: dict[str, Any] = dict(shown)
    values["evidence"] = {str(x) for x in form.getlist("evidence")}
    return values


@router.post("/policy/preview")
async def preview_policy(request: Request) -> Response:
    """What the typed policy would have done to the last 30 days' refunds, beside the one in force; nothing
    is saved (the form is shown again, to save or change)."""
    actor, c = allowed(request, "policy.write")
    form = await request.form()
    errors = Errors(lang_of(request))
    doc = _document(form, errors)
    found: PolicyPreview | None = None
    if not errors:
        with errors.catch(FIELD_OF):
            found = await c.run(policy_preview.preview, c.deps, actor, doc)
    return _policy_page(request, _typed(form), 422 if errors else 200, errors=errors, preview=found)
