"""Admin: the merchant's notification templates per event and language (edit with a preview; the service's
validation message beside the field) and its SMS / WeChat HTTP gateways (the credential is write-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from posrefund.domain.errors import DomainError, Invalid, NotFound
from posrefund.domain.notification import LANGUAGES, NotifyEvent
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import NOT_MINE, Errors
from posrefund.entrypoints.console.forms import signed_in
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, render
from posrefund.service.notifications import settings
from posrefund.service.notifications import templates as notification_templates

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
# What the gateway form edits; any other key of a stored gateway (timeouts, headers) is kept as it was.
GATEWAY_FIELDS = ("url", "payload")


@router.get("/admin/notify")
async def templates(request: Request) -> Response:
    actor, c = allowed(request, "notify.configure")
    items = await c.run(settings.list_templates, c.deps, actor)
    saved = bool(request.query_params.get("saved"))
    return render(request, "notify_admin_templates.html", items=items, saved=saved)


def _template_key(event: str, language: str) -> tuple[str, str]:
    if event not in {e.value for e in NotifyEvent} or language not in LANGUAGES:
        raise NotFound("notify.template_not_found")
    return event, language


async def _template_page(request: Request, event: str, language: str, status: int = 200, **extra: Any) -> Response:
    actor, c = allowed(request, "notify.configure")
    event, language = _template_key(event, language)
    items = await c.run(settings.list_templates, c.deps, actor)
    current = next(i for i in items if i["event"] == event and i["language"] == language)
    return render(
        request,
        "notify_admin_template.html",
        status,
        t=current,
        subject=extra.pop("subject", current["subject"]),
        body=extra.pop("body", current["body"]),
        variables=notification_templates.sample_values(NotifyEvent(event)),
        **extra,
    )


@router.get("/admin/notify/templates/{event}/{language}")
async def template_page(request: Request, event: str, language: str) -> Response:
    return await _template_page(request, event, language)


@router.post("/admin/notify/templates/{event}/{language}")
async def save_template(request: Request, event: str, language: str) -> Response:
    """``do=preview`` renders with the sample values (validated as a save would be) and stores nothing;
    ``do=save`` stores it; ``do=reset`` goes back to the default text."""
    actor, c = allowed(request, "notify.configure")
    event, language = _template_key(event, language)
    form = await request.form()
    subject = str(form.get("subject") or "")
    body = str(form.get("body") or "")
    do = str(form.get("do") or "")
    errors = Errors(lang_of(request))
    # the service names the field (subject or body)
    with errors.catch(passing=(*NOT_MINE, "notify.template_not_found")):
        fmt.bounded(subject, "subject", notification_templates.MAX_SUBJECT)
        fmt.bounded(body, "body", notification_templates.MAX_BODY)
        if do == "preview":
            notification_templates.validate(event, language, subject, body, c.deps.message_limit)
            samples = notification_templates.sample_values(NotifyEvent(event))
            preview = (
                notification_templates.render_text(subject, samples, c.deps.message_limit),
                notification_templates.render_text(body, samples, c.deps.message_limit),
            )
            return await _template_page(request, event, language, subject=subject, body=body, preview=preview)
        if do == "save":
            await c.run(settings.put_template, c.deps, actor, event, language, subject, body)
        elif do == "reset":
            await c.run(settings.reset_template, c.deps, actor, event, language)
        else:
            raise Invalid("console.invalid_choice", field="do")
    if errors:
        return await _template_page(request, event, language, 422, subject=subject, body=body, errors=errors)
    return RedirectResponse(f"{PREFIX}/admin/notify?saved={event}-{language}", status_code=303)


def _payload_text(payload: dict[str, Any]) -> str:
    return "\n".join(f"{k} = {v}" for k, v in payload.items())


def parse_payload(text: str) -> dict[str, str]:
    """``provider_field = our_field`` (or ``= =literal``), one a line: the shape only; the service says
    which fields are valid."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, ours = line.partition("=")
        if not sep or not name.strip():
            raise Invalid("notify.payload_line", field="payload", line=line.strip()[:60])
        out[name.strip()] = ours.strip()
    return out


async def _gateways_page(request: Request, status: int = 200, **extra: Any) -> Response:
    actor, c = signed_in(request)
    stored = {g["kind"]: g for g in await c.run(settings.list_gateways, c.deps, actor)}
    typed = extra.pop("typed", {})
    shown = {}
    for kind in settings.GATEWAY_KINDS:
        g = stored.get(kind, {})
        shown[kind] = {
            "url": typed.get(f"{kind}.url", g.get("url", "")),
            "payload": typed.get(f"{kind}.payload", _payload_text(g.get("payload") or {})),
            "credential_set": bool(g.get("credential_set")),
            "stored": bool(g),
        }
    return render(request, "notify_admin_gateways.html", status, gateways=shown, **extra)


@router.get("/admin/notify/gateways")
async def gateways(request: Request) -> Response:
    return await _gateways_page(request, saved=bool(request.query_params.get("saved")))


def _gateway_part(kind: str, err: DomainError) -> str | None:
    """A length checked here is beside the field it names; the service names the part of the gateway it
    refuses in ``detail``: the URL, or the payload mapping."""
    if err.code == "console.too_long":
        return None
    return f"{kind}.url" if str(err.params.get("detail", "")).startswith("url") else f"{kind}.payload"


@router.post("/admin/notify/gateways/{kind}")
async def save_gateway(request: Request, kind: str) -> Response:
    """The gateway's URL and payload mapping; the credential is only ever written (empty keeps the old one)."""
    actor, c = signed_in(request)
    if kind not in settings.GATEWAY_KINDS:
        raise NotFound("request.not_found")
    form = await request.form()
    url = str(form.get(f"{kind}.url") or form.get("url") or "")
    payload_text = str(form.get("payload") or "")
    credential = str(form.get(f"{kind}.credential") or form.get("credential") or "")
    errors = Errors(lang_of(request))
    with errors.catch(lambda err: _gateway_part(kind, err), passing=NOT_MINE):
        stored = {g["kind"]: g for g in await c.run(settings.list_gateways, c.deps, actor)}
        kept = {k: v for k, v in stored.get(kind, {}).items() if k not in ("kind", "credential_set", *GATEWAY_FIELDS)}
        doc = {
            **kept,
            "url": fmt.bounded(url.strip(), f"{kind}.url", 500),
            "payload": parse_payload(fmt.bounded(payload_text, f"{kind}.payload", 4000)),
        }
        fmt.bounded(credential, f"{kind}.credential", 2000)
        await c.run(settings.put_gateway, c.deps, actor, kind, doc, credential or None)
    if errors:
        return await _gateways_page(
            request, 422, errors=errors, typed={f"{kind}.url": url, f"{kind}.payload": payload_text}
        )
    return RedirectResponse(f"{PREFIX}/admin/notify/gateways?saved={kind}", status_code=303)
