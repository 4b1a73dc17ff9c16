"""Looking for personal data that escaped: full card numbers, and mobile numbers or resident ID numbers
written in clear where they should only exist encrypted (the database, the logs, the evidence files).

The places to look are handed in as ``(where, text)`` pairs by the adapters that read them, so this module
knows the rules and nothing of tables or files. Card numbers are found by ``domain.pii`` itself (the same
detector the input guard refuses them with), so the scan and the guard never disagree about what a card
number is. Every finding is shown masked: the scan must not become the leak it looks for.
"""

from __future__ import annotations

import getpass
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from posrefund.domain.errors import Invalid
from posrefund.domain.pii import (
    find_card_number,
    fold,
    mask_id_no,
    mask_phone,
    normalise_phone,
    redact_card_numbers,
    validate_id_no,
)
from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps
from posrefund.service.records import record

PAN, PHONE, ID_NO = "pan", "phone", "id_no"
KINDS = (PAN, PHONE, ID_NO)
# Enough to act on; the counts stay exact however many more there are.
MAX_LISTED = 10_000

# A JSON ``\u0034`` escape spells a digit as six ASCII characters (the outbox writes its payloads that way).
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# Hashes and hex digests (SHA-256 of audit events and evidence, 32+ hex characters): one in a few dozen holds
# a run of digits that passes the card checks, so they are read as letters.
_HEX_TOKEN = re.compile(r"[0-9a-fA-F]{32,}")
# The marks ``redact_card_numbers`` puts where it found card data.
_MARK = re.compile(r"\[(?:PAN|TRACK|CVV)\]")
# No Latin letter, digit or underscore may touch a number on either side: hex hashes, UUIDs, base64 keys and
# our ids (``evd_…``, ``RF2026…``) hold digit runs glued to letters or to the ``_`` after their prefix. Chinese
# text may (``手机13812345678``). Digits of every script are ASCII by then (``pii.fold``).
_FREE_START, _FREE_END = r"(?<![0-9A-Za-z_])", r"(?![0-9A-Za-z_])"
# 11 digits 1[3-9]…, as written 3-4-4 with or without one separator, with or without +86 in front.
_PHONE = re.compile(_FREE_START + r"(?:\+?86[\W_]?)?(1[3-9][0-9][\W_]?[0-9]{4}[\W_]?[0-9]{4})" + _FREE_END)
# 6 digits of region, a birth date 19xx/20xx, 3 of sequence and the check character (GB 11643).
_ID_NO = re.compile(
    _FREE_START
    + r"([0-9]{6}[\W_]?(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[\W_]?[0-9]{3}[0-9Xx])"
    + _FREE_END
)


@dataclass(frozen=True)
class Finding:
    kind: str  # pan | phone | id_no
    where: Mapping[str, Any]  # {"table", "column", "key"} or {"file", "line", "offset"}
    masked: str


@dataclass
class ScanReport:
    counts: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    scanned: int = 0  # texts looked at: cells or lines

    @property
    def clean(self) -> bool:
        return not self.counts

    def summary(self) -> dict[str, int]:
        return {kind: self.counts[kind] for kind in KINDS}


def _digits(text: str) -> str:
    """Every digit of ``text`` in ASCII, whatever script or width it was written in."""
    return "".join(ch for ch in fold(text) if "0" <= ch <= "9")


def mask_card_number(text: str) -> str:
    """First 6 and last 4 digits, the rest starred: ``622202*********0128``. Track data (more than 19 digits)
    keeps its first 6 only: its last digits are the stripe's discretionary data, not the card's last 4."""
    digits = _digits(text)
    if len(digits) < 13:
        return "*" * len(digits)
    if len(digits) > 19:
        return digits[:6] + "*" * (len(digits) - 6)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def _card_spans(text: str) -> list[str]:
    """The pieces of ``text`` that hold a card number, located by where the detector puts its marks."""
    redacted = redact_card_numbers(text)
    pieces = _MARK.split(redacted)
    if len(pieces) > 1 and len(pieces) <= 64:
        matched = re.fullmatch("(.+?)".join(re.escape(p) for p in pieces), text, re.DOTALL)
        spans = [s for s in matched.groups() if find_card_number(s)] if matched else []
        if spans:
            return spans
    return [text]  # found but not placed: the whole text, masked all the same


def _plain(text: str) -> str:
    """The text with its JSON escapes spelled out, so an escaped digit is read as the digit it is."""
    if "\\u" in text:
        text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def _digit_count(folded: str) -> int:
    """How many digits ``folded`` (all of them ASCII by now) holds, counted at C speed."""
    raw = folded.encode("utf-8", "surrogatepass")
    return len(raw) - len(raw.translate(None, b"0123456789"))


def _without_digests(text: str) -> str:
    """``text`` with every hex digest written as letters (of the same length): its digits are no card."""

    def letters(match: re.Match[str]) -> str:
        token = match.group()
        return token if token.isdigit() else "x" * len(token)

    return _HEX_TOKEN.sub(letters, text)


def findings_in(text: str) -> list[tuple[str, str]]:
    """``(kind, masked value)`` for every card number, clear mobile number and clear ID number in ``text``."""
    text = _plain(text)
    folded = fold(text)
    digits = _digit_count(folded)
    if digits < 11:
        return []  # fewer digits than the shortest thing looked for, a mobile number: most texts stop here
    found: list[tuple[str, str]] = []
    cards = _without_digests(text) if digits >= 13 else ""
    if cards and find_card_number(cards):
        found += [(PAN, mask_card_number(span)) for span in _card_spans(cards)]
    for match in _PHONE.finditer(folded):
        found.append((PHONE, mask_phone(normalise_phone(re.sub(r"[\W_]", "", match.group(1))))))
    for match in _ID_NO.finditer(folded):
        try:
            found.append((ID_NO, mask_id_no(validate_id_no(re.sub(r"[\W_]", "", match.group(1))))))
        except Invalid:
            continue  # eighteen digits whose check digit does not fit: not an ID number
    return found


def scan(sources: Iterable[tuple[Mapping[str, Any], str]], report: ScanReport | None = None) -> ScanReport:
    """Reads every ``(where, text)`` of ``sources`` into ``report`` (a new one unless given); the sources
    report their own progress, as they know what a row or a byte is."""
    report = report if report is not None else ScanReport()
    for where, text in sources:
        report.scanned += 1
        for kind, masked in findings_in(text):
            report.counts[kind] += 1
            if len(report.findings) < MAX_LISTED:
                report.findings.append(Finding(kind, where, masked))
    return report


def record_scan(deps: Deps, actor: Actor, report: ScanReport, looked_at: list[str]) -> None:
    """The scan is itself audited: who ran it, where it looked and how much it found (counts, never values)."""
    with deps.uow() as uow:
        record(
            uow,
            actor,
            actor.merchant_id,
            "pii.scanned",
            deps.clock.now(),
            os_user=_os_user(),
            looked_at=looked_at,
            scanned=report.scanned,
            found=report.summary(),
        )
        uow.commit()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
