"""Structured JSON logs: one line per event, carrying the service and the event context, with personal data masked."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

HANDLER_NAME = "satupintu"
SENSITIVE_KEYS = frozenset({"nik", "phone", "email", "name", "kk", "address", "password", "token", "authorization"})
_NIK = re.compile(r"(?<!\d)(\d{4})\d{8}(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")
# uvicorn installs its own handlers on these; taking them off sends their records to ours, on the root logger
_SELF_HANDLED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def _mask_text(text: str) -> str:
    return _EMAIL.sub(r"\1***\2", _NIK.sub(r"\1********\2", text))


def _masked_sensitive(key: str, value: Any) -> str:
    text = str(value)
    if (key in {"nik", "kk"} and _NIK.fullmatch(text)) or (key == "email" and _EMAIL.fullmatch(text)):
        return _mask_text(text)
    return "***"


def _masked_value(key: str | None, value: Any) -> Any:
    lowered = key.lower() if key is not None else None
    if lowered == "exc_info":  # the console renderer needs it intact; JSON logs format it into masked text first
        masked = value
    elif lowered is not None and lowered in SENSITIVE_KEYS:
        masked = _masked_sensitive(lowered, value)
    elif isinstance(value, str):
        masked = _mask_text(value)
    elif isinstance(value, int) and not isinstance(value, bool) and len(str(value)) == 16:
        masked = _mask_text(str(value))
    elif isinstance(value, dict):
        masked = {name: _masked_value(str(name), item) for name, item in value.items()}
    elif isinstance(value, list | tuple):
        masked = type(value)(_masked_value(None, item) for item in value)
    else:
        masked = value
    return masked


def redact_personal_data(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """A structlog processor that masks personal data: values of sensitive keys, NIK-shaped numbers and e-mails."""
    return {key: _masked_value(key, value) for key, value in event_dict.items()}


def configure_logging(service: str, level: str = "info", json: bool = True) -> None:
    """Sends structlog and stdlib logging (uvicorn, aiokafka) to stdout as JSON lines (or readable text).

    Start uvicorn with ``log_config=None`` afterwards, or it installs its own handlers again.
    """
    numeric_level = logging.getLevelNamesMapping().get(level.upper())
    if numeric_level is None:
        raise ValueError(f"unknown log level {level!r}; use debug, info, warning, error or critical")

    def add_service(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_service,
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Processor = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *([structlog.processors.format_exc_info] if json else []),  # the console renderer formats its own
            redact_personal_data,  # last before rendering, so exception text is masked too
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for previous in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    for name in _SELF_HANDLED_LOGGERS:
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True

    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


@contextmanager
def bind_event_context(correlation_id: str | None, application_id: str | None) -> Iterator[None]:
    """Within this block, every log line carries the event's `correlation_id` and `application_id` (those given)."""
    context = {"correlation_id": correlation_id, "application_id": application_id}
    with structlog.contextvars.bound_contextvars(**{key: value for key, value in context.items() if value is not None}):
        yield


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger named ``name`` (usually ``__name__``)."""
    return structlog.stdlib.get_logger(name)
