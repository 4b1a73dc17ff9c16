"""Fault injection, one shape for every simulator: the same switches, named the same, set the same ways.

Per refund number, a test or an operator plans a ``Fault`` (``set_fault(refund_no, name, applied=, code=,
times=)`` on the simulator, ``POST /__sim__/faults {refund_no, fault, applied?, code?, times?}`` on its side door).
At random, every simulator takes the same constructor switches and CLI flags (``add_fault_flags``):

- ``fault_rate`` (``--fault-rate 0.3``): the share of new refund numbers given a random fault, drawn evenly from
  ``rate_faults`` (``--rate-fault NAME``, repeatable; each simulator has its defaults);
- ``fault_rates`` (``--fault-rate NAME=RATE``, repeatable): a rate per fault instead, tried in name order;
- ``seed`` (``--seed``): the same seed draws the same faults.

What each fault name does is the simulator's own (its ``FAULTS``): the wire differs from channel to channel, and
so does what "the refund happened behind the error" (``applied``) or "how many" (``times``) means there.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Fault:
    """One planned misbehaviour for one refund number.

    ``applied``: for error answers, whether the refund happened behind the error (None: the channel's default).
    ``code``: for refusals, the error code to answer with (empty: the channel's usual one).
    ``times``: how many requests it hits, or how many queries it holds a refund back (None: the default)."""

    name: str
    applied: bool | None = None
    code: str = ""
    times: int | None = None


def fault_from_json(payload: Mapping[str, Any]) -> tuple[str, Fault]:
    """``{refund_no, fault, applied?, code?, times?}`` from a side door, as (refund number, fault)."""
    applied, times = payload.get("applied"), payload.get("times")
    fault = Fault(
        str(payload["fault"]),
        applied=None if applied is None else bool(applied),
        code=str(payload.get("code", "")),
        times=None if times is None else int(times),
    )
    return str(payload["refund_no"]), fault


class FaultPlan:
    """Planned faults per refund number and the seeded dice for random ones (drawn among ``drawable``, all
    ``known`` faults unless narrowed). Not locked: the simulator's books call it under their own lock."""

    def __init__(
        self,
        known: Collection[str],
        *,
        fault_rate: float = 0.0,
        rate_faults: Iterable[str] = (),
        fault_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        drawable: Collection[str] | None = None,
    ) -> None:
        self.known = frozenset(known)
        drawable = self.known if drawable is None else frozenset(drawable)
        self.fault_rate = fault_rate
        self.rate_faults = tuple(rate_faults)
        self.fault_rates = dict(fault_rates or {})
        unknown = (set(self.rate_faults) | set(self.fault_rates)) - drawable
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}; choose from {sorted(drawable)}")
        self.rng = random.Random(seed)  # noqa: S311 - reproducible fault injection, not cryptography
        self._planned: dict[str, list[Fault]] = {}

    def plan(self, refund_no: str, fault: Fault) -> None:
        if fault.name not in self.known:
            raise ValueError(f"unknown fault {fault.name!r}; known: {sorted(self.known)}")
        self._planned.setdefault(refund_no, []).append(fault)

    def clear(self) -> None:
        self._planned.clear()

    def planned(self, refund_no: str) -> list[Fault]:
        return list(self._planned.get(refund_no, []))

    def pop(self, refund_no: str) -> list[Fault]:
        """Every fault planned for the number, which is then planned no more."""
        return self._planned.pop(refund_no, [])

    def take(self, refund_no: str, names: Collection[str]) -> Fault | None:
        """The first planned fault among ``names``; it hits ``times`` requests (default one), then is gone."""
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
