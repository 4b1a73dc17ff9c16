"""Recognising personal data that must never be stored in clear, and masking it for display."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date

from posrefund.domain.errors import Invalid

# What a refusal of card data is called, by kind. Track data and a labelled CVV are sensitive authentication
# data (PCI DSS 3.2): never to be kept at all, not even masked, so they are named apart from a PAN.
PAN = "pan_detected"
TRACK = "track_data_detected"
CVV = "cvv_detected"
CARD_DATA_CODES = (PAN, TRACK, CVV)

# 13 or more digits with nothing but separators (anything that is neither a letter nor a digit: spaces of
# any width, zero-width characters, dots, dashes, slashes, underscores, …) between them. Only such a run can
# hold a PAN or track data: one C-speed search over the folded text settles almost every request.
_RUN = re.compile(r"[0-9](?:[\W_]*[0-9]){12,}")
_GROUP = re.compile(r"[0-9]+")
# Issuer prefixes of real card schemes: Visa 4, Mastercard 51–55 / 2221–2720, Amex 34/37,
# UnionPay 62 and 81, Discover 60/64/65, JCB 35, Diners 30/36/38/39, Chinese domestic 9xxx.
# Restricting to them keeps long order numbers (e.g. ``2026…``) from being mistaken for cards.
CARD_PREFIX = r"(?:4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[0456789]|6[0245]|81|9)"
_CARD_PREFIX = re.compile(CARD_PREFIX)
# Magnetic stripe: track 1 ``%B<pan>^NAME^YYMM…?``; track 2 ``;<pan>=YYMM…?`` (``D`` for ``=`` in
# EMV tag 57), also without its sentinels.
_TRACK1 = re.compile(r"B([0-9]{13,19})\^[^^]{2,26}\^(?:[0-9]{2}(?:0[1-9]|1[0-2])|\^)[^?\s]{0,79}\??")
_TRACK2 = re.compile(r"(?<![0-9A-Za-z])(;?)([0-9]{13,19})[=D][0-9]{2}(?:0[1-9]|1[0-2])([0-9]*\??)")
# A card verification value given with its label: ``CVV: 123``, ``cvc2=0123``, ``安全码 123``.
_CVV = re.compile(
    r"(?i)(?<![a-z])(?:cvv2?|cvc2?|cvn2?|安全码|卡验证码)(?:[\W_]{0,8}(?:is|为|是))?[\W_]{0,8}"
    r"([0-9](?:[\W_]?[0-9]){2,3})(?![\W_]?[0-9])"
)
# Digit groups tried together per run: a run of thousands of tiny groups is refused rather than searched
# for minutes (fail closed), since no real text writes a number that way.
_MAX_WINDOWS = 4096
# A date and time as ISO 8601 / RFC 3339 write it (``2026-12-05T07:40:50.220955+00:00``): its clock, fraction
# and offset make a run of up to 19 digits, and about one such time in seventeen holds a Luhn-valid 14–16 digit
# window with a card prefix (``40 50 220955 00 00``). Digits wholly inside a valid one (a real date, a time of
# day, a fraction of at most nine digits, a zone offset that exists) are a time, not a card.
_DATETIME = re.compile(
    r"(?<![0-9])([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.,][0-9]{1,9})?"
    r"(?:[Zz]|[+-]([0-9]{2}):?([0-9]{2}))?(?![0-9])"
)
_PHONE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_ID_NO = re.compile(r"^\d{17}[\dXx]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


# Digits NFKC leaves alone: every decimal digit of another script (``\d`` of a str pattern, e.g. ``٤``), and
# the few other digits without a compatibility mapping (Ethiopic, double-circled, dingbat, Kharoshthi, …).
_ODD_DIGITS = (
    "\u1369-\u1371\u19da\u24f5-\u24fd\u24ff\u2776-\u277e\u2780-\u2788\u278a-\u2792"
    "\U00010a40-\U00010a43\U00010e60-\U00010e68\U00011052-\U0001105a"
)
_OTHER_DIGIT = re.compile(f"(?:(?![0-9])\\d)|[{_ODD_DIGITS}]")
# A run of 13+ digits of any script in text that is only NFKC-normalised: one pass tells whether the digits
# need folding at all.
_ANY_RUN = re.compile(f"[\\d{_ODD_DIGITS}](?:[\\W_]*[\\d{_ODD_DIGITS}]){{12,}}")


def _ascii_digit(match: re.Match[str]) -> str:
    ch = match.group()
    value = unicodedata.decimal(ch, None)
    return str(unicodedata.digit(ch, 0) if value is None else value)


def fold(text: str) -> str:
    """``text`` as the detector reads it: NFKC (full-width and mathematical digits, superscripts, circled
    digits become ASCII; ideographic and no-break spaces become spaces), then every digit of any script as
    its ASCII digit. ASCII text is returned as is, at no cost."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    return text if text.isascii() else _OTHER_DIGIT.sub(_ascii_digit, text)


