"""Notification templates: Jinja2 in a sandbox, limited to what a message needs.

Merchants edit their templates through the API, so a template is untrusted input: it runs in
``SandboxedEnvironment`` (no attribute tricks), with ``StrictUndefined`` (a misspelt variable is an error,
not a blank), and only a whitelist of syntax — variables, literals, ``if`` and a few string filters — so
there is no loop, no arithmetic and no keyword argument. A template is rendered once with sample values
before it is stored; one that does not render is refused with ``notify.template_invalid``, one with more
than ``MAX_FILTERS`` filters with ``notify.template_too_complex``.

Rendering is bounded by size, not by a clock (a thread cannot be stopped): the only operations that make
text longer are the filters (``replace`` with an empty pattern multiplies its input) and ``~``, and the
filters are ours (``template_filters``): each checks its arguments and refuses, before doing the work,
a result over the message limit. A ``~`` joins at most as many pieces as the template has characters,
each within the limit, and the rendered text is refused past the limit as it is produced. So a template
of ``MAX_BODY`` characters renders in a bounded time whatever its filters, and never raises anything but
``TemplateError`` (``TemplateRefused`` for the sizes and arguments refused here).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from posrefund.domain.errors import Invalid
from posrefund.domain.merchant_notice import MERCHANT_EVENTS, MERCHANT_TEMPLATES, MERCHANT_VARIABLES
from posrefund.domain.notification import DEFAULT_TEMPLATES, TEMPLATE_VARIABLES, NotifyEvent
from posrefund.domain.pii import refuse_card_data
from posrefund.ports import UnitOfWork
from posrefund.service.notifications.template_filters import MAX_MESSAGE, TemplateRefused, filters

MAX_SUBJECT = 200
MAX_BODY = 2000
# A message needs a handful of filters; Jinja2's compiler takes time that grows with the square of a chain's
# length (76 chained filters, all a 2,000-character template holds, take half a second to compile).
MAX_FILTERS = 24
ALLOWED_FILTERS = frozenset({"default", "upper", "lower", "trim", "truncate", "replace", "capitalize", "title"})
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.Compare,
    nodes.Operand,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.CondExpr,
    nodes.Concat,
    nodes.Filter,
)
# What a template can raise besides TemplateError (a parser's recursion on deep nesting, a filter's type
# error on a literal of the wrong kind): turned into TemplateError so that no caller answers 500.
_KNOWN_VARIABLES = frozenset(TEMPLATE_VARIABLES) | frozenset(MERCHANT_VARIABLES)
_RENDER_FAILURES = (ValueError, TypeError, OverflowError, RecursionError, MemoryError, LookupError, AssertionError)


@lru_cache(maxsize=8)
def _env(limit: int) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters = filters(env, limit)  # only ours: a filter not in ALLOWED_FILTERS does not even exist
    return env


def _check_syntax(tree: nodes.Template) -> None:
    used = sum(1 for _f in tree.find_all(nodes.Filter))
    if used > MAX_FILTERS:
        raise TemplateRefused("notify.template_too_complex", count=used, most=MAX_FILTERS)
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            raise TemplateError(f"{type(node).__name__} is not allowed in a message template")
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            raise TemplateError(f"filter {node.name!r} is not allowed")
        if isinstance(node, nodes.Name) and node.name not in _KNOWN_VARIABLES:
            raise TemplateError(f"unknown variable {node.name!r}")


@lru_cache(maxsize=512)
def _compiled(source: str, limit: int) -> Template:
    """The checked, compiled template (a notification batch renders the same few templates many times)."""
    env = _env(limit)
    _check_syntax(env.parse(source))
    return env.from_string(source)


def render_text(source: str, values: dict[str, Any], limit: int = MAX_MESSAGE) -> str:
    """Render one template string of at most ``limit`` characters; raises ``TemplateError`` (and only
    that) when it does not fit the rules above."""
    try:
        out: list[str] = []
        size = 0
        for piece in _compiled(source, limit).generate(**values):
            size += len(piece)
            if size > limit:
                raise TemplateRefused("notify.template_unsafe", limit=limit, where="text")
            out.append(piece)
        return "".join(out)
    except TemplateError:
        raise
    except _RENDER_FAILURES as exc:
        raise TemplateError(f"{type(exc).__name__}: {exc}"[:200]) from None


def validate(event: str, language: str, subject: str, body: str, limit: int = MAX_MESSAGE) -> tuple[NotifyEvent, str]:
    """Refuse a template that does not render with the sample values (422 ``notify.template_invalid``),
    that would make a message over ``limit`` characters (``notify.template_unsafe``) or that gives a filter
    a bad argument (``notify.template_bad_argument``)."""
    try:
        ev = NotifyEvent(event)
    except ValueError:
        raise Invalid("notify.unknown_event", event=event) from None
    if language not in ("zh", "en"):
        raise Invalid("notify.unknown_language", language=language)
    if not body.strip():
        raise Invalid("notify.template_invalid", field="body", detail="empty")
    if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
        raise Invalid("notify.template_invalid", field="body", detail="too long")
    for name, text in (("subject", subject), ("body", body)):
        refuse_card_data(text, name)
        try:
            out = render_text(text, sample_values(ev), limit)
        except TemplateRefused as exc:
            raise Invalid(exc.code, field=name, **exc.params) from None
        except TemplateError as exc:
            raise Invalid("notify.template_invalid", field=name, detail=str(exc)[:200]) from None
        refuse_card_data(out, name)
    return ev, language


def sample_values(event: NotifyEvent) -> dict[str, str]:
    """The variables ``event``'s template may use, with sample values: a customer's message knows the refund,
    a merchant's the device or the fee case; a variable of the other kind does not render."""
    return MERCHANT_VARIABLES if event in MERCHANT_EVENTS else TEMPLATE_VARIABLES


def default_template(event: NotifyEvent, language: str) -> tuple[str, str]:
    return MERCHANT_TEMPLATES.get((event, language)) or DEFAULT_TEMPLATES[(event, language)]


def render(
    uow: UnitOfWork, merchant_id: str, event: NotifyEvent, language: str, values: dict[str, Any], limit: int
) -> tuple[str, str]:
    """Subject and text from the merchant's template (or the default); a stored template that no longer
    renders falls back to the default rather than leaving the customer untold."""
    custom = uow.notify_settings.template(merchant_id, event.value, language)
    for subject, body in [c for c in (custom, default_template(event, language)) if c is not None]:
        try:
            return render_text(subject, values, limit), render_text(body, values, limit)
        except TemplateError:  # the only thing render_text raises
            continue
    raise RuntimeError(f"default template for {event} does not render")  # pragma: no cover
