"""Screen text: templates are written in Chinese (``{{ _("退款台") }}``, Jinja2's gettext extension) and this
catalogue gives the English; labels for the domain's values (reasons, statuses, roles, channels), one file
per area of the business, merged here so a page asks one place.

A test extracts every ``_()`` string from the templates and checks it has an English line here.
"""

from __future__ import annotations

from enum import Enum

from posrefund.entrypoints.console.texts.abnormal_refunds import EN_ABNORMAL_REFUNDS, LABELS_ABNORMAL_REFUNDS
from posrefund.entrypoints.console.texts.access import EN_ACCESS, LABELS_ACCESS
from posrefund.entrypoints.console.texts.cases import EN_CASES, LABELS_CASES
from posrefund.entrypoints.console.texts.core import EN_CORE, LABELS_CORE
from posrefund.entrypoints.console.texts.deposits import EN_DEPOSITS, LABELS_DEPOSITS
from posrefund.entrypoints.console.texts.desk import EN_DESK, LABELS_DESK
from posrefund.entrypoints.console.texts.documents import EN_DOCUMENTS, LABELS_DOCUMENTS
from posrefund.entrypoints.console.texts.fees import EN_FEES, LABELS_FEES
from posrefund.entrypoints.console.texts.holds import EN_HOLDS, LABELS_HOLDS
from posrefund.entrypoints.console.texts.notifications import EN_NOTIFY, LABELS_NOTIFY
from posrefund.entrypoints.console.texts.provider import EN_PROVIDER, LABELS_PROVIDER
from posrefund.entrypoints.console.texts.reconciliation import EN_RECON, LABELS_RECON
from posrefund.entrypoints.console.texts.risk import EN_RISK, LABELS_RISK
from posrefund.entrypoints.console.texts.shift import EN_SHIFT, LABELS_SHIFT
from posrefund.entrypoints.console.texts.words import LABELS_WORDS

Labels = dict[str, dict[str, tuple[str, str]]]


def _merge_labels(*areas: Labels) -> Labels:
    """One table of labels; a kind named by several areas (``contact``, ``event``) gets the values of all,
    the first area's wording winning where two name the same value."""
    merged: Labels = {}
    for area in areas:
        for kind, values in area.items():
            for key, pair in values.items():
                merged.setdefault(kind, {}).setdefault(key, pair)
    return merged


# Each area's labels and English lines, one area a line (the core's wording wins where two name one value).
AREAS: tuple[tuple[Labels, dict[str, str]], ...] = (
    (LABELS_CORE, EN_CORE),
    (LABELS_CASES, EN_CASES),
    (LABELS_NOTIFY, EN_NOTIFY),
    (LABELS_RECON, EN_RECON),
    (LABELS_ACCESS, EN_ACCESS),
    (LABELS_DOCUMENTS, EN_DOCUMENTS),
    (LABELS_FEES, EN_FEES),
    (LABELS_PROVIDER, EN_PROVIDER),
    (LABELS_DESK, EN_DESK),
    (LABELS_SHIFT, EN_SHIFT),
    (LABELS_RISK, EN_RISK),
    (LABELS_DEPOSITS, EN_DEPOSITS),
    (LABELS_ABNORMAL_REFUNDS, EN_ABNORMAL_REFUNDS),
    (LABELS_HOLDS, EN_HOLDS),
    (LABELS_WORDS, {}),
)
LABELS: Labels = _merge_labels(*(labels for labels, _en in AREAS))
EN: dict[str, str] = {text: en for _labels, lines in reversed(AREAS) for text, en in lines.items()}


def label(kind: str, value: object, lang: str) -> str:
    """The Chinese (or English) label of a domain value; an unknown value is shown as it is."""
    key = value.value if isinstance(value, Enum) else str(value)
    pair = LABELS.get(kind, {}).get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]