def _read(text: str) -> tuple[str, list[re.Match[str]]]:
    """``text`` folded, with its digit runs. Text in other scripts (a Chinese note) is only NFKC-normalised
    when it holds no run of digits of any script and no CVV label: it cannot hold card data then, and the
    digit folding pass is spared. Folding maps one character to one, so it changes no position."""
    if text.isascii():
        return text, _runs(text)
    normal = unicodedata.normalize("NFKC", text)
    if normal.isascii() or (_ANY_RUN.search(normal) is None and not _may_hold_cvv(normal)):
        return normal, _runs(normal) if normal.isascii() else []
    folded = _OTHER_DIGIT.sub(_ascii_digit, normal)
    return folded, _runs(folded)


def _runs(folded: str) -> list[re.Match[str]]:
    """The runs of 13+ digits (separators between them allowed): only they can hold a PAN or track data.
    Counting the digits first, at C speed (all digits are ASCII once folded), spares most texts the search."""
    if len(folded) < 13:
        return []
    raw = folded.encode("utf-8", "replace")
    if len(raw) - len(raw.translate(None, b"0123456789")) < 13:
        return []
    return list(_RUN.finditer(folded))


def _may_hold_cvv(folded: str) -> bool:
    return "cv" in folded.lower() or "安全码" in folded or "卡验证码" in folded


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


def _is_pan(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) is not None and luhn_ok(digits)


def _valid_datetime(match: re.Match[str]) -> bool:
    year, month, day, hour, minute, second, zone_hour, zone_minute = match.groups()
    if not ("00" <= hour <= "23" and "00" <= minute <= "59" and "00" <= second <= "60"):
        return False
    if zone_hour is not None and not (zone_hour <= "14" and zone_minute in ("00", "15", "30", "45")):
        return False
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _datetimes(folded: str, run: re.Match[str]) -> list[tuple[int, int]]:
    """The spans of valid dates and times that hold digits of ``run`` (a time's clock has ``:``)."""
    if ":" not in run.group():
        return []
    start = max(0, run.start() - 11)  # the date before a ``T`` is outside the run
    spans = (m for m in _DATETIME.finditer(folded, start, run.end() + 6) if _valid_datetime(m))
    return [m.span() for m in spans if m.end() > run.start()]


def _pan_spans(folded: str, runs: list[re.Match[str]]) -> Iterator[tuple[int, int]]:
    """Spans of ``folded`` that hold a PAN: 13–19 digits made of whole consecutive digit groups of a run, so
    a PAN is found however it is split or padded (``12 4111…``), while a long order number is not cut up.
    Digits wholly inside one date and time are not tried; any window reaching beyond it is."""
    for run in runs:
        text, at = run.group(), run.start()
        groups = [(m.start(), m.end()) for m in _GROUP.finditer(text)]
        times = _datetimes(folded, run)
        tried = 0
        for i, (first, _end) in enumerate(groups):
            digits = ""
            for start, end in groups[i:]:
                digits += text[start:end]
                if len(digits) > 19:
                    break
                tried += 1
                if any(a <= at + first and at + end <= b for a, b in times):
                    continue
                if tried > _MAX_WINDOWS or _is_pan(digits):
                    yield at + first, at + end
                    break


def _track_spans(folded: str, runs: list[re.Match[str]]) -> Iterator[tuple[int, int]]:
    """Track data begins where a digit group of a run begins (its PAN), right after ``B`` for track 1 or
    ``;`` or nothing for track 2: tried there only, with anchored matches."""
    for run in runs:
        for group in _GROUP.finditer(folded, run.start(), run.end()):
            at = group.start()
            one = _TRACK1.match(folded, at - 1) if folded[at - 1 : at] == "B" else None
            if one is not None and luhn_ok(one.group(1)):
                yield (at - 2 if folded[at - 2 : at - 1] == "%" else at - 1), one.end()
            two = _TRACK2.match(folded, at - 1 if folded[at - 1 : at] == ";" else at)
            if two is not None and luhn_ok(two.group(2)):
                sentinel = bool(two.group(1)) or two.group(3).endswith("?") or len(two.group(3)) >= 3
                if sentinel or _CARD_PREFIX.match(two.group(2)):
                    yield two.start(), two.end()


