"""Use cases: open a unit of work, call the domain, commit; events go to the audit trail and outbox."""
