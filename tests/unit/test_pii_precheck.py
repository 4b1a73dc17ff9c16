"""The card-number guard's first look over the raw body may skip parsing only when parsing could not find
anything: for any JSON document, a skip must mean no card number and no NUL anywhere in it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from posrefund.entrypoints.api.pii_guard import _NulFound, _plain_and_digit_free, _walk

CARDS = ["4111111111111111", "4111 1111 1111 1111", "6222-0212-3456-7890-128", "\x00", "378282246310005"]
texts = st.one_of(
    st.text(max_size=30),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=5), st.sampled_from(CARDS), st.text(max_size=5)),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([4111111111111111, 4.111111111111111e15, 4111111111.111111e6, -378282246310005]),
    texts,
)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4))


def _finds_something(doc: Any) -> bool:
    try:
        return _walk(doc, "") is not None
    except _NulFound:
        return True


@settings(max_examples=400, deadline=None)
@given(documents, st.booleans(), st.sampled_from([None, 2]))
@example({"a": 4111111111.111111e6}, False, None)
@example({"n": "\u0034111111111111111"}, True, None)
def test_a_skipped_body_holds_nothing_the_walk_would_find(doc: Any, ascii_only: bool, indent: int | None) -> None:
    raw = json.dumps(doc, ensure_ascii=ascii_only, indent=indent).encode()
    if _plain_and_digit_free(raw):
        assert not _finds_something(json.loads(raw)), raw


def test_an_ordinary_refund_body_is_skipped() -> None:
    raw = b'{"sale_id": "sal_3e9a0b7c1d2e3f405162", "amount_fen": 100, "reason": "customer_cancelled"}'
    assert _plain_and_digit_free(raw)


def test_numbers_written_by_hand_that_print_as_card_numbers_are_not_skipped() -> None:
    for raw in (b'{"a": 4111111111.111111e6}', b"[41111111111111.11e2]", b"4111111111.111111E6"):
        assert _finds_something(json.loads(raw)), raw  # the walk sees 4111111111111111.0
        assert not _plain_and_digit_free(raw), raw
