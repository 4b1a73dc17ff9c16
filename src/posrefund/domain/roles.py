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
    PROVIDER_OPERATIONS = "provider_operations"  # the provider's devices and device returns (退机)
    PROVIDER_FINANCE = "provider_finance"  # the provider's fees and refunds to its merchants
    PROVIDER_RISK = "provider_risk"
    PROVIDER_SERVICE = "provider_service"  # the provider's customer service, on a merchant's behalf
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
    "refund.abnormal_refund": frozenset({R.SUPERVISOR, R.ADMIN}),
    "refund.confirm_payout": frozenset({R.CASHIER, R.SUPERVISOR, R.ADMIN, R.FINANCE}),
    "calendar.manage": frozenset({R.PROVIDER_ADMIN}),
    "audit.verify": frozenset({R.AUDITOR, R.ADMIN}),
    # --- notify: notifications, tracking page, follow-up, contact log, disputes ---
    "notify.read": MERCHANT_STAFF,
    "notify.configure": frozenset({R.ADMIN}),
    "merchant.contact": frozenset({R.ADMIN, R.PROVIDER_ADMIN}),  # where the merchant itself hears (its own mobile)
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
        "account.own": MERCHANT_STAFF
        | {R.PROVIDER_ADMIN, R.PROVIDER_OPERATIONS, R.PROVIDER_FINANCE}
        | {R.PROVIDER_RISK, R.PROVIDER_SERVICE},
    }
)

# ---- the printed refund slip carries the tracking page's QR code: the counter's roles print it (audited) ----
PERMISSIONS["refund.slip"] = frozenset({R.CASHIER, R.SUPERVISOR, R.CUSTOMER_SERVICE, R.ADMIN})
# ---- the audit browser: the merchant's whole trail, filtered and paged, for those who audit it ----
PERMISSIONS["audit.browse"] = frozenset({R.AUDITOR, R.ADMIN})
# ---- the demo's SMS inbox (``serve --with-simulators``): the customers' texts, for those who talk to them ----
PERMISSIONS["notify.demo_inbox"] = frozenset({R.CUSTOMER_SERVICE, R.SUPERVISOR, R.ADMIN})

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
    R.PROVIDER_OPERATIONS: 45,
    R.PROVIDER_FINANCE: 45,
    R.PROVIDER_RISK: 45,
    R.PROVIDER_SERVICE: 45,
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


# ---- deposits (定金, 订金, 押金): cashiers record them and ask what goes back; supervisors and managers decide
# (accept a proposal, override its amount); the penalty transfer of a double return is confirmed paid by
# finance or a supervisor other than who accepted it; the housekeeping flags deposits held beyond their terms.
PERMISSIONS.update(
    {
        "deposit.terms": frozenset({R.SUPERVISOR, R.ADMIN}),
        "deposit.read": MERCHANT_STAFF,
        "deposit.record": frozenset({R.CASHIER, R.SUPERVISOR, R.ADMIN}),
        "deposit.propose": frozenset({R.CASHIER, R.SUPERVISOR, R.CUSTOMER_SERVICE, R.ADMIN}),
        "deposit.decide": REVIEWERS,
        "deposit.confirm_payout": frozenset({R.SUPERVISOR, R.ADMIN, R.FINANCE}),
        "deposit.overdue": frozenset({R.SUPERVISOR, R.ADMIN, R.SYSTEM}),
    }
)

# ---- printable documents: the refund application to the bank (退费申请) is prepared and followed by the
# merchant's managers and finance; every member of staff may read it on the case.
PERMISSIONS.update(
    {
        "bank_application.read": MERCHANT_STAFF,
        "bank_application.manage": frozenset({R.SUPERVISOR, R.FINANCE, R.ADMIN}),
        "summary.subscribe": frozenset({R.SUPERVISOR, R.FINANCE, R.RISK, R.AUDITOR, R.ADMIN}),
    }
)

# ---- fee contracts, the fee-refund check and one-off charges: finance's, and the provider's administrator and
# finance staff for the merchants of its provider; auditors read. Who opens a payout never approves it
# (domain/fee_charges.py).
_FEE_DESK = frozenset({R.FINANCE, R.ADMIN, R.PROVIDER_ADMIN, R.PROVIDER_FINANCE})
PERMISSIONS.update(
    {
        "fees.read": _FEE_DESK | {R.AUDITOR},
        "fees.contract": _FEE_DESK,
        "fees.check": _FEE_DESK,
        "fees.approve": _FEE_DESK,
        "fees.pay": _FEE_DESK,
        "fees.charge": frozenset({R.PROVIDER_ADMIN, R.ADMIN}),
        "fees.charge_refund": _FEE_DESK,
    }
)

