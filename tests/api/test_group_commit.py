"""Group commit on SQLite: requests that arrive together share one transaction and one fsync, yet each
stands alone — a failing call undoes only its own writes, and nobody is answered before the commit."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from posrefund.entrypoints.api.context import AppContext
from posrefund.service.deps import Deps


class Boom(RuntimeError):
    pass


def _put(deps: Deps, day: date, fail: bool) -> str:
    with deps.uow() as uow:
        uow.calendar.put_override(day, True, "test", "tester", deps.clock.now())
        if fail:
            raise Boom(str(day))  # after writing: its savepoint must take the write back
        uow.commit()
    return day.isoformat()


def _days(deps: Deps) -> set[date]:
    with deps.uow(readonly=True) as uow:
        return set(uow.calendar.overrides())


SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # group commit runs inline on SQLite


@SQLITE_ONLY
def test_one_failing_call_in_a_batch_leaves_the_others_committed(deps: Deps) -> None:
    ctx = AppContext(deps, inline=True, token_minutes=5)
    days = [date(2027, 1, d) for d in range(4, 10)]

    async def together() -> list[object]:
        calls = [ctx.run(_put, deps, d, i == 2) for i, d in enumerate(days)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(together())
    assert [isinstance(r, Boom) for r in results] == [i == 2 for i in range(len(days))]
    assert _days(deps) == {d for i, d in enumerate(days) if i != 2}


@SQLITE_ONLY
def test_a_failed_commit_fails_every_call_of_the_batch(
    deps: Deps, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = AppContext(deps, inline=True, token_minutes=5)
    real_open = deps.uow.open_batch

    def failing_open():  # type: ignore[no-untyped-def]
        group = real_open()

        def commit() -> None:
            group.abandon()
            raise OSError("disk full")

        group.commit = commit  # type: ignore[method-assign]
        return group

    monkeypatch.setattr(deps.uow, "open_batch", failing_open)
    days = [date(2027, 2, d) for d in range(1, 4)]

    async def together() -> list[object]:
        return await asyncio.gather(*(ctx.run(_put, deps, d, False) for d in days), return_exceptions=True)

    assert all(isinstance(r, OSError) for r in asyncio.run(together()))
    monkeypatch.undo()
    assert _days(deps) == set()  # nothing of the batch is durable, and nobody was told it was
