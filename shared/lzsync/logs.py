"""Structured logs that Cloud Logging parses: one JSON object per line on stdout.

Cloud Logging lifts ``severity``, ``message``, ``time``, ``logging.googleapis.com/trace`` and
``logging.googleapis.com/labels`` out of a JSON line into the entry's own fields; everything else
lands in ``jsonPayload``. Context (function, delivery, repo, commit, ...) is bound once per unit
of work with :func:`bound` and added to every line logged inside it. Values go in fields, not in
the message text. Registered secrets are scrubbed from every line as a last line of defence.

Named loggers per concern (``lzsync.webhook``, ``lzsync.git``, ``lzsync.audit``, ...) let one
area be turned up alone.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, Final, TextIO

from pythonjsonlogger.json import JsonFormatter

from lzsync import metrics

TRACE_KEY: Final = "logging.googleapis.com/trace"
LABELS_KEY: Final = "logging.googleapis.com/labels"
AUDIT_LOGGER: Final = "lzsync.audit"
_REDACTED: Final = "[redacted]"

_NO_CONTEXT: Final[Mapping[str, Any]] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "lzsync_log_context", default=_NO_CONTEXT
)
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Never let ``value`` reach a log line, whatever code path tries to log it."""
    if value:
        _secrets.add(value)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every log line written inside the ``with`` block."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def trace_field(project_id: str, trace_header: str | None) -> dict[str, str]:
    """The trace key from an ``X-Cloud-Trace-Context: TRACE_ID/SPAN;o=1`` header, if any."""
    if not trace_header:
        return {}
    trace_id = trace_header.split("/", 1)[0].strip()
    if not trace_id.isalnum():
        return {}
    return {TRACE_KEY: f"projects/{project_id}/traces/{trace_id}"}


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class _CloudLoggingFormatter(JsonFormatter):
    """JSON formatter with Cloud Logging's key names and secret scrubbing."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in _secrets:
            line = line.replace(secret, _REDACTED)
        # Cloud Logging bills ingestion by volume: count each line as it is emitted.
        metrics.count(metrics.LOG_ENTRIES)
        metrics.count(metrics.LOG_BYTES, len(line.encode()) + 1)
        return line


def json_handler(stream: TextIO) -> logging.Handler:
    """A handler writing Cloud Logging JSON lines, with bound context, to ``stream``."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        _CloudLoggingFormatter(
            "%(levelname)s %(message)s %(name)s",
            rename_fields={"levelname": "severity", "name": "logger"},
            timestamp="time",
            json_ensure_ascii=False,
        )
    )
    handler.addFilter(_ContextFilter())
    return handler


def configure(level: str = "INFO") -> None:
    """Route every ``lzsync`` logger to stdout as JSON lines; safe to call more than once."""
    root = logging.getLogger("lzsync")
    root.setLevel(level)
    if any(getattr(handler, "_lzsync", False) for handler in root.handlers):
        return
    handler = json_handler(sys.stdout)
    handler._lzsync = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.propagate = False


def audit(action: str, *, outcome: str, **fields: Any) -> None:
    """One audit record per sync decision: who or what triggered it and what was written.

    Audit lines carry the label ``lzsync_audit=true`` so a log sink or a log-based metric can
    select them without parsing payloads.
    """
    logging.getLogger(AUDIT_LOGGER).info(
        "audit",
        extra={
            "action": action,
            "outcome": outcome,
            LABELS_KEY: {"lzsync_audit": "true"},
            **fields,
        },
    )
