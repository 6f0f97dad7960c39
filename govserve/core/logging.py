"""Structured logs: one JSON object per line, each with the request id.

Log events name what happened and carry ids, never personal data: no answers,
names, emails or addresses go into a log call. ``request_id`` is bound per
request by :class:`govserve.core.middleware.RequestIdMiddleware` through
structlog's context variables, so stdlib loggers (Django's included) get it too.
"""

from __future__ import annotations

import logging
import logging.config
import sys

import structlog


def configure_logging(*, level: str = "INFO", json_output: bool = True) -> None:
    """Configure structlog and the stdlib root logger to write JSON lines to stderr."""
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if json_output
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Django logs each 4xx with the request path and nothing personal; keep it.
    logging.getLogger("django.server").setLevel("WARNING")
    # django-axes announces its configuration at every start: noise for operators.
    logging.getLogger("axes.apps").setLevel("WARNING")
