"""The one place that picks adapters: real ones from settings, or whatever a test hands in."""

from __future__ import annotations

import os
import signal
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Engine

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.adapters.channels.acquirer.journal import SqlTerminalJournal
from posrefund.adapters.channels.acquirer.settings import CardSettingsError, card_from, card_holds_from
from posrefund.adapters.channels.alipay.settings import alipay_from, alipay_fund_auth_from
from posrefund.adapters.channels.wechatpay.settings import wechat_from
from posrefund.adapters.crypto import AesGcmCipher, KeyringError, parse_keyring
from posrefund.adapters.db.engine import make_engine
from posrefund.adapters.db.uow import SqlUnitOfWorkFactory
from posrefund.adapters.files import DiskEvidenceStore
from posrefund.adapters.passwords import Argon2Hasher
from posrefund.adapters.pdf import FontMissing, FpdfRenderer
from posrefund.adapters.rate_limit import ChannelRateLimiter
from posrefund.adapters.system import RandomIds, SystemClock
from posrefund.config import ConfigError, Settings, check
from posrefund.domain.audit import Keyring
from posrefund.ports import CallbackVerifier, Clock, EvidenceStore, Ids, Notifier, PasswordHasher, PaymentChannel
from posrefund.ports.fund_holds import FundHoldChannel
from posrefund.service.deps import Deps
from posrefund.service.execution import Router, card_method_rule
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.routing import RULE_KEYS


def local_date_in(tz_name: str) -> Callable[[datetime], date]:
    tz = ZoneInfo(tz_name)

    def local_date(at: datetime) -> date:
        return at.astimezone(tz).date()

    return local_date


def failpoints_from(spec: str) -> Callable[[str], None]:
    """``name=kill:N[,name=kill:N]``: the process kills itself with SIGKILL at the N-th time it passes the
    named place. Only crash tests set POSREFUND_FAILPOINTS; without it every failpoint is a no-op."""
    armed: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, action = part.partition("=")
        kind, _, count = action.partition(":")
        if kind != "kill":
            raise ValueError(f"unknown failpoint action {action!r}")
        armed[name] = int(count or "1")

    def failpoint(name: str) -> None:
        if name in armed:
            armed[name] -= 1
            if armed[name] <= 0:
                os.kill(os.getpid(), signal.SIGKILL)

    return failpoint


def build(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    ids: Ids | None = None,
    hasher: PasswordHasher | None = None,
) -> Deps:
    check(settings)
    engine = engine or make_engine(settings.database_url)
    local_date = local_date_in(settings.timezone)
    return Deps(
        uow=SqlUnitOfWorkFactory(engine, local_date),
        clock=clock or SystemClock(),
        ids=ids or RandomIds(),
        cipher=AesGcmCipher(settings.pii_key),
        hasher=hasher or Argon2Hasher(),
        evidence_store=evidence_store_from(settings),
        local_date=local_date,
        time_zone=settings.timezone,
        secret_key=settings.secret_key,
        audit_keys=audit_keyring(settings.audit_key),
        failpoint=failpoints_from(os.environ.get("POSREFUND_FAILPOINTS", "")),
        message_limit=settings.notify_message_limit,
        pdf=pdf_renderer(settings.documents.font_path),
        bank_answer_days=settings.documents.bank_answer_business_days,
    )


def pdf_renderer(font_path: Path) -> FpdfRenderer | None:
    """PDFs need the CJK font: without it the service still runs, and every document asked for is refused
    with ``document.no_renderer`` (409) while the log says which file is missing and how to install it."""
    renderer = FpdfRenderer(font_path)
    try:
        renderer.check()
    except FontMissing as exc:
        structlog.get_logger("posrefund.documents").warning("documents.font_missing", detail=str(exc))
        return None
    return renderer


def evidence_store_from(settings: Settings) -> EvidenceStore:
    """This machine's folder by default; the shared object store with ``POSREFUND_EVIDENCE__BACKEND=s3``."""
    conf = settings.evidence
    if conf.backend == "local":
        return DiskEvidenceStore(settings.data_dir / "evidence")
    from posrefund.adapters.envelope import Envelope
    from posrefund.adapters.evidence_s3 import S3Connection, S3EvidenceStore, s3_client

    try:
        envelope = Envelope(conf.master_key.get_secret_value())
    except KeyringError as exc:
        raise ConfigError(str(exc)) from None
    client = s3_client(
        S3Connection(
            endpoint_url=conf.endpoint_url,
            region=conf.region,
            access_key_id=conf.access_key_id,
            secret_access_key=conf.secret_access_key.get_secret_value(),
            addressing_style=conf.addressing_style,
            connect_timeout=conf.connect_timeout_seconds,
            read_timeout=conf.read_timeout_seconds,
            max_attempts=conf.max_attempts,
        )
    )
    return S3EvidenceStore(
        client, conf.bucket, envelope, prefix=conf.prefix, server_side_encryption=conf.server_side_encryption
    )