# ---- the provider's desk: its own staff above its merchants (terminals, device returns 退机). A provider's
# staff never act as a merchant's cashier: they read their merchants' refunds masked and act on none of them.
PROVIDER_DESK = frozenset(
    {R.PROVIDER_ADMIN, R.PROVIDER_OPERATIONS, R.PROVIDER_FINANCE, R.PROVIDER_RISK, R.PROVIDER_SERVICE}
)
PERMISSIONS.update(
    {
        "provider.setup": frozenset({R.PROVIDER_ADMIN}),
        "provider.merchants.read": PROVIDER_DESK,
        "provider.terminal.manage": frozenset({R.PROVIDER_ADMIN, R.PROVIDER_OPERATIONS}),
        "provider.terminal.read": PROVIDER_DESK | {R.ADMIN, R.SUPERVISOR, R.FINANCE},
        "device_return.open": frozenset({R.PROVIDER_ADMIN, R.PROVIDER_OPERATIONS, R.PROVIDER_SERVICE, R.ADMIN})
        | {R.SUPERVISOR},
        "device_return.read": PROVIDER_DESK | {R.ADMIN, R.SUPERVISOR, R.FINANCE, R.AUDITOR},
        "device_return.handle": frozenset({R.PROVIDER_ADMIN, R.PROVIDER_OPERATIONS}),  # shipping, receipt
        "device_return.decide": frozenset({R.PROVIDER_ADMIN, R.PROVIDER_OPERATIONS, R.PROVIDER_FINANCE}),
        "provider.refunds.read": frozenset({R.PROVIDER_ADMIN, R.PROVIDER_FINANCE, R.PROVIDER_RISK, R.PROVIDER_SERVICE}),
        "provider.dashboard": frozenset({R.PROVIDER_ADMIN, R.PROVIDER_OPERATIONS, R.PROVIDER_FINANCE, R.PROVIDER_RISK}),
    }
)

# ---- the reconciliation desk: finance describes its acquirers' layouts; cashiers count their till at the end of
# a shift, a supervisor signs the shift off (never the cashier who counted it), the administrator sets the tolerance.
PERMISSIONS.update(
    {
        "recon.mapping": frozenset({R.FINANCE, R.ADMIN}),
        "till.count": frozenset({R.CASHIER, R.SUPERVISOR, R.ADMIN}),
        "till.read": frozenset({R.CASHIER, R.SUPERVISOR, R.FINANCE, R.RISK, R.AUDITOR, R.ADMIN}),
        "till.sign_off": frozenset({R.SUPERVISOR, R.ADMIN}),
        "till.configure": frozenset({R.ADMIN}),
    }
)
# ---- a refund held by a high risk alert is released or stopped by a second person: the risk officer or a
# supervisor or administrator who is neither its requester nor one of its approvers (checked by the use case).
PERMISSIONS["refund.release_hold"] = frozenset({R.RISK, R.SUPERVISOR, R.ADMIN})
# ---- card pre-authorisations (预授权): the front desk records and completes or releases them; cancelling a
# completion (same day only) is a supervisor's.
PERMISSIONS["hold.read"] = frozenset({R.CASHIER, R.SUPERVISOR, R.FINANCE, R.AUDITOR, R.ADMIN, R.TERMINAL})
PERMISSIONS["hold.record"] = frozenset({R.CASHIER, R.SUPERVISOR, R.ADMIN, R.TERMINAL})
PERMISSIONS["hold.complete"] = frozenset({R.CASHIER, R.SUPERVISOR, R.ADMIN})
PERMISSIONS["hold.release"] = frozenset({R.CASHIER, R.SUPERVISOR, R.ADMIN})
PERMISSIONS["hold.cancel_completion"] = frozenset({R.SUPERVISOR, R.ADMIN})
PERMISSIONS["hold.expire"] = frozenset({R.SYSTEM})
PERMISSIONS["hold.retry"] = frozenset({R.SUPERVISOR, R.ADMIN})
