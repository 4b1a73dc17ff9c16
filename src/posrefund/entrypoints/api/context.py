"""Per-app wiring the routes share: the service deps, who is calling, and how service code is run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated, Any, TypeVar

import anyio
from anyio import CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError

from posrefund.adapters.passwords import HashingPool
from posrefund.domain.errors import Unauthorized
from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.tokens import Tokens
from posrefund.service import auth as auth_service
from posrefund.service import sessions
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.notifications.sending import NotifyRouter

T = TypeVar("T")


class AppContext:
    """Service code is synchronous. On SQLite it runs inline on the event loop: one writer, no lock fight
    (measured faster than a thread pool, see docs/design.md); on PostgreSQL it runs on a bounded pool."""

    def __init__(
        self, deps: Deps, *, inline: bool, token_minutes: int, router: Router | None = None, threads: int = 16
    ) -> None:
        self.deps = deps
        self.router = router or Router(channels={}, is_workday=lambda _d: True)
        self.inline = inline
        self._limiter = CapacityLimiter(threads)
        self.tokens = Tokens(deps, minutes=token_minutes)
        self.refresh_for = timedelta(hours=12)  # how long a refresh token lasts; the app sets it from settings
        self.in_flight: set[tuple[str, str]] = set()
        self._pending: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None
        # Where tracking links point (the public URL and validity the notifications use); the serve
        # command and the app factory set the one built from settings (bootstrap.build_notify_router).
        self.notify_router = NotifyRouter()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self.inline:
            return await self.run_apart(fn, *args, **kwargs)
        # Inline (SQLite): calls that arrive while the previous batch commits are run together in one
        # transaction, each in its own savepoint, and answered after the one commit (group commit).
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((fn, args, kwargs, future))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        result: T = await future
        return result

    async def run_apart(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a command that calls a payment channel between transactions of its own (what it asks written down
        before the call leaves, the answer after) on a thread, never in the inline group commit: there its writes
        would be committed only after the call, and a process dying meanwhile would leave no trace of a call the
        channel executed."""
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=self._limiter)

    async def run_once(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a command that is made idempotent by a unique key (a refund's Idempotency-Key, a settlement
        file's fingerprint, a reconciliation run's source and dates). Two requests with the same key can
        both miss the look-up; the database's unique key lets only one insert, and the other fails with
        ``IntegrityError``. Running the command once more then finds what the first committed and answers
        it as a replay, so the caller never sees the race."""
        try:
            return await self.run(fn, *args, **kwargs)
        except IntegrityError:
            return await self.run(fn, *args, **kwargs)

    async def _drain(self) -> None:
        """Run what is pending as one batch on the event loop, then commit it on a thread: while the fsync
        runs, the loop reads and answers other requests, which form the next batch."""
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                outcomes: list[tuple[asyncio.Future[Any], bool, Any]] = []
                try:
                    group = self.deps.uow.open_batch()
                except Exception as exc:  # no connection: nothing of this batch ran
                    self._settle([(f, False, exc) for _fn, _a, _k, f in batch])
                    continue
                with group.joined():
                    for fn, args, kwargs, future in batch:
                        try:
                            outcomes.append((future, True, fn(*args, **kwargs)))
                        except Exception as exc:  # that call's savepoint is rolled back; the others go on
                            outcomes.append((future, False, exc))
                try:
                    await asyncio.shield(asyncio.to_thread(group.commit))
                except Exception as exc:  # the commit itself failed: nothing of this batch is durable
                    outcomes = [(future, False, exc) for _fn, _a, _k, future in batch]
                self._settle(outcomes)
        finally:
            self._drainer = None

    @staticmethod
    def _settle(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
        for future, ok, value in outcomes:
            if future.cancelled():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    @cached_property
    def hashing(self) -> HashingPool:
        """Password checks, off the event loop on a bounded pool (entrypoints/api/signin.py)."""
        return HashingPool(self.deps.hasher)

    def issue_token(self, actor: Actor, generation: int = 0) -> tuple[str, datetime]:
        return self.tokens.issue(actor, generation)

    async def token_state(self, user_id: str) -> tuple[int, bool] | None:
        """The user's token generation and whether they are active (the tokens' revocation check)."""
        return await self.run(sessions.token_state, self.deps, user_id)


async def ctx(request: Request) -> AppContext:
    context = request.app.state.ctx
    assert isinstance(context, AppContext)
    return context


async def _bearer(request: Request, *, pending_password: bool) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("auth.missing")
    token = token.strip()
    c: AppContext = request.app.state.ctx
    if token.startswith("key_"):
        return await c.run(auth_service.actor_for_api_key, c.deps, token)
    return await c.tokens.current(token, c.token_state, pending_password=pending_password)


async def current_actor(request: Request) -> Actor:
    """The caller: a live token of the user's current generation, or a terminal's unrevoked key."""
    return await _bearer(request, pending_password=False)


async def account_actor(request: Request) -> Actor:
    """The caller on the routes of their own account: also one who must first change a temporary password."""
    return await _bearer(request, pending_password=True)


async def bearer_tokens(request: Request) -> Tokens:
    tokens: Tokens = request.app.state.ctx.tokens
    return tokens


async def channel_router(request: Request) -> Router:
    """The channels (and the business-day calendar they share with the worker) refunds are sent through."""
    router: Router = request.app.state.ctx.router
    return router


CurrentActor = Annotated[Actor, Depends(current_actor)]
AccountActor = Annotated[Actor, Depends(account_actor)]
Ctx = Annotated[AppContext, Depends(ctx)]
Channels = Annotated[Router, Depends(channel_router)]
BearerTokens = Annotated[Tokens, Depends(bearer_tokens)]
