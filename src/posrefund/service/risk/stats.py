"""Robust statistics for comparing a cashier with the peers of the same store: median and MAD instead of mean and
standard deviation, so that the one cashier being judged (or two) cannot drag the yardstick towards themselves."""

from __future__ import annotations

import math
from statistics import median

MAD_TO_SD = 1.4826  # the MAD of a normal distribution times this is its standard deviation


def robust_z(value: float, peers: list[float], floor: float) -> tuple[float, float]:
    """``(z, median)`` of ``value`` among ``peers``; the scale is never below ``floor`` (the sampling noise of a
    count: with four peers the MAD can be near zero by chance, which would make any difference look huge)."""
    mid = median(peers)
    mad = median(abs(p - mid) for p in peers)
    scale = max(MAD_TO_SD * mad, floor)
    return (value - mid) / scale if scale > 0 else 0.0, mid


def rate_noise(rate: float, trials: int) -> float:
    """The standard error of a rate measured over ``trials`` (binomial), the least a spread can honestly be."""
    if trials <= 0:
        return 0.0
    return math.sqrt(max(rate, 1.0 / trials) * (1 - min(rate, 0.999)) / trials)
