"""Human messages for error codes and screens: Simplified Chinese by default, English on request."""

from __future__ import annotations

from posrefund.i18n.messages import MESSAGES

DEFAULT = "zh"
SUPPORTED = ("zh", "en")


class _Safe(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def pick_language(accept_language: str | None) -> str:
    """``Accept-Language: en-US,en;q=0.9`` → ``en``; anything unknown → Chinese."""
    if not accept_language:
        return DEFAULT
    best, best_q = DEFAULT, -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower()[:2]
        if lang in SUPPORTED and q > best_q:
            best, best_q = lang, q
    return best


def message(code: str, lang: str, params: dict[str, object] | None = None) -> str:
    zh, en = MESSAGES.get(code, MESSAGES["error.unknown"])
    template = en if lang == "en" else zh
    return template.format_map(_Safe(params or {}))
