"""Bodies of the account routes: refresh, one's own password, an admin's change to a user."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from posrefund.entrypoints.api.schemas import Body


class RefreshIn(Body):
    """Any credential up to 2,000 characters reaches the refresh check, so the wrong kind of token (an access
    token, a terminal key) is refused as a credential (401 ``auth.refresh_invalid``), not as malformed input;
    the service still reads no refresh token longer than 200."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=2000)]


class OwnPasswordIn(Body):
    old_password: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Annotated[str, Field(min_length=1, max_length=256)]


class RoleIn(Body):
    role: Annotated[str, Field(min_length=1, max_length=32)]


class TemporaryPasswordIn(Body):
    """The password the user signs in with once, and must then change."""

    temporary_password: Annotated[str, Field(min_length=1, max_length=256)]
