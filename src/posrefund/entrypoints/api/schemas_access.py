"""Bodies of the account routes: refresh, one's own password, an admin's change to a user."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from posrefund.entrypoints.api.schemas import Body


class RefreshIn(Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class OwnPasswordIn(Body):
    old_password: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Annotated[str, Field(min_length=1, max_length=256)]


class RoleIn(Body):
    role: Annotated[str, Field(min_length=1, max_length=32)]


class TemporaryPasswordIn(Body):
    """The password the user signs in with once, and must then change."""

    temporary_password: Annotated[str, Field(min_length=1, max_length=256)]