def audit_keyring(spec: str) -> Keyring:
    """The audit checkpoint keys; a malformed spec is a configuration error, an empty one means none."""
    if not spec:
        return ()
    try:
        return tuple(parse_keyring(spec, "POSREFUND_AUDIT_KEY"))
    except KeyringError as exc:
        raise ConfigError(str(exc)) from None


def engine_of(deps: Deps) -> Engine:
    uow = deps.uow
    assert isinstance(uow, SqlUnitOfWorkFactory)
    return uow.engine


def build_router(settings: Settings, deps: Deps) -> Router:
    """Real channel adapters from ``POSREFUND_CHANNELS_FILE`` (see docs/channels.example.toml)."""
    calendar = ChineseCalendar()
    channels: dict[str, PaymentChannel] = {}
    verifiers: dict[str, CallbackVerifier] = {}
    holds: dict[str, FundHoldChannel] = {}
    if settings.channels_file is not None:
        conf = tomllib.loads(settings.channels_file.read_text(encoding="utf-8"))
        base = settings.channels_file.parent

        def text(section: dict[str, Any], key: str) -> str:
            if f"{key}_file" in section:
                return (base / str(section[f"{key}_file"])).read_text(encoding="utf-8")
            if f"{key}_env" in section:
                return str(os.environ[section[f"{key}_env"]])
            return str(section[key])

        sections = {name: conf[name] for name in ("wechat", "alipay", "card") if _names_an_account(conf, name)}
        if "wechat" in sections:
            channels["wechat"], verifiers["wechat"] = wechat_from(sections["wechat"], text)
        if "alipay" in sections:
            channels["alipay"], verifiers["alipay"] = alipay_from(sections["alipay"], text)
            holds["alipay"] = alipay_fund_auth_from(sections["alipay"], text)
        if "card" in sections:
            try:
                card = card_from(sections["card"], text, SqlTerminalJournal(engine_of(deps)))
                holds["card"] = card_holds_from(sections["card"], card)
            except CardSettingsError as exc:
                raise ConfigError(str(exc)) from None
            channels["card"] = channels["unionpay_qr"] = card
    return Router(
        channels=channels,
        is_workday=calendar.is_workday,
        choose_card_method=card_method_rule(),
        verifiers=verifiers,
        overrides=calendar.overrides,
        may_call=ChannelRateLimiter(),
        holds=holds,
    )


def _names_an_account(conf: dict[str, Any], name: str) -> bool:
    """A channel's section builds its adapter when it names anything beyond the worker's limits; a section of
    limits only (``max_in_flight``, ``calls_per_second``, …) tunes a channel configured elsewhere."""
    section = conf.get(name)
    return isinstance(section, dict) and bool(set(section) - set(RULE_KEYS))


def load_calendar_overrides(deps: Deps, router: Router) -> None:
    """The admins' override table, read once at start; the API refreshes it in place on every edit."""
    with deps.uow(readonly=True) as uow:
        router.replace_overrides(uow.calendar.overrides())


# --- notification gateways from POSREFUND_NOTIFY_FILE ---


def build_notify_router(settings: Settings, demo_gateways: Mapping[str, Notifier] | None = None) -> NotifyRouter:
    """SMS / WeChat HTTP gateways and the SMTP server from the notify TOML (see docs/notifications.md);
    merchants' own HTTP gateways (stored through the API) are built on demand with the same builder.
    ``demo_gateways`` (the demo's local SMS sink) serve only when there is no notify file: a configured
    service never sends its customers' messages to a demo's sink."""
    from posrefund.adapters.notifiers.email_smtp import SmtpSender
    from posrefund.adapters.notifiers.http_gateway import gateway_from

    gateways: dict[str, Notifier] = dict(demo_gateways or {}) if settings.notify_file is None else {}
    public_url = settings.public_url
    if settings.notify_file is not None:
        conf = tomllib.loads(settings.notify_file.read_text(encoding="utf-8"))
        base = settings.notify_file.parent

        def secret(section: dict[str, Any], key: str) -> str:
            if f"{key}_file" in section:
                return (base / str(section[f"{key}_file"])).read_text(encoding="utf-8").strip()
            if f"{key}_env" in section:
                return str(os.environ[section[f"{key}_env"]])
            return str(section.get(key, ""))

        public_url = str(conf.get("public_url", public_url))
        for kind in ("sms", "wechat"):
            if kind in conf:
                gateways[kind] = gateway_from(kind, conf[kind], secret(conf[kind], "credential"))
        if "email" in conf:
            e = conf["email"]
            gateways["email"] = SmtpSender(
                host=str(e["host"]),
                port=int(e.get("port", 25)),
                sender=str(e["sender"]),
                name=str(e.get("name", "smtp")),
                username=str(e.get("username", "")),
                password=secret(e, "password"),
                starttls=bool(e.get("starttls", False)),
                timeout=float(e.get("timeout", 10)),
            )
    return NotifyRouter(
        gateways=gateways,
        build_gateway=gateway_from,
        public_url=public_url,
        link_days=settings.tracking_link_days,
        timezone=settings.timezone,
    )
