"""Who may do what: one table of roles per action, checked by every use case."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from posrefund.domain.errors import Forbidden


class Role(StrEnum):
    CASHIER = "cashier"
    SUPERVISOR = "supervisor"
    CUSTOMER_SERVICE = "customer_service"
    FINANCE = "finance"
    RISK = "risk"
    AUDITOR = "auditor"
    ADMIN = "admin"
    TERMINAL = "terminal"  # a POS terminal's API key
    PROVIDER_ADMIN = "provider_admin"  # the service provider: creates merchants, sees none of their data
    SYSTEM = "system"  # posrefund itself (auto-approval, worker)
    CUSTOMER = "customer"  # notify: the customer on the tracking page (signed link, no login)


R = Role
MERCHANT_STAFF = frozenset({R.CASHIER, R.SUPERVISOR, R.CUSTOMER_SERVICE, R.FINANCE, R.RISK, R.AUDITOR, R.ADMIN})
REVIEWERS = frozenset({R.SUPERVISOR, R.ADMIN})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "merchant.create": frozenset({R.PROVIDER_ADMIN}),
    "merchant.read": MERCHANT_STAFF,
    "merchant.channel_account": frozenset({R.PROVIDER_ADMIN}),  # a sub-merchant's sub_mchid: whose money moves
    "store.manage": frozenset({R.ADMIN}),
    "terminal.manage": frozenset({R.ADMIN}),
    "user.manage": frozenset({R.ADMIN}),
    "apikey.create": frozenset({R.ADMIN}),
    "policy.read": MERCHANT_STAFF,
    "policy.write": frozenset({R.ADMIN}),
    "sale.create": frozenset({R.CASHIER, R.SUPERVISOR, R.ADMIN, R.TERMINAL}),
    "sale.import": frozenset({R.FINANCE, R.ADMIN}),
    "sale.read": MERCHANT_STAFF | {R.TERMINAL},
    "refund.request": frozenset({R.CASHIER, R.SUPERVISOR, R.CUSTOMER_SERVICE, R.ADMIN, R.TERMINAL}),
    "refund.read": MERCHANT_STAFF | {R.TERMINAL},
    "refund.review": REVIEWERS,
    "refund.cancel": frozenset({R.CASHIER, R.SUPERVISOR, R.CUSTOMER_SERVICE, R.ADMIN, R.TERMINAL}),
    "refund.reveal_pii": frozenset({R.CUSTOMER_SERVICE, R.SUPERVISOR, R.ADMIN}),
    "evidence.upload": frozenset({R.CASHIER, R.SUPERVISOR, R.CUSTOMER_SERVICE, R.ADMIN, R.TERMINAL}),
    "evidence.read": MERCHANT_STAFF | {R.TERMINAL},
    "audit.read": MERCHANT_STAFF | {R.TERMINAL},
    "refund.retry": frozenset({R.SUPERVISOR, R.ADMIN, R.FINANCE}),
    "refund.resolve": frozenset({R.SUPERVISOR, R.ADMIN, R.FINANCE}),
    "refund.reroute": frozenset({R.SUPERVISOR, R.ADMIN}),
    "refund.confirm_payout": frozenset({R.CASHIER, R.SUPERVISOR, R.ADMIN, R.FINANCE}),
    "calendar.manage": frozenset({R.PROVIDER_ADMIN}),
    "audit.verify": frozenset({R.AUDITOR, R.ADMIN}),
    # --- notify: notifications, tracking page, follow-up, contact log, disputes ---
    "notify.read": MERCHANT_STAFF,
    "notify.configure": frozenset({R.ADMIN}),
    "notify.contact": frozenset({R.CASHIER, R.SUPERVISOR, R.CUSTOMER_SERVICE, R.ADMIN}),
    "contact.record": frozenset({R.CASHIER, R.SUPERVISOR, R.CUSTOMER_SERVICE, R.ADMIN}),
    "contact.read": MERCHANT_STAFF,
    "followup.read": frozenset({R.CUSTOMER_SERVICE, R.SUPERVISOR, R.ADMIN}),
    "followup.close": frozenset({R.CUSTOMER_SERVICE, R.SUPERVISOR, R.ADMIN}),
    "dispute.read": MERCHANT_STAFF,
    "dispute.manage": frozenset({R.CUSTOMER_SERVICE, R.SUPERVISOR, R.ADMIN}),
    "dispute.decide": frozenset({R.SUPERVISOR, R.ADMIN}),
    "tracking.confirm": frozenset({R.CUSTOMER}),
    # follow-up notes on a case, and the read-only reports with CSV export
    "case.note": frozenset({R.CUSTOMER_SERVICE, R.SUPERVISOR, R.ADMIN}),
    "report.read": frozenset({R.FINANCE, R.AUDITOR, R.RISK, R.SUPERVISOR, R.ADMIN}),
    # staff hand the customer the tracking link (audited)
    "tracking.link": frozenset({R.CUSTOMER_SERVICE, R.SUPERVISOR, R.ADMIN}),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user, a terminal's key, or posrefund itself; always inside one merchant — or, for a
    provider's administrator, across the merchants of one service provider (``provider_id``)."""

    id: str
    role: Role
    merchant_id: str | None
    name: str = ""
    terminal_id: str | None = None  # set for a terminal's API key: it acts for that terminal only
    provider_id: str = ""  # the service provider a user belongs to; ANY_PROVIDER only for the host's CLI

    def require(self, action: str) -> None:
        if self.role not in PERMISSIONS[action]:
            raise Forbidden("auth.forbidden", action=action, role=self.role.value)


