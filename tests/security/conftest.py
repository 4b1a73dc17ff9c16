"""The fixtures the security probes share with the API tests (a real app and client, bearer headers for the
world's operators) and with the CLI tests (the environment ``posrefund`` reads its settings from)."""

from tests.api.conftest import app, auth, client  # noqa: F401
from tests.integration.test_cli import env  # noqa: F401