def _cvv_spans(folded: str, _runs: list[re.Match[str]]) -> Iterator[tuple[int, int]]:
    if not _may_hold_cvv(folded):
        return
    for m in _CVV.finditer(folded):
        yield m.start(1), m.end(1)


def find_card_data(text: str) -> str | None:
    """What card data ``text`` holds, as its refusal code (track data, then a PAN, then a labelled CVV), or
    None. Digits count in any script and width, and any separators between them count as nothing."""
    if len(text) < 6:  # ``cvv123`` is the shortest card data
        return None
    folded, runs = _read(text)
    for code, spans in ((TRACK, _track_spans), (PAN, _pan_spans), (CVV, _cvv_spans)):
        if next(spans(folded, runs), None) is not None:
            return code
    return None


def find_card_number(text: str) -> bool:
    """True if ``text`` holds a full payment card number (PAN), alone or inside track data."""
    return find_card_data(text) in (PAN, TRACK)


def find_track_data(text: str) -> bool:
    """True if ``text`` holds magnetic-stripe track data (checked even where long tokens are allowed)."""
    folded, runs = _read(text)
    return next(_track_spans(folded, runs), None) is not None


def may_hold_card_data(text: str) -> bool:
    """Cheap first look: without 13 digits (separators allowed between them) or a CVV label, ``text`` holds
    no card data; one regex pass instead of the full search."""
    folded, runs = _read(text)
    return bool(runs) or next(_cvv_spans(folded, []), None) is not None


def redact_card_numbers(text: str) -> str:
    """Replace card data by ``[PAN]`` / ``[TRACK]`` / ``[CVV]`` (for logs), found by the same rules."""
    if find_card_data(text) is None:
        return text
    pieces = [text] if text.isascii() else [fold(ch) for ch in text]
    origin = list(range(len(text) + 1))  # folded offset → original offset
    if not text.isascii():
        origin = [i for i, piece in enumerate(pieces) for _ in piece] + [len(text)]
    folded = "".join(pieces)
    runs = _runs(folded)
    marks: list[tuple[int, int, str]] = []
    for label, spans in (("[TRACK]", _track_spans), ("[PAN]", _pan_spans), ("[CVV]", _cvv_spans)):
        marks += [(origin[a], origin[b], label) for a, b in spans(folded, runs)]
    out, at = [], 0
    for a, b, label in sorted(marks, key=lambda mark: (mark[0], -mark[1])):
        if a >= at:
            out.append(text[at:a] + label)
            at = b
    return "".join(out) + text[at:]


def refuse_card_data(text: str, field: str) -> None:
    """The one refusal of card data, for every door (API, console, CLI, imports): ``pan_detected``,
    ``track_data_detected`` or ``cvv_detected`` naming the field, never echoing the value."""
    code = find_card_data(text)
    if code is not None:
        raise Invalid(code, field=field)


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


_MASKED_ACCOUNT = re.compile(r"^(\d{6})?\*{2,13}(\d{4})$")


def mask_payee(raw: str) -> str:
    """Where a refund paid away from its route goes, as stored and compared by the risk rules: a mobile number
    (masked here) or a bank account already masked by whoever typed it (``622202******1234`` or ``****1234``);
    a full account number never enters. ``pii.invalid_payee`` otherwise."""
    compact = raw.replace(" ", "").replace("-", "")
    if _PHONE.match(compact):
        return mask_phone(normalise_phone(compact))
    if _MASKED_ACCOUNT.match(compact):
        return compact
    raise Invalid("pii.invalid_payee")


def mask_id_no(id_no: str) -> str:
    """Keep the region (first 3) and the check end (last 4): ``110***********123X``."""
    return id_no[:3] + "*" * (len(id_no) - 7) + id_no[-4:] if len(id_no) > 7 else "****"


def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``; a customer's name is shown by its first character only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def validate_payer_masked(value: str) -> str:
    """A payer shown to staff: at most the first 6 and last 4 card digits, the rest starred."""
    refuse_card_data(value, "payer_masked")
    digits = sum(ch.isdigit() for ch in value)
    if digits > 10 or (digits > 4 and "*" not in value):
        raise Invalid("pii.payer_not_masked")
    return value


def card_last4(payer_masked: str) -> str:
    tail = payer_masked.rstrip()[-4:]
    return tail if tail.isdigit() else ""
