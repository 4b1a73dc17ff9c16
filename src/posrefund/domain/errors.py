"""Errors the business can raise, each with a stable dotted code.

The code is the contract with callers (API clients match on it); the human
message lives in ``posrefund.i18n`` so the domain never formats text. The
class only says which kind of answer the edge should give::

    DomainError
    ├── Invalid        the request breaks a rule; nothing changed      → 422
    ├── Unauthorized   who is asking is unknown                         → 401
    ├── Forbidden      who is asking may not do this                    → 403
    ├── NotFound       no such object for this merchant                 → 404
    └── Conflict       the object is not in a state that allows it      → 409
        └── IllegalTransition   its table of transitions has no such move
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

_State = TypeVar("_State", bound=StrEnum)


class DomainError(Exception):
    """A refused request: a stable ``code`` plus the ``params`` that explain it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params: dict[str, Any] = params


class Invalid(DomainError):
    """The input or a policy rule refuses the request."""


class Unauthorized(DomainError):
    """Credentials are missing, wrong or expired."""


class Forbidden(DomainError):
    """The actor's role or identity does not allow the action."""


class NotFound(DomainError):
    """The object does not exist for this merchant (other merchants' objects look the same)."""


class Conflict(DomainError):
    """The object's state or version does not allow the action now."""


class IllegalTransition(Conflict):
    """An aggregate was asked for a move its one table of transitions does not have; nothing changed.

    ``current`` and ``target`` name the move for code that reasons about it. The ``code`` and ``params``
    are what the caller is told: the refund answers ``state.invalid_transition`` with both states, while a
    dispute or a wrong charge keeps the words its callers already match on (``dispute.closed``,
    ``recon.correction_started``) — the API does not change when the rule moves into the domain.
    """

    def __init__(self, code: str, current: str, target: str, **params: Any) -> None:
        super().__init__(code, **(params or {"current": current, "target": target}))
        self.current = current
        self.target = target


def check_step(
    transitions: Mapping[_State, frozenset[_State]], current: _State, target: _State, code: str, **params: Any
) -> None:
    """Refuse a move the aggregate's table of transitions does not have, in the words its callers match on."""
    if target not in transitions[current]:
        raise IllegalTransition(code, current.value, target.value, **params)
