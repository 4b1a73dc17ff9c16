"""``posrefund keys``: the secrets a fresh installation needs in its env file."""

from __future__ import annotations

from posrefund.entrypoints.cli.common import keys_app


@keys_app.command("generate")
def keys_generate() -> None:
    """Print fresh POSREFUND_SECRET_KEY, POSREFUND_PII_KEY and POSREFUND_AUDIT_KEY lines for an env file."""
    import secrets

    from posrefund.adapters.crypto import generate_key_spec

    print(f"POSREFUND_SECRET_KEY={secrets.token_urlsafe(48)}")  # noqa: T201
    print(f"POSREFUND_PII_KEY={generate_key_spec('k1')}")  # noqa: T201
    print(f"POSREFUND_AUDIT_KEY={generate_key_spec('a1')}")  # noqa: T201
