"""Settings from the environment (``POSREFUND_*``); SQLite in the working directory by default."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSREFUND_", extra="ignore")

    database_url: str = Field(default="sqlite:///./posrefund.db")
    secret_key: str = Field(default="", description="signs bearer tokens; at least 32 characters")
    pii_key: str = Field(default="", description="kid:base64(32 bytes)[,older keys…] for AES-256-GCM")
    data_dir: Path = Field(default=Path("./data"), description="evidence files live here")
    token_minutes: int = 8 * 60
    timezone: str = "Asia/Shanghai"
    channels_file: Path | None = Field(default=None, description="TOML with each channel's credentials")
    sim_wechat_port: int = 9101
    sim_alipay_port: int = 9102
    sim_acquirer_port: int = 9103
    log_level: str = "INFO"
    log_file: Path | None = None
    behind_https: bool = Field(
        default=False,
        description="served to browsers over HTTPS by a proxy: console cookies always Secure, HSTS on every answer",
    )
    # notify: gateways (SMS / WeChat / SMTP) and the customer's tracking links
    notify_file: Path | None = Field(default=None, description="TOML with the notification gateways")
    public_url: str = Field(default="http://127.0.0.1:8000", description="base of tracking links sent to customers")
    tracking_link_days: int = 60
    notify_message_limit: int = Field(
        default=4096, ge=160, le=65536, description="longest message a notification template may render (characters)"
    )


class ConfigError(RuntimeError):
    pass


def check(settings: Settings) -> None:
    if len(settings.secret_key) < 32:
        raise ConfigError(
            "POSREFUND_SECRET_KEY is missing or shorter than 32 characters; "
            "`posrefund keys generate` prints a fresh set"
        )
    if not settings.pii_key:
        raise ConfigError("POSREFUND_PII_KEY is missing; `posrefund keys generate` prints a fresh set")
