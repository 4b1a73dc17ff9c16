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


def test_ids_drawn_a_batch_at_a_time_ascend_from_batch_to_batch() -> None:
    """An import's ids sort after every earlier batch's (its rows land at the end of the primary key), and keep
    80 random bits each and no digit run long enough to pass for a card number."""
    ids = RandomIds()
    first, second = ids.new_ids("sal", 20_000), ids.new_ids("sal", 20_000)
    for batch in (first, second):
        assert batch == sorted(batch)
        assert all(re.fullmatch(r"sal_[0-9a-f]{31}", x) and not re.search(r"\d{12,}", x) for x in batch)
    assert max(first) < min(second) or first[0][:15] == second[0][:15]  # the same millisecond: random order
    assert len(set(first + second)) == 40_000
