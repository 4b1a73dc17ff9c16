"""Screen text: templates are written in Chinese (``{{ _("退款台") }}``, Jinja2's gettext extension) and this
catalogue gives the English; labels for the domain's values (reasons, statuses, roles, channels), one file
per area of the business, merged here so a page asks one place.

A test extracts every ``_()`` string from the templates and checks it has an English line here.
"""

from __future__ import annotations

from enum import Enum

from posrefund.entrypoints.console.texts.access import EN_ACCESS, LABELS_ACCESS
from posrefund.entrypoints.console.texts.cases import EN_CASES, LABELS_CASES
from posrefund.entrypoints.console.texts.core import EN_CORE, LABELS_CORE
from posrefund.entrypoints.console.texts.notifications import EN_NOTIFY, LABELS_NOTIFY
from posrefund.entrypoints.console.texts.reconciliation import EN_RECON, LABELS_RECON
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


LABELS: Labels = _merge_labels(LABELS_CORE, LABELS_CASES, LABELS_NOTIFY, LABELS_RECON, LABELS_ACCESS, LABELS_WORDS)
EN: dict[str, str] = {**EN_CASES, **EN_ACCESS, **EN_RECON, **EN_NOTIFY, **EN_CORE}


def label(kind: str, value: object, lang: str) -> str:
    """The Chinese (or English) label of a domain value; an unknown value is shown as it is."""
    key = value.value if isinstance(value, Enum) else str(value)
    pair = LABELS.get(kind, {}).get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]
