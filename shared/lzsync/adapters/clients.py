"""Google Cloud clients, created once per function instance.

Under the emulators (``FIRESTORE_EMULATOR_HOST`` / ``PUBSUB_EMULATOR_HOST`` set) the client
libraries pick emulator credentials themselves and never look for Application Default
Credentials or the metadata server.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Final, TypeVar

import google.auth
import google.auth.exceptions
from google.api_core import exceptions as google_errors
from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]

from lzsync.adapters.firestore_metering import MeteredClient
from lzsync.errors import UpstreamUnavailable
from lzsync.settings import Settings

# Errors the Google APIs document as transient (AIP-194 "Automatic retry configuration").
TRANSIENT_GOOGLE_ERRORS: Final = (
    google_errors.ServiceUnavailable,
    google_errors.DeadlineExceeded,
    google_errors.Aborted,
    google_errors.InternalServerError,
    google_errors.TooManyRequests,
    google_errors.RetryError,
    ConnectionError,
    TimeoutError,
)

_T = TypeVar("_T")


def project_id(settings: Settings) -> str:
    """The deployment's project. Cloud Functions (2nd gen) does not set GOOGLE_CLOUD_PROJECT,
    so without the setting the project of the runtime's credentials is used."""
    if settings.project_id or os.environ.get("GOOGLE_CLOUD_PROJECT"):
        return settings.resolved_project_id()
    try:
        _credentials, detected = google.auth.default()
    except google.auth.exceptions.DefaultCredentialsError:
        detected = None
    return settings.resolved_project_id(detected)


@lru_cache(maxsize=4)
def firestore_client(project_id: str) -> firestore.Client:
    """The instance's Firestore client; every request it makes is counted (lzsync.metrics)."""
    return MeteredClient(project=project_id)


@lru_cache(maxsize=1)
def publisher_client() -> pubsub_v1.PublisherClient:
    return pubsub_v1.PublisherClient()


@contextmanager
def transient_errors_as_retryable(upstream: str) -> Iterator[None]:
    """Turn a Google API's transient failure into :class:`UpstreamUnavailable`."""
    try:
        yield
    except TRANSIENT_GOOGLE_ERRORS as error:
        raise UpstreamUnavailable(f"{upstream} unavailable: {error}", upstream=upstream) from error


@contextmanager
def transaction_errors_as_retryable() -> Iterator[None]:
    """A transaction that cannot begin (Firestore unreachable) ends in the client's rollback,
    which raises ``ValueError`` ("not in progress") over the transient error; persistent
    contention also ends in a ``ValueError``. Both are retryable, not bugs: without this, a run
    that fails in an outage surfaced a ValueError from its lease release instead."""
    try:
        with transient_errors_as_retryable("firestore"):
            yield
    except ValueError as error:
        cause = error.__cause__ or error.__context__
        raise UpstreamUnavailable(
            f"firestore transaction failed: {cause or error}", upstream="firestore"
        ) from error


def call_upstream(upstream: str, call: Callable[[], _T]) -> _T:
    with transient_errors_as_retryable(upstream):
        return call()
