"""Generated ids never look like card numbers (else the card-number guard would refuse requests naming them)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import pytest

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


def test_every_id_of_a_batch_with_a_long_digit_run_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's one draw comes back all digits: each of its ids holds a run and is drawn again alone."""
    real = secrets.token_hex
    draws: list[int] = []

    def digits_first(nbytes: int) -> str:
        draws.append(nbytes)
        return ("0123456789" * nbytes)[: 2 * nbytes] if len(draws) == 1 else real(nbytes)

    monkeypatch.setattr(secrets, "token_hex", digits_first)  # the module system.py draws from
    batch = RandomIds().new_ids("sal", 500)
    assert draws[0] == 5_000
    assert len(draws) >= 501  # every one of the 500 drawn again (a redraw with a run of its own, again)
    assert len(set(batch)) == 500
    assert not [x for x in batch if re.search(r"\d{12,}", x)]
