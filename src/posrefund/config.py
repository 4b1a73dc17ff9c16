"""Settings from the environment (``POSREFUND_*``); SQLite in the working directory by default."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class RateLimits(BaseModel):
    """How fast anyone may ask (``limits`` notation: "10/minute"; "" switches that limit off). Set from the
    environment as ``POSREFUND_RATE_LIMITS__SIGNIN_PER_IP=5/minute`` and so on. Kept in this process's memory
    unless ``storage`` names a shared store: with several server processes (``serve --workers N``) set
    ``POSREFUND_RATE_LIMITS__STORAGE=redis://host:6379/0`` (one Redis for all of them), or each process
    counts on its own (N times the limit). While that Redis is unreachable each process counts on its own."""

    storage: str = "memory://"
    signin_per_ip: str = "30/minute"
    signin_per_account: str = "20/minute"
    api_per_key: str = "1200/minute"
    api_per_user: str = "600/minute"
    tracking_per_token: str = "30/minute"  # noqa: S105 - a rate, not a secret
    # Progressive delays per source address: this many sign-in attempts since its last success go at once,
    # then each further one waits 1, 2, 4 … seconds (at most ``signin_delay_cap_seconds``).
    signin_free_attempts: int = 5
    signin_delay_cap_seconds: int = 60


class ServerLimits(BaseModel):
    """Connections: how long an idle keep-alive connection or a request's headers may take before the
    server closes it, and how many connections one process holds (beyond that: 503)."""

    keep_alive_seconds: int = 5
    header_timeout_seconds: float = 10.0
    max_connections: int = 1000


class WorkerSettings(BaseModel):
    """The refund worker (``posrefund worker``; env ``POSREFUND_WORKER__THREADS=16`` and so on): how many
    channel calls one process has in flight, how often it asks the refunds table for due cases (an approved
    refund waits about half of this before its first call), and how long SIGTERM waits for calls under way."""

    threads: int = Field(default=16, ge=1, le=256)
    poll_seconds: float = Field(default=0.2, gt=0, le=60)
    batch: int = Field(default=100, ge=1, le=10_000, description="due cases listed per round")
    shutdown_seconds: float = Field(default=20.0, ge=0, le=600)
    # The worker's own /metrics (a separate process from the API's); None: not served. --metrics-port overrides.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = Field(default="127.0.0.1", description="address the worker's metrics listen on")


class EvidenceSettings(BaseModel):
    """Where evidence files are kept (env ``POSREFUND_EVIDENCE__BACKEND=s3`` and so on; docs/operations.md).
    ``local``: under ``POSREFUND_DATA_DIR/evidence`` on this machine, enough for one API node. ``s3``: in a
    bucket of an S3-compatible object store that every node reads, each file sealed with its own data key
    wrapped by ``master_key``. Empty credentials leave them to boto3 (``AWS_*`` variables, instance role)."""

    backend: Literal["local", "s3"] = "local"
    endpoint_url: str = Field(default="", description="e.g. https://minio.internal:9000; empty: AWS S3 itself")
    bucket: str = ""
    region: str = ""
    prefix: str = Field(default="evidence/", max_length=200, description="put before every object's key")
    access_key_id: str = ""
    secret_access_key: SecretStr = SecretStr("")
    master_key: SecretStr = Field(
        default=SecretStr(""), description="kid:base64(32 bytes)[,older keys…]: wraps each file's data key"
    )
    server_side_encryption: Literal["", "AES256", "aws:kms"] = Field(
        default="", description="also ask the store to encrypt at rest (on top of our own envelope)"
    )
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    # A store that hangs holds the request at most about max_attempts × (connect + read timeout), plus a
    # second per upload try (boto3 waits that long for the store's 100-continue): 12 s with these defaults.
    connect_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    read_timeout_seconds: float = Field(default=5.0, gt=0, le=300, description="longest silence while reading")
    max_attempts: int = Field(default=2, ge=1, le=10, description="tries per request, the first included")


class DocumentSettings(BaseModel):
    """Printable documents (env ``POSREFUND_DOCUMENTS__FONT_PATH`` and so on; docs/documents.md): the CJK font
    embedded in every PDF (a TrueType or TTC file with Chinese glyphs; Debian's ``fonts-wqy-microhei`` by
    default), and the business days a bank has to answer a refund application (退费申请)."""

    font_path: Path = Field(default=Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"))
    bank_answer_business_days: int = Field(default=15, ge=1, le=120)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSREFUND_", extra="ignore", env_nested_delimiter="__")

    database_url: str = Field(default="sqlite:///./posrefund.db")
    secret_key: str = Field(default="", description="signs bearer tokens; at least 32 characters")
    pii_key: str = Field(default="", description="kid:base64(32 bytes)[,older keys…] for AES-256-GCM")
    audit_key: str = Field(
        default="", description="kid:base64(32 bytes)[,older keys…] for HMAC-SHA256 audit checkpoints"
    )
    data_dir: Path = Field(default=Path("./data"), description="evidence files live here (local backend)")
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    token_minutes: int = Field(default=30, ge=1, le=30, description="an access token's life (at most 30)")
    refresh_hours: int = Field(default=12, ge=1, le=24 * 7, description="a refresh token's life")
    console_idle_minutes: int = Field(default=15, ge=1, le=8 * 60, description="console sign-out after idling")
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
    metrics_token: str = Field(
        default="", description="bearer token /metrics asks for; empty: /metrics answers this host only, unproxied"
    )
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    server: ServerLimits = Field(default_factory=ServerLimits)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    documents: DocumentSettings = Field(default_factory=DocumentSettings)
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
    if settings.evidence.backend == "s3":
        if not settings.evidence.bucket:
            raise ConfigError("POSREFUND_EVIDENCE__BUCKET is missing (POSREFUND_EVIDENCE__BACKEND is s3)")
        if not settings.evidence.master_key.get_secret_value():
            raise ConfigError(
                "POSREFUND_EVIDENCE__MASTER_KEY is missing (POSREFUND_EVIDENCE__BACKEND is s3): "
                'make one with `echo "e1:$(openssl rand -base64 32)"`'
            )
