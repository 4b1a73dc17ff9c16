"""Fault injection, one shape for every simulator: the same switches, named the same, set the same ways.

The canonical faults (``CANONICAL``) mean one thing on every simulator; each simulator declares which it supports
(``FaultPlan.supported``, ``GET /__sim__/faults``) and refuses any other (``UnsupportedFault``, a 400 at its side
door). A simulator's older names (``slow``, ``processing_then_success``, ``bad_signature_callback``, …) still work
as aliases, and it may keep faults of its own beside them (``http_500``, ``bad_response_mac``, …).

Per refund number, a test or an operator plans a ``Fault`` (``set_fault(refund_no, name, applied=, code=,
times=, seconds=)`` on the simulator, ``POST /__sim__/faults {refund_no, fault, applied?, code?, times?,
seconds?}`` on its side door). At random, every simulator takes the same constructor switches and CLI flags
(``add_fault_flags``):

- ``fault_rate`` (``--fault-rate 0.3``): the share of new refund numbers given a random fault, drawn evenly from
  ``rate_faults`` (``--rate-fault NAME``, repeatable; each simulator has its defaults);
- ``fault_rates`` (``--fault-rate NAME=RATE``, repeatable): a rate per fault instead, tried in name order;
- ``seed`` (``--seed``): the same seed draws the same faults.
"""

from __future__ import annotations

import argparse
import random
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

WALLETS, CARD = ("wechat", "alipay"), ("card",)
EVERYWHERE = WALLETS + CARD


@dataclass(frozen=True)
class Canonical:
    """One canonical fault: what it does, wherever it is supported, and where it can apply at all."""

    meaning: str
    applies_to: tuple[str, ...] = EVERYWHERE


CANONICAL: Mapping[str, Canonical] = {
    "latency": Canonical("the answer comes `seconds` late (the request is executed at once); the client may give up"),
    "no_answer_after_accept": Canonical("the request is executed, the answer never comes (the connection ends)"),
    "system_error": Canonical("the channel's 5xx / system error; `applied` says whether it executed behind it"),
    "decline": Canonical("a business refusal with `code` (or the channel's usual one); nothing is executed"),
    "processing": Canonical('"still processing" for `seconds`, or on `times` queries (default 2), then success'),
    "host_reversal": Canonical("the counterpart executes the refund, then undoes it on its own"),
    "duplicate_callback": Canonical("the notification is delivered twice (same id)", WALLETS),
    "late_callback": Canonical(f"the notification leaves {2.0:g} s after the refund is final", WALLETS),
    "forged_callback": Canonical("a notification with a wrong signature arrives before the genuine one", WALLETS),
}
# Older names, still accepted where the simulator knows them: old name -> canonical name.
ALIASES: Mapping[str, str] = {
    "slow": "latency",
    "processing_then_success": "processing",
    "bad_signature_callback": "forged_callback",
}
LATE_CALLBACK_SECONDS = 2.0
# Faults that act in this package rather than in a simulator's protocol code (the HTTP answer is held back).
HANDLED_HERE = frozenset({"latency"})
DEFAULT_LATENCY_SECONDS = 5.0


class UnsupportedFault(ValueError):
    """A fault this simulator does not know: a 400 at its side door, with what it does know."""


@dataclass(frozen=True)
class Fault:
    """One planned misbehaviour for one refund number.

    ``applied``: for error answers, whether the refund happened behind the error (None: the channel's default).
    ``code``: for refusals, the error code to answer with (empty: the channel's usual one).
    ``times``: how many requests it hits, or how many queries it holds a refund back (None: the default).
    ``seconds``: for ``latency``, how late the answer comes (None: the simulator's default)."""

    name: str
    applied: bool | None = None
    code: str = ""
    times: int | None = None
    seconds: float | None = None


def fault_from_json(payload: Mapping[str, Any]) -> tuple[str, Fault]:
    """``{refund_no, fault, applied?, code?, times?, seconds?}`` from a side door, as (refund number, fault)."""
    applied, times, seconds = payload.get("applied"), payload.get("times"), payload.get("seconds")
    fault = Fault(
        str(payload["fault"]),
        applied=None if applied is None else bool(applied),
        code=str(payload.get("code", "")),
        times=None if times is None else int(times),
        seconds=None if seconds is None else float(seconds),
    )
    return str(payload["refund_no"]), fault


