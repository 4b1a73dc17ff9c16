"""The ``[card]`` section of the channels file (docs/channels.example.toml) as a terminal adapter.

The terminal master key comes from ``tmk_hex_file`` or ``tmk_hex_env`` (never inline, never logged); a key that is
not 32 hex digits is a configuration error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.adapters.channels.acquirer.holds import CardHoldChannel
from posrefund.adapters.channels.acquirer.messages import Terminal
from posrefund.adapters.channels.acquirer.transport import Link
from posrefund.ports.terminal import TerminalJournal

Secret = Callable[[dict[str, Any], str], str]


class CardSettingsError(ValueError):
    """The ``[card]`` section is incomplete or malformed; the message names the key, never a secret's value."""


def _address(section: dict[str, Any], key: str, default: str) -> bytes:
    value = str(section.get(key, default))
    if len(value) != 4 or not all(c in "0123456789abcdefABCDEF" for c in value):
        raise CardSettingsError(f"[card] {key} is 4 hex digits (2 bytes), e.g. {default!r}")
    return bytes.fromhex(value)


def card_from(section: dict[str, Any], secret: Secret, journal: TerminalJournal) -> CardAcquirerChannel:
    """The adapter for one acquirer terminal; ``secret(section, "tmk_hex")`` reads the ``_file`` / ``_env`` key."""
    if "tmk_hex" in section:
        raise CardSettingsError("[card] tmk_hex must come from tmk_hex_file or tmk_hex_env, never inline")
    try:
        tmk = bytes.fromhex(secret(section, "tmk_hex").strip())
    except (KeyError, ValueError, OSError):
        raise CardSettingsError("[card] tmk_hex_file / tmk_hex_env must give 32 hex digits") from None
    if len(tmk) != 16:
        raise CardSettingsError("[card] the terminal master key is 32 hex digits (16 bytes)")
    try:
        link = Link(
            str(section["host"]),
            int(section["port"]),
            destination=_address(section, "tpdu_destination", "0006"),
            source=_address(section, "tpdu_source", "0000"),
            timeout=float(section.get("timeout", 30)),
        )
        terminal = Terminal(str(section["terminal_id"]), str(section["merchant_id"]))
        return CardAcquirerChannel(
            link,
            tmk,
            terminal,
            journal,
            resends=int(section.get("resends", 3)),
            reversal_tries=int(section.get("reversal_tries", 3)),
        )
    except KeyError as exc:
        raise CardSettingsError(f"[card] {exc.args[0]} is required") from None


def card_holds_from(section: dict[str, Any], card: CardAcquirerChannel) -> CardHoldChannel:
    """The terminal's pre-authorisation operations; ``completion_by_notice = true`` when the acquirer wants the
    预授权完成 as a notification (0220) rather than a request (0200)."""
    by_notice = section.get("completion_by_notice", False)
    if not isinstance(by_notice, bool):
        raise CardSettingsError("[card] completion_by_notice is true or false")
    return CardHoldChannel(card, completion_by_notice=by_notice)
