"""Recognising personal data that must never be stored in clear, and masking it for display."""

from __future__ import annotations

import re

from posrefund.domain.errors import Invalid

# 13–19 digits, optionally grouped by single spaces or dashes as people type them.
_DIGIT_RUN = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# Issuer prefixes of real card schemes: Visa 4, Mastercard 51–55 / 2221–2720, Amex 34/37,
# UnionPay 62 and 81, Discover 60/64/65, JCB 35, Diners 30/36/38/39, Chinese domestic 9xxx.
# Restricting to them keeps long order numbers (e.g. ``2026…``) from being mistaken for cards.
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[0456789]|6[0245]|81|9)")
_PHONE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_ID_NO = re.compile(r"^\d{17}[\dXx]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def find_card_number(text: str) -> bool:
    """True if ``text`` holds what looks like a full payment card number (PAN)."""
    if len(text) < 13:
        return False
    for match in _DIGIT_RUN.finditer(text):
        digits = match.group().replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn_ok(digits):
            return True
    return False


def has_long_digit_run(text: str) -> bool:
    """Cheap first look: no run of 13+ digits (spaces/dashes allowed) means no card number anywhere."""
    return _DIGIT_RUN.search(text) is not None


def redact_card_numbers(text: str) -> str:
    """Replace anything that looks like a card number by ``[PAN]`` (for logs of paths people typed)."""

    def sub(match: re.Match[str]) -> str:
        return "[PAN]" if find_card_number(match.group()) else match.group()

    return _DIGIT_RUN.sub(sub, text)


def refuse_card_number(text: str, field: str) -> None:
    if find_card_number(text):
        raise Invalid("pii.full_card_number", field=field)


def normalise_phone(raw: str) -> str:
    """A mainland mobile number, 11 digits; ``pii.invalid_phone`` otherwise."""
    compact = raw.replace(" ", "").replace("-", "")
    match = _PHONE.match(compact)
    if not match:
        raise Invalid("pii.invalid_phone")
    return match.group(1)


def validate_id_no(raw: str) -> str:
    """An 18-character resident ID number (居民身份证) with its GB 11643 check digit."""
    value = raw.strip().upper()
    if not _ID_NO.match(value):
        raise Invalid("pii.invalid_id_no")
    total = sum(int(value[i]) * w for i, w in enumerate(_ID_WEIGHTS))
    if _ID_CHECK[total % 11] != value[17]:
        raise Invalid("pii.invalid_id_no")
    return value


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_id_no(id_no: str) -> str:
    """Keep the region (first 3) and the check end (last 4): ``110***********123X``."""
    return id_no[:3] + "*" * (len(id_no) - 7) + id_no[-4:] if len(id_no) > 7 else "****"


def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``; a customer's name is shown by its first character only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def validate_payer_masked(value: str) -> str:
    """A payer shown to staff: at most the first 6 and last 4 card digits, the rest starred."""
    refuse_card_number(value, "payer_masked")
    digits = sum(ch.isdigit() for ch in value)
    if digits > 10 or (digits > 4 and "*" not in value):
        raise Invalid("pii.payer_not_masked")
    return value


def card_last4(payer_masked: str) -> str:
    tail = payer_masked.rstrip()[-4:]
    return tail if tail.isdigit() else ""
