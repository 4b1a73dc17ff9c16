"""Rate limits for tests that sign in and call the API far more often than any person: all off, no delays.
Production keeps its defaults (config.RateLimits); tests/security sets its own, low, to see them work, and
checks each refusal with ``refused``."""

from __future__ import annotations

from httpx import Response

from posrefund.config import RateLimits

RELAXED = RateLimits(
    signin_per_ip="",
    signin_per_account="",
    api_per_key="",
    api_per_user="",
    tracking_per_token="",
    signin_free_attempts=1_000_000,
)


def refused(r: Response, retry_after: str | None = None) -> None:
    """429 with Retry-After: the error body for a program, a page for a person (console, tracking links)."""
    assert r.status_code == 429, r.text
    assert int(r.headers["retry-after"]) >= 1
    if retry_after is not None:
        assert r.headers["retry-after"] == retry_after
    if r.request.url.path.startswith(("/console/", "/t/")):
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert 'data-code="request.rate_limited"' in r.text and "请求过于频繁" in r.text
        assert "<script" not in r.text and "javascript:" not in r.text  # the pages' policy runs no inline script
    else:
        assert r.json()["code"] == "request.rate_limited"
