"""What a long-running worker re-reads without a restart: the calendar overrides and the channels file.

Both are checked between rounds, never while a round hands out cases: the calendar overrides when the
table's version (row count, last change) moved, the channels file when its modification time or size
changed. A channels file that no longer parses, or names a limit that makes no sense, is logged and the
router in use is kept: a typo must not stop refunds that were flowing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import structlog

from posrefund.service.deps import Deps
from posrefund.service.execution import ChannelRules, Router
from posrefund.service.routing import RULE_COUNTS, RULE_DELAYS, RULE_SECONDS

log = structlog.get_logger("posrefund.worker")


def rules_from(conf: Mapping[str, Any], rules: Mapping[str, ChannelRules]) -> dict[str, ChannelRules]:
    """Each channel's rules with the limits its section names; the rest stay the defaults of ChannelRules.
    Raises ValueError on a negative or non-numeric limit."""
    merged = dict(rules)
    for channel, section in conf.items():
        if not isinstance(section, dict):
            continue
        changes: dict[str, Any] = {}
        for key, attr in RULE_COUNTS.items():
            if key in section:
                changes[attr] = _count(channel, key, section[key])
        for key, attr in RULE_SECONDS.items():
            if key in section:
                changes[attr] = timedelta(seconds=_count(channel, key, section[key]))
        for key, attr in RULE_DELAYS.items():
            if key in section:
                changes[attr] = _delays(channel, key, section[key])
        if changes:
            merged[channel] = replace(merged.get(channel, ChannelRules()), **changes)
    return merged


def _count(channel: str, key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"[{channel}] {key} must be a number ≥ 0, not {value!r}")
    return int(value)


def _delays(channel: str, key: str, value: object) -> tuple[timedelta, ...]:
    if not isinstance(value, list):
        raise ValueError(f"[{channel}] {key} must be a list of seconds, not {value!r}")
    return tuple(timedelta(seconds=_count(channel, key, v)) for v in value)


def with_file_rules(router: Router, channels_file: Path | None) -> Router:
    """The router with the per-channel limits of the channels file applied (no file: the defaults)."""
    if channels_file is not None:
        conf = tomllib.loads(channels_file.read_text(encoding="utf-8"))
        router.rules = rules_from(conf, router.rules)
    return router


class CalendarWatch:
    """Reads the override table again only when its version moved; updates the router's overrides in
    place without a moment in which they are empty (a thread may be computing an arrival date)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._version: tuple[int, str] | None = None

    def forget(self) -> None:
        """The next check reads the table whatever its version (a new router has an empty overrides map)."""
        self._version = None

    def check(self, router: Router) -> bool:
        with self._deps.uow(readonly=True) as uow:
            version = uow.calendar.version()
            if version == self._version:
                return False
            fresh: dict[date, bool] = uow.calendar.overrides()
        router.replace_overrides(fresh)
        self._version = version
        if self._version is not None:
            log.info("worker.calendar_reloaded", overrides=len(fresh))
        return True


class ChannelsFileWatch:
    """Rebuilds the router when the channels file changed on disk; keeps the old one when the new file
    cannot be used. The rate limiter carries over, so a reload does not reset the calls counted."""

    def __init__(self, path: Path | None, build: Callable[[], Router]) -> None:
        self._path = path
        self._build = build
        self._stamp = self._stamp_now()

    def _stamp_now(self) -> tuple[int, int] | None:
        if self._path is None:
            return None
        try:
            stat = self._path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def check(self, router: Router) -> Router | None:
        """A new router when the file changed and builds; None otherwise."""
        stamp = self._stamp_now()
        if stamp == self._stamp or stamp is None:
            return None
        self._stamp = stamp
        try:
            fresh = self._build()
        except Exception as exc:  # a half-written or wrong file: keep going with what works
            log.error("worker.channels_file_rejected", path=str(self._path), error=f"{type(exc).__name__}: {exc}")
            return None
        fresh.may_call = router.may_call
        log.info("worker.channels_file_reloaded", path=str(self._path), channels=sorted(fresh.channels))
        return fresh