def supported_names(known: Collection[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Canonical name -> the simulator's own name, for every canonical fault a simulator knowing ``known``
    supports: by the same name, by an older alias, or as ``overrides`` says."""
    names: dict[str, str] = {}
    for name in CANONICAL:
        if name in known:
            names[name] = name
        else:
            own = next((old for old, new in ALIASES.items() if new == name and old in known), None)
            if own is not None:
                names[name] = own
    names.update(overrides or {})
    return names


_owed = threading.local()


def owed_latency() -> float:
    """Seconds the answer now being made in this thread must be held back (a ``latency`` fault was taken for it
    while it was made); asking clears it."""
    seconds = float(getattr(_owed, "seconds", 0.0))
    _owed.seconds = 0.0
    return seconds


class FaultPlan:
    """Planned faults per refund number and the seeded dice for random ones (drawn among ``drawable``, all
    ``known`` faults unless narrowed). ``names`` maps canonical names to the simulator's own (default: by
    ``supported_names``); a canonical name is stored under the simulator's own name, so its protocol code sees
    the names it always did. Not locked: the simulator's books call it under their own lock."""

    def __init__(
        self,
        known: Collection[str],
        *,
        fault_rate: float = 0.0,
        rate_faults: Iterable[str] = (),
        fault_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        drawable: Collection[str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.known = frozenset(known)
        self.names = supported_names(self.known) if names is None else dict(names)
        drawable = self.known if drawable is None else frozenset(drawable)
        self.fault_rate = fault_rate
        self.rate_faults = tuple(self.own_name(n, strict=False) for n in rate_faults)
        self.fault_rates = {self.own_name(n, strict=False): r for n, r in (fault_rates or {}).items()}
        unknown = (set(self.rate_faults) | set(self.fault_rates)) - drawable
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}; choose from {sorted(drawable)}")
        self.rng = random.Random(seed)  # noqa: S311 - reproducible fault injection, not cryptography
        self._planned: dict[str, list[Fault]] = {}

    @property
    def supported(self) -> list[str]:
        """The canonical faults this simulator supports, in the canonical order."""
        return [name for name in CANONICAL if name in self.names]

    def own_name(self, name: str, *, strict: bool = True) -> str:
        """The simulator's own name for a canonical or own fault name; ``UnsupportedFault`` for any other."""
        if name in self.names:
            return self.names[name]
        if name in self.known or not strict:
            return name
        if name in CANONICAL:
            raise UnsupportedFault(
                f"fault {name!r} is not supported by this simulator (applies to {', '.join(CANONICAL[name].applies_to)}"
                f"); supported: {self.supported}"
            )
        raise UnsupportedFault(f"unknown fault {name!r}; supported: {self.supported}; also: {sorted(self.known)}")

    def plan(self, refund_no: str, fault: Fault) -> None:
        fault = replace(fault, name=self.own_name(fault.name))
        self._planned.setdefault(refund_no, []).append(fault)

    def clear(self) -> None:
        self._planned.clear()

    def planned(self, refund_no: str) -> list[Fault]:
        return list(self._planned.get(refund_no, []))

    def pop(self, refund_no: str) -> list[Fault]:
        """Every fault planned for the number, which is then planned no more (a ``latency`` among them is
        taken for the answer now being made)."""
        pending = self._planned.pop(refund_no, [])
        for fault in pending:
            if fault.name in HANDLED_HERE:
                _owed.seconds = fault.seconds or DEFAULT_LATENCY_SECONDS
        return [f for f in pending if f.name not in HANDLED_HERE]

    def take(self, refund_no: str, names: Collection[str]) -> Fault | None:
        """The first planned fault among ``names``; it hits ``times`` requests (default one), then is gone.
        A ``latency`` planned for the number is taken at the same time, for the answer now being made."""
        if not HANDLED_HERE & set(names):
            latency = self.take(refund_no, HANDLED_HERE)
            if latency is not None:
                _owed.seconds = latency.seconds or DEFAULT_LATENCY_SECONDS
        pending = self._planned.get(refund_no, [])
        for i, fault in enumerate(pending):
            if fault.name in names:
                left = (fault.times or 1) - 1
                if left > 0:
                    pending[i] = replace(fault, times=left)
                else:
                    del pending[i]
                return fault
        return None

    @property
    def random(self) -> bool:
        return self.fault_rate > 0 or bool(self.fault_rates)

    def draw(self) -> str | None:
        """A random fault's name, or None: by ``fault_rates`` when given, else by ``fault_rate``."""
        if self.fault_rates:
            for name, rate in sorted(self.fault_rates.items()):
                if self.rng.random() < rate:
                    return name
            return None
        if self.fault_rate > 0 and self.rate_faults and self.rng.random() < self.fault_rate:
            return self.rng.choice(self.rate_faults)
        return None


def add_fault_flags(parser: argparse.ArgumentParser, known: Collection[str]) -> None:
    """``--fault-rate``, ``--rate-fault`` and ``--seed``: the same on every simulator."""
    parser.add_argument(
        "--fault-rate",
        action="append",
        default=[],
        metavar="RATE|NAME=RATE",
        help="share of new refunds given a random fault, or one fault's own rate (repeatable)",
    )
    parser.add_argument(
        "--rate-fault", action="append", default=[], metavar="NAME", help=f"drawn by --fault-rate: {sorted(known)}"
    )
    parser.add_argument("--seed", type=int, default=0, help="the same seed draws the same faults")


def fault_settings(args: argparse.Namespace, default_rate_faults: Sequence[str]) -> dict[str, Any]:
    """The constructor switches from the flags of ``add_fault_flags``."""
    share, per_fault = 0.0, {}
    for item in args.fault_rate:
        name, sep, rate = str(item).partition("=")
        if sep:
            per_fault[name] = float(rate)
        else:
            share = float(name)
    return {
        "fault_rate": share,
        "rate_faults": tuple(args.rate_fault) or tuple(default_rate_faults),
        "fault_rates": per_fault or None,
        "seed": args.seed,
    }
