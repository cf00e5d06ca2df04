"""What the HTTP functions Cloud Scheduler calls share: their settings, loaded and logging
configured once per instance, and their JSON answer, whose status code is what Scheduler
records as the run's success or failure."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import flask
from pydantic import ValidationError
from pydantic_settings import SettingsError

from lzsync.errors import ConfigError, RetryableError
from lzsync.logs import configure
from lzsync.settings import Settings, load_settings


@lru_cache(maxsize=1)
def function_settings() -> Settings:
    """The deployment's settings, with logging configured from them (first call per instance;
    a settings error is raised to the caller, which answers it, and retried next request)."""
    settings = load_settings()
    configure(settings.log_level)
    return settings


def json_reply(status: int, body: dict[str, Any]) -> flask.Response:
    reply = flask.jsonify(body)
    reply.status_code = status
    return reply


def failure_reply(error: Exception, what: str, log: logging.Logger) -> flask.Response:
    """The answer for a scheduled run that raised (call it from the ``except`` block): a
    misconfiguration is 500 and says what; a retryable failure is 503, which Scheduler retries;
    anything else is 500 with the error's type only — the stack trace goes to the log, never to
    the caller."""
    if isinstance(error, ConfigError | ValidationError | SettingsError):
        log.error("%s misconfigured", what, extra={"error": str(error)})
        return json_reply(500, {"status": "misconfigured", "error": str(error)})
    if isinstance(error, RetryableError):
        log.error("%s failed, retry later", what, extra={"error": str(error)})
        return json_reply(503, {"status": "failed", "error": str(error)})
    log.error("%s failed", what, exc_info=error)
    return json_reply(500, {"status": "failed", "error": type(error).__name__})
