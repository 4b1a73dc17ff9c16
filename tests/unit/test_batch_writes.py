"""Batches written side by side only where they hold no common sale, their outcomes taken in file order."""

from __future__ import annotations

import functools
import threading
import time

import polars as pl
import pytest

from posrefund.adapters.sales_table import sale_keys
from posrefund.domain.sale import sale_key
from posrefund.service.batch_writes import BatchWrites


def test_batches_without_a_common_sale_are_written_side_by_side() -> None:
    both_in = threading.Barrier(2, timeout=5)  # broken (an error) unless two writes are in flight at once
    taken: list[int] = []
    with BatchWrites[int](2) as writes:
        for n in range(6):

            def write(n: int = n) -> int:
                both_in.wait()
                return n

            writes.submit(functools.partial(set, [f"W{n}"]), write, taken.append)
    assert taken == [0, 1, 2, 3, 4, 5]


def test_a_batch_holding_a_sale_of_one_being_written_waits_for_it() -> None:
    running: set[int] = set()
    overlapped: list[tuple[int, int]] = []
    lock = threading.Lock()
    taken: list[int] = []

    def write(n: int) -> int:
        with lock:
            overlapped.extend((n, other) for other in running)
            running.add(n)
        time.sleep(0.05)
        with lock:
            running.discard(n)
        return n

    keys = [{"a"}, {"b"}, {"a", "c"}, {"d"}, {"c"}]  # 2 shares a sale with 0, 4 with 2
    with BatchWrites[int](2) as writes:
        for n, k in enumerate(keys):
            writes.submit(functools.partial(set, k), functools.partial(write, n), taken.append)
    assert taken == [0, 1, 2, 3, 4]
    assert not {(2, 0), (0, 2), (4, 2), (2, 4)} & set(overlapped)


def test_one_writer_writes_on_the_callers_thread_at_once() -> None:
    seen: list[tuple[str, int]] = []
    writes = BatchWrites[str](1)
    asked: list[str] = []

    def keys() -> set[str]:
        asked.append("keys")
        return {"a"}

    writes.submit(
        keys,
        lambda: threading.current_thread().name,
        lambda name: seen.append((name, len(seen))),
    )
    assert seen == [(threading.current_thread().name, 0)]  # done before submit returned
    assert asked == []  # one writer never needs the keys
    writes.close()


def test_a_failed_batch_stops_the_import_after_those_in_flight_are_finished() -> None:
    taken: list[int] = []
    finished: list[int] = []

    def write(n: int) -> int:
        if n == 2:
            raise RuntimeError("batch 2")
        time.sleep(0.02)
        finished.append(n)
        return n

    with pytest.raises(RuntimeError, match="batch 2"), BatchWrites[int](2) as writes:
        for n in range(6):
            writes.submit(functools.partial(set, [n]), functools.partial(write, n), taken.append)
    assert taken[:2] == [0, 1]
    assert 2 not in taken
    assert sorted(finished) == sorted(n for n in taken)  # every write that finished had its outcome taken
    assert max(taken) <= 3  # nothing was submitted after the failure was seen


def test_the_bulk_reader_names_a_sale_as_the_domain_does() -> None:
    rows = [
        ("trm_1", "000001", "000123", "SO1"),  # a card sale: its card keys, whatever its order no.
        ("trm_1", "000001", "000124", ""),
        ("trm_2", "", "", "W9"),  # a wallet sale: its order no.
        ("trm_2", "", "", "W9"),  # the same sale again
    ]
    frame = pl.DataFrame(rows, schema=["terminal_id", "batch_no", "voucher_no", "order_no"], orient="row")
    assert sale_keys(frame) == {sale_key(*row) for row in rows}
    assert len(sale_keys(frame)) == 3
