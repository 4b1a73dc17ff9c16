"""What a Chinese screen or message must not show a person: a raw code (``customer_cancelled``,
``refund.exceeds_refundable``), an amount in fen (``12000 分``, ``fen``), or an English word left
untranslated. Used by the console's page walk and by the test of every API error message.

The rules are deliberately simple patterns over the visible text, with a short list of what is allowed
because Chinese staff read it as it is (acronyms of the trade, the product's name, units)."""

from __future__ import annotations

import re

# Latin words a Chinese screen may carry as they are: acronyms of the trade and of files, units, the product.
ALLOWED_WORDS = frozenset(
    {
        "api", "csv", "xlsx", "pdf", "pos", "sn", "rrn", "id", "url", "qr", "sms", "smtp", "http", "https",
        "ip", "psp", "mcc", "iso", "utc", "vat", "ok", "js", "posrefund", "cny", "rmb", "wcag", "html", "json",
        "toml", "gbk", "utf", "crlf", "lf", "pin", "jpeg", "png", "webp", "openid", "english", "otp", "kb", "mb", "gb", "min", "ms", "am", "pm",
    }
)  # fmt: skip

# A code: lower-case words joined by "_" or "." (``goods_quality``, ``refund.approve``), not inside a URL,
# a file name, an e-mail address or a version.
RAW_CODE = re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*(?:[_.][a-z][a-z0-9]*)+(?![\w/@(-])")
# An amount in fen: digits then 分 (not 分钟 minutes, 分期 instalments, 分店/分行 branches, 分类 kinds, 分隔/分号 separators).
FEN_AMOUNT = re.compile(r"\d[\d,]*\s*分(?![钟期店行类析配别支数隔号])")
FEN_WORD = re.compile(r"\bfen\b", re.IGNORECASE)
LATIN_WORD = re.compile(r"(?<![\w./@-])[A-Za-z]{2,}(?![\w/@-])")
FILE_NAME = re.compile(r"\b[\w.-]+\.(?:csv|xlsx|pdf|txt|zip|png|jpg|jpeg|gz|toml)\b", re.IGNORECASE)
URL = re.compile(r"\b(?:https?://|/)[\w./?=&%#:~+-]*")
IDENTIFIER = re.compile(r"\b[a-z]{2,5}_[0-9a-f]{16,32}\b")  # our ids: ``rfd_3fa9…`` (copied, not read)
MASKED = re.compile(r"\S*\*{2,}\S*")  # a masked value: ``o***ab``, ``138****5678``
COMMAND = re.compile(r"`[^`]+`")  # a command to type, quoted as such: ``posrefund db upgrade``
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")


def _without_allowed_shapes(text: str, names: frozenset[str]) -> str:
    """The text with what may legitimately look like a code taken out: URLs, e-mail addresses, file names,
    and the names people were given (user names such as ``a.cashier``, store and terminal codes)."""
    for pattern in (COMMAND, MASKED, URL, EMAIL, FILE_NAME, IDENTIFIER):
        text = pattern.sub(" ", text)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return text


def problems_in_chinese(text: str, names: frozenset[str] = frozenset()) -> list[str]:
    """Everything in ``text`` (a Chinese screen's visible text, or a Chinese message) a person should not
    have to decode; ``names`` are strings people chose (user names, codes of stores) and may appear as typed."""
    found: list[str] = []
    clean = _without_allowed_shapes(text, names)
    found += [f"raw code {m!r}" for m in RAW_CODE.findall(clean)]
    found += [f"amount in fen {m!r}" for m in FEN_AMOUNT.findall(clean)]
    found += [f"the word {m!r}" for m in FEN_WORD.findall(clean)]
    coded = set(RAW_CODE.findall(clean))
    for m in LATIN_WORD.finditer(clean):
        word = m.group()
        if word.lower() not in ALLOWED_WORDS and not any(word in c for c in coded) and not word.isupper():
            around = " ".join(clean[max(0, m.start() - 12) : m.end() + 12].split())
            found.append(f"English word {word!r} in “{around}”")
    return sorted(set(found))
