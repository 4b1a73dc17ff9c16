"""Generated ids never look like card numbers (else the card-number guard would refuse requests naming them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from posrefund.adapters.system import RandomIds
from posrefund.domain.pii import find_card_number


def test_ids_and_refund_numbers_have_no_long_digit_runs() -> None:
    ids = RandomIds()
    now = datetime(2026, 11, 20, tzinfo=UTC)
    made = [ids.new_id("sal") for _ in range(20_000)] + [ids.new_refund_no(now) for _ in range(20_000)]
    assert not [x for x in made if re.search(r"\d{12,}", x) or find_card_number(x)]
    assert len(set(made)) == len(made)
    assert all(len(x) <= 32 and x.isascii() for x in made)
