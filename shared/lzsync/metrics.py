"""Billable operations, counted where they happen, so lzsync's cost comes from counters.

Every layer counts here what Google bills it for: Firestore document reads, writes and deletes
(and the bytes written, by Firestore's storage-size rules), Pub/Sub messages and billable bytes
published and delivered, function invocations with their GB-seconds and vCPU-seconds, Cloud
Asset Inventory calls, BigQuery bytes loaded and scanned, and the bytes of structured log
lines emitted. ``lzsync cost-report`` reads these counters to price a simulated month.

Counting is process-local and cheap: one lock-protected dictionary update, no I/O. A unit of
work (a function invocation) can open a :func:`scope`; everything counted on that thread while
the scope is open is also tallied for it, and :func:`invocation` writes that tally as one
structured log line (``jsonPayload.metrics``, label ``lzsync_metrics=true``) so a deployment
can build log-based metrics from the same figures.

NOTE: a scope follows the thread (a context variable). Work another thread does on behalf of a
request (``asset_events``' group-commit thread) is counted in the process totals, not in that
request's log line.
"""

from __future__ import annotations

import contextvars
import logging
import math
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

# Counter names: ``service.what``; the cost model and the log line use the same names.
FIRESTORE_READS: Final = "firestore.reads"
FIRESTORE_WRITES: Final = "firestore.writes"
FIRESTORE_DELETES: Final = "firestore.deletes"
FIRESTORE_BYTES_WRITTEN: Final = "firestore.bytes_written"
PUBSUB_PUBLISHED: Final = "pubsub.messages_published"
PUBSUB_PUBLISHED_BYTES: Final = "pubsub.billable_bytes_published"
PUBSUB_DELIVERED: Final = "pubsub.messages_delivered"
PUBSUB_DELIVERED_BYTES: Final = "pubsub.billable_bytes_delivered"
FUNCTION_INVOCATIONS: Final = "functions.invocations"
FUNCTION_SECONDS: Final = "functions.seconds"
FUNCTION_GB_SECONDS: Final = "functions.gib_seconds"
FUNCTION_VCPU_SECONDS: Final = "functions.vcpu_seconds"
CAI_LIST_PAGES: Final = "cai.list_assets_pages"
CAI_FEED_CALLS: Final = "cai.feed_calls"
BIGQUERY_BYTES_LOADED: Final = "bigquery.bytes_loaded"
BIGQUERY_LOAD_JOBS: Final = "bigquery.load_jobs"
BIGQUERY_QUERIES: Final = "bigquery.queries"
BIGQUERY_BYTES_SCANNED: Final = "bigquery.bytes_scanned"
LOG_ENTRIES: Final = "logging.entries"
LOG_BYTES: Final = "logging.bytes"

METRICS_LOGGER: Final = "lzsync.metrics"
# Pub/Sub bills at least 1,000 bytes per message published or delivered ("Pub/Sub pricing",
# throughput: minimum billable size per message).
PUBSUB_MIN_BILLABLE_BYTES: Final = 1000
# Cloud Run bills instance time rounded up to the nearest 100 ms ("Cloud Run pricing").
BILLING_GRANULARITY_SECONDS: Final = 0.1
_MIB_PER_GIB: Final = 1024

_lock = threading.Lock()
_totals: dict[str, float] = {}
_scopes: contextvars.ContextVar[tuple[dict[str, float], ...]] = contextvars.ContextVar(
    "lzsync_metric_scopes", default=()
)


def count(name: str, amount: float = 1) -> None:
    """Add ``amount`` to counter ``name`` for the process and every open scope on this thread."""
    scopes = _scopes.get()
    with _lock:
        _totals[name] = _totals.get(name, 0) + amount
        for tally in scopes:
            tally[name] = tally.get(name, 0) + amount


def snapshot() -> dict[str, float]:
    """The process's counters so far (a copy)."""
    with _lock:
        return dict(_totals)


def reset() -> None:
    """Zero the process's counters (open scopes keep their own tallies)."""
    with _lock:
        _totals.clear()


@contextmanager
def scope() -> Iterator[dict[str, float]]:
    """Tally what this thread counts inside the block, besides the process totals."""
    tally: dict[str, float] = {}
    token = _scopes.set((*_scopes.get(), tally))
    try:
        yield tally
    finally:
        _scopes.reset(token)


@dataclass
class OperationCounts:
    """One run's own tally of its Firestore document reads and writes, reported in its outcome
    (``sync_status/assets.firestore_ops``). The process counters above count the same
    operations at the wire; a test checks the two agree for a snapshot run."""

    reads: int = 0
    writes: int = 0


def pubsub_billable_bytes(data: bytes, attributes: Mapping[str, str] | None = None) -> int:
    """Bytes Pub/Sub bills for one message: data plus attributes, at least 1,000."""
    size = len(data) + sum(len(k) + len(v) for k, v in (attributes or {}).items())
    return max(PUBSUB_MIN_BILLABLE_BYTES, size)


def count_published(data: bytes, attributes: Mapping[str, str] | None = None) -> None:
    count(PUBSUB_PUBLISHED)
    count(PUBSUB_PUBLISHED_BYTES, pubsub_billable_bytes(data, attributes))


def count_delivered(data: bytes, attributes: Mapping[str, str] | None = None) -> None:
    count(PUBSUB_DELIVERED)
    count(PUBSUB_DELIVERED_BYTES, pubsub_billable_bytes(data, attributes))


@dataclass(frozen=True)
class FunctionSize:
    """What a deployed function is billed per second of instance time."""

    memory_mib: int
    vcpus: float


def billable_seconds(seconds: float) -> float:
    """Instance time as Cloud Run bills it: rounded up to the next 100 ms."""
    steps = math.ceil(round(seconds / BILLING_GRANULARITY_SECONDS, 6))
    return max(1, steps) * BILLING_GRANULARITY_SECONDS


def count_invocation(size: FunctionSize, seconds: float) -> None:
    billed = billable_seconds(seconds)
    count(FUNCTION_INVOCATIONS)
    count(FUNCTION_SECONDS, seconds)
    count(FUNCTION_GB_SECONDS, billed * size.memory_mib / _MIB_PER_GIB)
    count(FUNCTION_VCPU_SECONDS, billed * size.vcpus)


@contextmanager
def invocation(function: str, size: FunctionSize | None = None) -> Iterator[dict[str, float]]:
    """Count one invocation of ``function`` and log what it cost in one structured line.

    ``size`` defaults to the deployed size in :mod:`lzsync.pricing` (the same figures as
    ``infra/functions.tf``); wall time times size gives GB-seconds and vCPU-seconds.
    """
    if size is None:
        from lzsync.pricing import DEPLOYED_SIZES  # keeps this module a leaf

        size = DEPLOYED_SIZES.get(function, FunctionSize(256, 0.167))
    started = time.perf_counter()
    with scope() as tally:
        try:
            yield tally
        finally:
            count_invocation(size, time.perf_counter() - started)
            _log_line(function, tally)


def _log_line(function: str, tally: dict[str, float]) -> None:
    logging.getLogger(METRICS_LOGGER).info(
        "invocation metrics",
        extra={
            "function": function,
            "metrics": {name: round(value, 6) for name, value in sorted(tally.items())},
            "logging.googleapis.com/labels": {"lzsync_metrics": "true"},
        },
    )
