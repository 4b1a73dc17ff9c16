"""The only filters a message template has: Jinja2's string filters, each behind a check of its arguments
and of the size of what it returns.

Jinja2's own ``replace`` with an empty pattern inserts its replacement between every two characters, so a
chain of a few makes megabytes from a phone number; its ``truncate`` asserts on a length shorter than its
ellipsis (an ``AssertionError``, which a caller does not expect). Here ``replace`` works out the length of
its result before making it, every filter refuses a result over the message limit, and an argument of the
wrong kind or range is refused by name (``notify.template_bad_argument``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, TemplateError
from jinja2 import filters as jinja_filters

MAX_MESSAGE = 4096  # characters of one rendered subject or text: an SMS is a few hundred, an e-mail ~1 KiB


class TemplateRefused(TemplateError):
    """A template refused for what it would do when rendered, with the code and params of its refusal."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(f"{code} {params}")
        self.code = code
        self.params = params


def _bad(name: str, argument: str, value: object) -> TemplateRefused:
    return TemplateRefused("notify.template_bad_argument", filter=name, argument=argument, value=repr(value)[:40])


def _text(name: str, argument: str, value: object) -> str:
    if not isinstance(value, str):
        raise _bad(name, argument, value)
    return value


def _count(name: str, argument: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(name, argument, value)
    return value


def _flag(name: str, argument: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _bad(name, argument, value)
    return value


def filters(env: Environment, limit: int) -> dict[str, Callable[..., str]]:
    """The filters of a template environment whose messages may be at most ``limit`` characters."""

    def within(name: str, out: str) -> str:
        if len(out) > limit:
            raise TemplateRefused("notify.template_unsafe", limit=limit, where=name)
        return out

    def replace(value: object, old: object, new: object, count: object = None) -> str:
        s, o, n = str(value), _text("replace", "old", old), _text("replace", "new", new)
        most = None if count is None else _count("replace", "count", count, 0, 10**9)
        found = s.count(o) if o else len(s) + 1
        hits = found if most is None else min(found, most)
        if len(s) + hits * (len(n) - len(o)) > limit:  # refused before the text is made
            raise TemplateRefused("notify.template_unsafe", limit=limit, where="replace")
        return s.replace(o, n, -1 if most is None else most)

    def truncate(
        value: object, length: object = 255, killwords: object = False, end: object = "...", leeway: object = None
    ) -> str:
        size, tail = _count("truncate", "length", length, 1, limit), _text("truncate", "end", end)
        if len(tail) > size:  # Jinja2 would assert
            raise _bad("truncate", "end", tail)
        room = None if leeway is None else _count("truncate", "leeway", leeway, 0, limit)
        cut = _flag("truncate", "killwords", killwords)
        return within("truncate", jinja_filters.do_truncate(env, str(value), size, cut, tail, room))

    def default(value: object, default_value: object = "", boolean: object = False) -> str:
        if not isinstance(default_value, (str, int)):
            raise _bad("default", "default_value", default_value)
        return within(
            "default", str(jinja_filters.do_default(value, default_value, _flag("default", "boolean", boolean)))
        )

    def trim(value: object, chars: object = None) -> str:
        return within(
            "trim", jinja_filters.do_trim(str(value), None if chars is None else _text("trim", "chars", chars))
        )

    def plain(name: str, f: Callable[[str], str]) -> Callable[[object], str]:
        return lambda value: within(name, f(str(value)))  # upper("ß") is "SS": checked like the rest

    return {
        "replace": replace,
        "truncate": truncate,
        "default": default,
        "trim": trim,
        "upper": plain("upper", str.upper),
        "lower": plain("lower", str.lower),
        "capitalize": plain("capitalize", jinja_filters.do_capitalize),
        "title": plain("title", jinja_filters.do_title),
    }
