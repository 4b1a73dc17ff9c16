"""Structured JSON logs (structlog) to stderr or a file; personal data never passes through them.

Every line has ``event``, ``level`` and ``timestamp`` (UTC, ISO 8601); a line written while an API request
runs also has its ``request_id``, and the worker's ``worker.channel_call`` lines name the ``case_id`` and the
``request_id`` of the API request that opened the case (docs/operations.md lists the fields)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger

from posrefund.domain.pii import redact_card_numbers


def _redacted(value: object) -> object:
    if isinstance(value, str):
        return redact_card_numbers(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


def redact_card_data(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The last step before a line is written: card data in any value (a path, an error message, a
    traceback) is replaced by ``[PAN]`` / ``[TRACK]`` / ``[CVV]``, by the same detector as the API guard."""
    return {k: _redacted(v) for k, v in event.items()}


def configure(level: str = "INFO", file: Path | None = None) -> None:
    stream: TextIO = open(file, "a", encoding="utf-8", buffering=1) if file else sys.stderr  # noqa: SIM115
    structlog.configure(
        processors=[
            # the request id (the API's access log binds it; the worker names it on each channel call)
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_card_data,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
