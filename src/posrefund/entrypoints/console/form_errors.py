"""How a refused form is told: each domain error becomes a message beside its field, or above the form.

Every console page reads a form, asks the service, and on a domain error shows the same page again with
the message where the operator looks. ``Errors.catch`` is that one place: it catches the domain error,
lets through the ones that are a page of their own (a missing case is 404, a forbidden action 403, left
to ``ConsoleRoute``) and places the rest, so a page only says which code belongs beside which field.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from posrefund.domain.errors import DomainError
from posrefund.entrypoints.wording import message

# A missing case or a forbidden action is a page of its own (404 / 403), never an error beside a field.
NOT_MINE = ("refund.not_found", "auth.forbidden")
# Which field an error code is about: a fixed table, or a function of the error (None: the field the
# error names itself, if any).
FieldOf = Mapping[str, str] | Callable[[DomainError], str | None]


@dataclass
class Caught:
    """The domain error a ``catch`` block placed (None when the block ran through)."""

    error: DomainError | None = None


@dataclass
class Errors:
    """Messages beside their fields (``field`` → message), plus those that belong to the whole form."""

    lang: str
    fields: dict[str, str] = field(default_factory=dict)
    form: list[str] = field(default_factory=list)

    def text(self, err: DomainError) -> str:
        """The error in the operator's language."""
        return message(err.code, self.lang, err.params)

    def add(self, err: DomainError, field_of: FieldOf | None = None) -> None:
        """Beside its field (the first message of a field wins), else above the form."""
        named = field_of(err) if callable(field_of) else (field_of or {}).get(err.code)
        name = named or str(err.params.get("field", "") or "")
        if name and name not in self.fields:
            self.fields[name] = self.text(err)
        else:
            self.form.append(self.text(err))

    def put(self, name: str, err: DomainError) -> None:
        """A message beside ``name``, replacing what was there: a check the page itself makes."""
        self.fields[name] = self.text(err)

    def note(self, err: DomainError) -> None:
        """Above the form: for a value that has no field of its own on the page (a page number in a link)."""
        self.form.append(self.text(err))

    @contextmanager
    def catch(
        self,
        field_of: FieldOf | None = None,
        *,
        passing: Collection[str] = (),
        passing_kinds: tuple[type[DomainError], ...] = (),
        only: Collection[str] | None = None,
        place: Callable[[DomainError], None] | None = None,
    ) -> Iterator[Caught]:
        """Run the block; a domain error in it is placed on this form instead of ending the request.

        ``passing`` codes and ``passing_kinds`` classes, and any code outside ``only`` when it is given,
        go on to ``ConsoleRoute`` as an error page. ``place`` replaces the usual ``add`` where a page
        places messages its own way (the refund policy's rules box)."""
        caught = Caught()
        try:
            yield caught
        except DomainError as err:
            if err.code in passing or isinstance(err, passing_kinds) or (only is not None and err.code not in only):
                raise
            caught.error = err
            if place is not None:
                place(err)
            else:
                self.add(err, field_of)

    def __bool__(self) -> bool:
        return bool(self.fields or self.form)
