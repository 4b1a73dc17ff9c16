"""Alipay configured the way a merchant configures it: an ``[alipay]`` section in the channels file (keys in
files beside it or in the environment; public-key mode and certificate mode), read by bootstrap.build_router, then
refunds through the real worker step (execution.advance) against the Alipay simulator over real sockets."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from posrefund import bootstrap
from posrefund.adapters.channels.alipay.certs import root_cert_sn
from posrefund.adapters.channels.alipay.settings import alipay_from
from posrefund.config import ConfigError, Settings
from posrefund.domain.refund import RefundStatus
from posrefund.service import execution, refunds
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.refunds import RefundRequest
from posrefund.simulators.alipay.server import AlipayKeys, AlipaySimulator
from tests.conftest import FixedClock, World
from tests.support.helpers import new_sale

MODES = ["public_key", "certificate"]
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "channels.example.toml"


@dataclass
class Configured:
    sim: AlipaySimulator
    router: Router
    path: Path


def write_channels_file(directory: Path, sim: AlipaySimulator, mode: str, extra: str = "") -> Path:
    """The channels file and its key files, as an operator would lay them out."""
    creds = sim.keys.credentials()
    keys = directory / "keys"
    keys.mkdir(exist_ok=True)
    names = ["app_private_key"] + (
        ["alipay_public_key"] if mode == "public_key" else ["app_cert", "alipay_cert", "alipay_root_cert"]
    )
    lines = ["[alipay]", f'app_id = "{sim.app_id}"', f'gateway_url = "{sim.gateway_url}"', "timeout = 2"]
    for name in names:
        (keys / f"{name}.pem").write_text(creds[name])
        lines.append(f'{name}_file = "keys/{name}.pem"')
    path = directory / "channels.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def start(tmp_path: Path, settings: Settings, deps: Deps, mode: str) -> Iterator[Configured]:
    keys = AlipayKeys.generate(certificate_mode=mode == "certificate")
    with AlipaySimulator(keys=keys, min_gap_same_trade=0, max_clock_skew=None) as sim:
        path = write_channels_file(tmp_path, sim, mode)
        router = bootstrap.build_router(settings.model_copy(update={"channels_file": path}), deps)
        yield Configured(sim, router, path)


@pytest.fixture(params=MODES)
def alipay(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings, deps: Deps) -> Iterator[Configured]:
    yield from start(tmp_path, settings, deps, request.param)


def alipay_case(deps: Deps, world: World, sim: AlipaySimulator, amount: int = 2_500) -> str:
    sale = new_sale(deps, world.a, channel="alipay", payer_masked="159****5620")
    sim.add_payment(sale.order_no, sale.amount_fen, paid_at=sale.paid_at)
    case = refunds.request_refund(deps, world.a.actors["cashier"], RefundRequest(sale.id, amount, "other"))
    return case.id


def status_of(deps: Deps, world: World, case_id: str) -> RefundStatus:
    return refunds.get_case(deps, world.a.actors["auditor"], case_id).case.status


def test_a_refund_succeeds_with_alipay_configured_from_the_channels_file(
    alipay: Configured, deps: Deps, world: World
) -> None:
    case_id = alipay_case(deps, world, alipay.sim)
    after = execution.advance(deps, alipay.router, world.a.id, case_id)
    assert after is not None and after.status is RefundStatus.SUCCEEDED
    [row] = alipay.sim.ledger()
    assert (row["amount_fen"], row["executed"], row["requests"]) == (2_500, True, 1)
    assert "alipay" in alipay.router.verifiers


def test_a_query_without_refund_status_sends_the_same_number_again(
    alipay: Configured, deps: Deps, world: World, clock: FixedClock
) -> None:
    """Alipay took the refund (fund_change=N) and its query then shows no refund_status ("not received or
    failed"): the refund is sent again with the same out_request_no and amount, never sent to a person."""
    case_id = alipay_case(deps, world, alipay.sim)
    refund_no = refunds.get_case(deps, world.a.actors["auditor"], case_id).case.refund_no
    alipay.sim.set_fault(refund_no, "processing_then_success", times=1)
    first = execution.advance(deps, alipay.router, world.a.id, case_id)
    assert first is not None and first.status is RefundStatus.PROCESSING
    clock.advance(hours=1)
    second = execution.advance(deps, alipay.router, world.a.id, case_id)
    assert second is not None and second.status is RefundStatus.PROCESSING
    clock.advance(hours=1)
    third = execution.advance(deps, alipay.router, world.a.id, case_id)
    assert third is not None and third.status is RefundStatus.SUCCEEDED
    [row] = alipay.sim.ledger()
    assert (row["refund_no"], row["amount_fen"], row["requests"]) == (refund_no, 2_500, 2)


def test_a_refund_alipay_never_received_is_sent_again_with_the_same_number(
    alipay: Configured, deps: Deps, world: World, clock: FixedClock
) -> None:
    """The first request died at Alipay's front (HTTP 500, nothing done): the worker's query finds no
    refund_status and the same number goes again; one refund, two requests."""
    case_id = alipay_case(deps, world, alipay.sim)
    refund_no = refunds.get_case(deps, world.a.actors["auditor"], case_id).case.refund_no
    alipay.sim.set_fault(refund_no, "http_500")
    first = execution.advance(deps, alipay.router, world.a.id, case_id)
    assert first is not None and first.status is RefundStatus.PROCESSING
    assert alipay.sim.ledger() == []
    clock.advance(hours=1)
    second = execution.advance(deps, alipay.router, world.a.id, case_id)
    assert second is not None and second.status is RefundStatus.SUCCEEDED
    [row] = alipay.sim.ledger()
    assert (row["refund_no"], row["executed"], row["requests"]) == (refund_no, True, 2)


def test_the_root_sn_covers_only_the_rsa_certificates_of_the_chain() -> None:
    keys = AlipayKeys.generate(certificate_mode=True)
    assert keys.certificates is not None
    files = keys.certificates.files()
    sn = root_cert_sn(files["alipay_root_cert"])
    assert sn == keys.certificates.alipay_root_cert_sn
    assert len(sn) == 32  # the chain's second root is an EC certificate: left out


@pytest.mark.parametrize(
    "mode,drop,add,message",
    [
        ("public_key", "alipay_public_key_file", 'alipay_public_key_file = "keys/missing.pem"', "cannot read the file"),
        ("public_key", "app_private_key_file", 'app_private_key_file = "keys/alipay_public_key.pem"', "not a readable"),
        ("public_key", "app_private_key_file", 'app_private_key_env = "POSREFUND_TEST_NOT_SET"', "NOT_SET is not set"),
        ("public_key", "app_id", 'app_id = "my-app"', "app_id (the digits of the Alipay app"),
        ("public_key", "gateway_url", 'gateway_url = "http://openapi.alipay.com/gateway.do"', "must be an https URL"),
        ("certificate", "alipay_cert_file", 'alipay_cert_file = "keys/app_private_key.pem"', "not a PEM certificate"),
        ("certificate", "alipay_root_cert_file", 'alipay_root_cert_file = "keys/app_cert.pem"', "not issued by the"),
        ("certificate", "alipay_root_cert_file", 'seller_id = "2088101106499364"', "missing: alipay_root_cert"),
        ("certificate", "-", 'alipay_public_key_file = "keys/app_cert.pem"', "OR the certificates"),
    ],
)
def test_a_wrong_alipay_section_stops_start_up_with_a_config_error(
    tmp_path: Path, settings: Settings, deps: Deps, mode: str, drop: str, add: str, message: str
) -> None:
    keys = AlipayKeys.generate(certificate_mode=mode == "certificate")
    with AlipaySimulator(keys=keys) as sim:
        path = write_channels_file(tmp_path, sim, mode)
    lines = [line for line in path.read_text().splitlines() if not line.startswith(drop + " ")]
    path.write_text("\n".join([*lines, add]) + "\n")
    with pytest.raises(ConfigError) as err:
        bootstrap.build_router(settings.model_copy(update={"channels_file": path}), deps)
    assert message in str(err.value)


def test_the_documented_example_section_configures_alipay(tmp_path: Path) -> None:
    """docs/channels.example.toml's [alipay] as written (its key files filled with real keys) is accepted."""
    section = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["alipay"]
    keys = AlipayKeys.generate(app_id=section["app_id"])
    for key, pem in (("app_private_key", keys.app_private_key_pem), ("alipay_public_key", keys.alipay_public_key_pem)):
        target = tmp_path / section[f"{key}_file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(pem)

    def secret(s: dict[str, Any], key: str) -> str:
        return (tmp_path / s[f"{key}_file"]).read_text(encoding="utf-8")

    channel, verifier = alipay_from(section, secret)
    assert (channel.name, type(verifier).__name__) == ("alipay", "AlipayCallbackVerifier")
