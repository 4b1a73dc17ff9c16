"""``posrefund users`` and ``posrefund keys revoke``: the account lifecycle from the host's command line."""

from __future__ import annotations

from posrefund.config import Settings
from posrefund.service import auth
from posrefund.service.deps import Deps
from tests.integration.test_cli import env, js, run

__all__ = ["env"]


def test_the_lifecycle_of_a_user_from_the_cli(env: Settings, deps: Deps) -> None:
    js("merchant", "create", "--code", "SHOP9", "--name", "九号商户")
    made = js(
        "user",
        "create",
        "-m",
        "SHOP9",
        "--username",
        "shop9_cashier",
        "--role",
        "cashier",
        "--password",
        "long-enough-1",
    )
    off = js("users", "deactivate", "shop9_cashier")
    assert (off["active"], off["token_generation"]) == (False, 1)
    assert js("users", "activate", made["id"])["active"] is True
    assert js("users", "set-role", "shop9_cashier", "supervisor")["role"] == "supervisor"
    reset = js("users", "reset-password", "shop9_cashier", "--password", "temporary-pw-9")
    assert reset["must_change_password"] is True and "password_hash" not in reset
    assert auth.login(deps, "shop9_cashier", "temporary-pw-9").id == made["id"]
    assert js("users", "sign-out-everywhere", "shop9_cashier")["token_generation"] == 4
    refused = run("users", "set-role", "shop9_cashier", "provider_admin", ok=False)
    assert refused.exit_code == 1 and "user.invalid_role" in refused.output
    unknown = run("users", "deactivate", "nobody_here", ok=False)
    assert unknown.exit_code == 1 and "user.not_found" in unknown.output


def test_revoking_a_terminal_key_from_the_cli(env: Settings) -> None:
    js("merchant", "create", "--code", "SHOP8", "--name", "八号商户")
    store = js("store", "create", "-m", "SHOP8", "--name", "旗舰店")
    term = js("terminal", "create", "--store", store["id"], "--sn", "SN008", "--terminal-no", "T008")
    revoked = js("keys", "revoke", term["api_key_id"])
    assert revoked["revoked_at"] is not None and "secret_hash" not in revoked
    again = run("keys", "revoke", term["api_key_id"], ok=False)
    assert again.exit_code == 1 and "apikey.already_revoked" in again.output
