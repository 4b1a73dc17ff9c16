"""Rate limits for tests that sign in and call the API far more often than any person: all off, no delays.
Production keeps its defaults (config.RateLimits); tests/security sets its own, low, to see them work."""

from __future__ import annotations

from posrefund.config import RateLimits

RELAXED = RateLimits(
    signin_per_ip="",
    signin_per_account="",
    api_per_key="",
    api_per_user="",
    tracking_per_token="",
    signin_free_attempts=1_000_000,
)
