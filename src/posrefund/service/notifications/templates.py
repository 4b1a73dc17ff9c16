"""Notification templates: Jinja2 in a sandbox, limited to what a message needs.

Merchants edit their templates through the API, so a template is untrusted input: it runs in
``SandboxedEnvironment`` (no attribute tricks), with ``StrictUndefined`` (a misspelt variable is an error,
not a blank), and only a whitelist of syntax — variables, literals, ``if`` and a few string filters — so no
loop or arithmetic can make rendering slow. A template is rendered once with sample values before it is
stored; one that does not render is refused with ``notify.template_invalid``.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from posrefund.domain.errors import Invalid
from posrefund.domain.notification import DEFAULT_TEMPLATES, TEMPLATE_VARIABLES, NotifyEvent
from posrefund.domain.pii import refuse_card_data

MAX_SUBJECT = 200
MAX_BODY = 2000
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

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def _check_syntax(source: str) -> None:
    tree = _ENV.parse(source)
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            raise TemplateError(f"{type(node).__name__} is not allowed in a message template")
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            raise TemplateError(f"filter {node.name!r} is not allowed")
        if isinstance(node, nodes.Name) and node.name not in TEMPLATE_VARIABLES:
            raise TemplateError(f"unknown variable {node.name!r}")


def render_text(source: str, values: dict[str, Any]) -> str:
    """Render one template string; raises ``TemplateError`` when it does not fit the rules above."""
    _check_syntax(source)
    return _ENV.from_string(source).render(**values)


def validate(event: str, language: str, subject: str, body: str) -> tuple[NotifyEvent, str]:
    """Refuse a template that does not render with the sample values (422 ``notify.template_invalid``)."""
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
            out = render_text(text, TEMPLATE_VARIABLES)
        except (TemplateError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise Invalid("notify.template_invalid", field=name, detail=str(exc)[:200]) from None
        refuse_card_data(out, name)
    return ev, language


def default_template(event: NotifyEvent, language: str) -> tuple[str, str]:
    return DEFAULT_TEMPLATES[(event, language)]
