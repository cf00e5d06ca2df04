"""The error tree every layer shares; retry is decided by type, never by message.

    LzsyncError
    ├── ConfigError (ValueError)        settings missing or wrong; fix the deployment
    ├── RetryableError                  transient: nack / 5xx so the platform retries
    │   ├── UpstreamUnavailable         git remote, Firestore or Pub/Sub did not answer
    │   └── SyncInProgress              another run holds the repository's sync lease
    │       └── LeaseLost                   a run's lease expired and another run took it
    └── PermanentError (ValueError)     bad input: dead-letter, ack, log; retrying cannot help
        ├── InvalidPayload              a body or message that does not parse or validate
        └── UnknownRepository           a sync request for a repository not configured

Errors carry the identifiers a responder needs (repository, commit, topic, document path) as
attributes, so logs can put them in fields instead of in the message text.
"""

from __future__ import annotations

from typing import Final

_MAX_SHOWN_CHARS: Final = 200


class LzsyncError(Exception):
    """Base of every error raised on purpose by lzsync."""


class ConfigError(LzsyncError, ValueError):
    """The deployment is misconfigured; the message names the setting to fix."""

    def __init__(self, message: str, *, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


class RetryableError(LzsyncError):
    """A transient failure: the caller should let the platform retry with backoff."""


class UpstreamUnavailable(RetryableError):
    """A dependency (git remote, Firestore, Pub/Sub) failed in a way that may pass."""

    def __init__(self, message: str, *, upstream: str) -> None:
        super().__init__(message)
        self.upstream = upstream


class SyncInProgress(RetryableError):
    """Another invocation holds the sync lease for this repository."""

    def __init__(self, repo: str) -> None:
        super().__init__(f"a sync of {repo} is already running")
        self.repo = repo


class LeaseLost(SyncInProgress):
    """A run outlived its lease and another run took it: the run must stop writing."""

    def __init__(self, key: str) -> None:
        RetryableError.__init__(self, f"the lease on {key} expired and another run took it")
        self.repo = key


class PermanentError(LzsyncError, ValueError):
    """Input that can never succeed; it goes to the dead-letter path and is acknowledged."""


class InvalidPayload(PermanentError):
    """A body or message that does not parse or validate; ``field`` names the culprit."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownRepository(PermanentError):
    """A sync request names a repository that is not in ``LZSYNC_REPOS``."""

    def __init__(self, repo: str) -> None:
        # The name comes from the message and may be megabytes long: the text names a prefix.
        shown = repo if len(repo) <= _MAX_SHOWN_CHARS else repo[:_MAX_SHOWN_CHARS] + "…"
        super().__init__(f"repository {shown!r} is not configured")
        self.repo = repo
