"""The channels file as operators write it: a section that only tunes the worker, a WeChat section missing a key,
a card section with a bad key — each read by bootstrap.build_router, which starts or says in one line what is
wrong (a ConfigError naming the key), never a KeyError traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from posrefund import bootstrap
from posrefund.adapters.channels.wechatpay.client import WeChatPayChannel
from posrefund.config import ConfigError, Settings
from posrefund.entrypoints.worker.refresh import rules_from
from posrefund.service.deps import Deps
from posrefund.service.execution import Router
from posrefund.service.routing import DEFAULT_RULES, RULE_KEYS
from posrefund.simulators.wechatpay.server import WeChatPayKeys


def router_for(tmp_path: Path, settings: Settings, deps: Deps, text: str) -> Router:
    path = tmp_path / "channels.toml"
    path.write_text(text, encoding="utf-8")
    return bootstrap.build_router(settings.model_copy(update={"channels_file": path}), deps)


def wechat_section(tmp_path: Path, drop: str = "", mode: str = "direct") -> str:
    creds = WeChatPayKeys.generate()
    (tmp_path / "merchant.pem").write_text(creds.merchant_private_key_pem)
    (tmp_path / "platform.pem").write_text(creds.platform_public_key_pem)
    lines = {
        "mode": f'mode = "{mode}"',
        "mchid": f'mchid = "{creds.mchid}"',
        "sp_mchid": f'sp_mchid = "{creds.mchid}"',
        "merchant_serial_no": f'merchant_serial_no = "{creds.merchant_serial_no}"',
        "merchant_private_key": 'merchant_private_key_file = "merchant.pem"',
        "platform_public_key": 'platform_public_key_file = "platform.pem"',
        "platform_public_key_id": f'platform_public_key_id = "{creds.platform_public_key_id}"',
        "apiv3_key": f'apiv3_key = "{creds.apiv3_key}"',
        "base_url": 'base_url = "http://127.0.0.1:9"',
    }
    return "[wechat]\n" + "\n".join(line for key, line in lines.items() if key != drop) + "\n"


def test_a_section_of_limits_only_tunes_the_worker_and_builds_no_adapter(
    tmp_path: Path, settings: Settings, deps: Deps
) -> None:
    text = "[wechat]\nmax_in_flight = 4\ncalls_per_second = 20\n\n[card]\nmax_in_flight = 1\n"
    router = router_for(tmp_path, settings, deps, text)
    assert set(router.channels) == set()
    rules = rules_from({"wechat": {"max_in_flight": 4, "calls_per_second": 20}}, router.rules)
    assert (rules["wechat"].max_in_flight, rules["wechat"].max_calls_per_second) == (4, 20)


def test_a_complete_wechat_section_builds_the_adapter_and_its_verifier(
    tmp_path: Path, settings: Settings, deps: Deps
) -> None:
    router = router_for(tmp_path, settings, deps, wechat_section(tmp_path) + "max_in_flight = 4\n")
    assert isinstance(router.channels["wechat"], WeChatPayChannel)
    assert "wechat" in router.verifiers


@pytest.mark.parametrize(
    ("drop", "mode", "message"),
    [
        ("mchid", "direct", "[wechat] mchid is required"),
        ("sp_mchid", "service_provider", "[wechat] sp_mchid is required"),
        ("apiv3_key", "direct", "[wechat] apiv3_key is required (inline, apiv3_key_file or apiv3_key_env)"),
        ("merchant_serial_no", "direct", "[wechat] merchant_serial_no is required"),
        ("", "partner", "[wechat] mode must be one of direct, service_provider, not 'partner'"),
    ],
)
def test_a_wechat_section_missing_a_key_stops_start_up_naming_it(
    tmp_path: Path, settings: Settings, deps: Deps, drop: str, mode: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        router_for(tmp_path, settings, deps, wechat_section(tmp_path, drop, mode))
    assert str(caught.value) == message


def test_a_secret_named_by_an_unset_environment_variable_says_which(
    tmp_path: Path, settings: Settings, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSREFUND_TEST_NO_SUCH_KEY", raising=False)
    text = wechat_section(tmp_path, "apiv3_key") + 'apiv3_key_env = "POSREFUND_TEST_NO_SUCH_KEY"\n'
    with pytest.raises(ConfigError) as caught:
        router_for(tmp_path, settings, deps, text)
    assert str(caught.value) == "[wechat] apiv3_key: the environment variable POSREFUND_TEST_NO_SUCH_KEY is not set"


def test_a_card_section_with_a_bad_key_is_a_config_error(tmp_path: Path, settings: Settings, deps: Deps) -> None:
    text = '[card]\nhost = "127.0.0.1"\nport = 9\ntmk_hex = "00"\n'
    with pytest.raises(ConfigError, match=r"\[card\] tmk_hex must come from tmk_hex_file or tmk_hex_env"):
        router_for(tmp_path, settings, deps, text)


def test_every_limit_key_is_read_by_the_worker() -> None:
    section = {key: [1] if key == "ask_again_after_seconds" else 1 for key in RULE_KEYS}
    rules = rules_from({"wechat": section}, DEFAULT_RULES)["wechat"]
    assert rules != DEFAULT_RULES["wechat"]
    for key in RULE_KEYS:
        alone = rules_from({"wechat": {key: section[key]}}, DEFAULT_RULES)["wechat"]
        assert alone != DEFAULT_RULES["wechat"], key  # each key changes something
