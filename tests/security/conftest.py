"""The security probes run against the real HTTP layer: the API's fixtures (app, client, bearer headers)."""

from tests.api.conftest import app, auth, client

__all__ = ["app", "auth", "client"]
