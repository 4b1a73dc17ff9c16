"""Reading an import's next batch while this one is written: order, overlap, errors, and a reader that never
outlives its block; and a settlement file's lines gathered into batches by the lines they hold."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from posrefund.service.read_ahead import read_ahead
from posrefund.service.reconciliation.staging import _batches


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "import-read-ahead"]


def test_every_item_comes_once_and_in_order() -> None:
    with read_ahead(iter(range(1000))) as ahead:
        assert list(ahead) == list(range(1000))
    assert _readers() == []


def test_the_next_item_is_read_while_the_caller_holds_this_one() -> None:
    second_read = threading.Event()

    def source() -> Iterator[int]:
        yield 1
        second_read.set()
        yield 2

    with read_ahead(source()) as ahead:
        first = next(ahead)
        # Nothing more is asked of the iterator: the reader fetches the next item on its own.
        assert second_read.wait(timeout=5)
        assert first == 1
        assert list(ahead) == [2]


def test_an_error_of_the_reader_is_raised_at_the_item_it_stopped_at() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("line 3 unreadable")

    got = []
    with pytest.raises(ValueError, match="line 3 unreadable"), read_ahead(source()) as ahead:
        for item in ahead:
            got.append(item)
    assert got == [1, 2]
    assert _readers() == []


def test_a_block_left_early_stops_the_reader_before_it_ends() -> None:
    pulled = []

    def source() -> Iterator[int]:
        for i in range(1_000_000):
            pulled.append(i)
            yield i

    with pytest.raises(RuntimeError), read_ahead(source()) as ahead:
        for item in ahead:
            if item == 2:
                raise RuntimeError("the write failed")
    assert _readers() == []  # joined by the time the block is left: nothing reads on
    assert len(pulled) <= 5  # the item held, one waiting, one being handed over


def test_lines_are_gathered_into_batches_by_the_lines_they_hold() -> None:
    block3, block5 = ["a", "b", "c"], ["d", "e", "f", "g", "h"]
    items: list[object] = [block3, "x", "y", block5, "z"]
    assert list(_batches(items, 4)) == [([block3, "x"], 4), (["y", block5], 6), (["z"], 1)]
    assert list(_batches([], 4)) == []
    assert list(_batches(["x", "y"], 1)) == [(["x"], 1), (["y"], 1)]
