"""``posrefund``: the operator CLI (typer + rich). Commands that create something print JSON with ``--json``.

This module only assembles the app: importing an area module registers its commands on the app of
``common``. ``posrefund --help`` lists the top-level commands in the order they were imported here, then the
groups in the order ``common`` adds them.
"""

from __future__ import annotations

# serve, worker and simulate head the help, before reconcile and the groups: serve is imported first.
from posrefund.entrypoints.cli import serve

# isort: split
from posrefund.entrypoints.cli import (
    abnormal_refunds,
    audit,
    auth,
    card,
    db,
    demo,
    deposits,
    documents,
    fees,
    holds,
    keys,
    merchants,
    pii,
    policy,
    provider,
    reconciliation,
    refund_imports,
    refunds,
    reports,
    risk,
    sales,
    till,
    users,
)
from posrefund.entrypoints.cli.common import app

# The area modules, imported for the commands they register.
AREAS = (
    serve,
    reconciliation,
    db,
    merchants,
    users,
    policy,
    sales,
    refunds,
    refund_imports,
    abnormal_refunds,
    audit,
    keys,
    auth,
    pii,
    demo,
    card,
    risk,
    reports,
    deposits,
    documents,
    fees,
    provider,
    till,
    holds,
)
__all__ = ["AREAS", "app", "main"]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
