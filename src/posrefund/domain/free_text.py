"""Text a person typed into a form (a name, a reason, a reference, a note): trimmed, bounded, and never a card
number in disguise. One check for every desk, so that a card number pasted into any note is refused the same way;
each desk keeps its own words for "missing" and "too long" where its callers already match on them."""

from __future__ import annotations

from typing import Any

from posrefund.domain.errors import Invalid
from posrefund.domain.pii import refuse_card_data

REQUIRED = "request.field_required"
TOO_LONG = "request.field_too_long"


def free_text(
    value: str,
    field: str,
    *,
    limit: int,
    required: bool = True,
    missing: str = REQUIRED,
    too_long: str = TOO_LONG,
    **said: Any,
) -> str:
    """``value`` trimmed; refused when required and empty (``missing``), longer than ``limit`` characters
    (``too_long``), or carrying card data. ``said`` adds to the refusal's parameters (e.g. a field's label)."""
    value = value.strip()
    if required and not value:
        raise Invalid(missing, field=field, **said)
    if len(value) > limit:
        raise Invalid(too_long, field=field, max=limit)
    refuse_card_data(value, field)
    return value