# The host operator at the command line acts for every provider; no signed-in user can carry this value.
ANY_PROVIDER = "*"

SYSTEM_ACTOR = Actor(id="system", role=Role.SYSTEM, merchant_id=None, name="posrefund")


# ---- reconciliation and wrong charges (错收) belong to finance; risk reads and opens cases ----
PERMISSIONS.update(
    {
        "recon.import": frozenset({R.FINANCE, R.ADMIN}),
        "recon.run": frozenset({R.FINANCE, R.ADMIN}),
        "recon.read": frozenset({R.FINANCE, R.RISK, R.ADMIN}),
        "recon.case": frozenset({R.FINANCE, R.RISK, R.ADMIN}),
        "recon.correct": frozenset({R.FINANCE, R.ADMIN}),  # correction refunds, lost-refund recovery
        "recon.fee_rates": frozenset({R.ADMIN}),
    }
)


# ---- finance and risk attach evidence (receipts, messages) to 错收 cases ----
PERMISSIONS["evidence.upload"] = PERMISSIONS["evidence.upload"] | {R.FINANCE, R.RISK}


# ---- who manages whom: the lifecycle of users and keys ----
PERMISSIONS.update(
    {
        "apikey.revoke": frozenset({R.ADMIN}),
        # every signed-in person changes their own password and may sign themselves out everywhere
        "account.own": MERCHANT_STAFF | {R.PROVIDER_ADMIN},
    }
)

# The order of authority: nobody creates or promotes a user above their own rank. Roles of one rank
# (finance, risk, auditor) are peers. Terminals, customers and posrefund itself are never assigned.
RANK: dict[Role, int] = {
    R.CASHIER: 10,
    R.CUSTOMER_SERVICE: 10,
    R.AUDITOR: 20,
    R.RISK: 20,
    R.FINANCE: 20,
    R.SUPERVISOR: 30,
    R.ADMIN: 40,
    R.PROVIDER_ADMIN: 50,
}


def check_rank(actor: Actor, role: Role) -> None:
    """Refuse to give a role above the actor's own (creating a user, changing a role), and to manage
    (deactivate, reset, sign out) a user who ranks above the actor."""
    if RANK.get(role, 0) > RANK.get(actor.role, 0):
        raise Forbidden("user.role_above_own", role=role.value, own=actor.role.value)


def manages_provider(actor: Actor, provider_id: str) -> bool:
    """A provider's administrator reaches only the merchants (and users) of its own provider."""
    return actor.provider_id in (ANY_PROVIDER, provider_id)


# ---- risk warnings on refunds: the risk officer works the alerts and tunes the rules; auditors read them.
# Supervisors are left out on purpose: they approve the refunds the alerts are about.
PERMISSIONS.update(
    {
        "risk.read": frozenset({R.RISK, R.AUDITOR, R.ADMIN}),
        "risk.decide": frozenset({R.RISK, R.ADMIN}),
        "risk.configure": frozenset({R.RISK, R.ADMIN}),
        "risk.scan": frozenset({R.RISK, R.ADMIN, R.SYSTEM}),
    }
)

# ---- a refund held by a high risk alert is released or stopped by a second person: the risk officer or a
# supervisor or administrator who is neither its requester nor one of its approvers (checked by the use case).
PERMISSIONS["refund.release_hold"] = frozenset({R.RISK, R.SUPERVISOR, R.ADMIN})
