"""Probes of the card terminal: forged or tampered acquirer answers never turn into money having moved, and the
terminal master key and the working keys never reach a log line or a repr."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from posrefund.adapters.channels.acquirer.client import CardAcquirerChannel
from posrefund.adapters.channels.acquirer.journal import SqlTerminalJournal
from posrefund.adapters.channels.acquirer.messages import Terminal
from posrefund.adapters.channels.acquirer.transport import Link
from posrefund.domain.channel import Method, Outcome
from tests.contract.test_cup_terminal import TMK, order
from tests.support.cup_host import FakeHost


@pytest.fixture
def host() -> Iterator[FakeHost]:
    with FakeHost(TMK) as h:
        yield h


def _card(host: FakeHost) -> CardAcquirerChannel:
    link = Link(*host.address, destination=b"\x00\x06", source=b"\x00\x00", timeout=0.4)
    return CardAcquirerChannel(
        link, TMK, Terminal("T0000001", "898310048990001"), SqlTerminalJournal.in_temporary_file()
    )


def test_unmacd_approval_asking_for_sign_on_is_not_a_success(host: FakeHost) -> None:
    host.state.faults["0220"] = ["forge"] * 4
    answer = _card(host).submit(order(Method.REFUND, 100))
    assert answer.outcome is Outcome.UNRESOLVED
    assert answer.channel_refund_id == ""


def test_approval_with_a_wrong_mac_is_not_a_success(host: FakeHost) -> None:
    host.state.faults["0220"] = ["bad_mac"] * 4
    answer = _card(host).submit(order(Method.REFUND, 100))
    assert answer.outcome is Outcome.UNRESOLVED


def test_keys_under_another_master_key_are_refused(host: FakeHost) -> None:
    host.state.tmk = bytes(16)  # the host holds another terminal's master key
    answer = _card(host).submit(order(Method.VOID))
    assert (answer.outcome, answer.details) == (Outcome.UNKNOWN, {"sent": "false"})
    assert [m["mti"] for m in host.state.received] == ["0800"]


def test_master_and_working_keys_never_logged(host: FakeHost, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    host.state.faults["0200"] = ["drop"]
    card = _card(host)
    card.submit(order(Method.VOID))
    host.state.bad_check_value = True
    with pytest.raises(Exception, match="check value"):
        card.sign_on()
    text = caplog.text.upper() + repr(card).upper()
    for secret in (TMK, host.state.mak, host.state.pik):
        assert secret.hex().upper() not in text
    assert "check value" in caplog.text.lower()
