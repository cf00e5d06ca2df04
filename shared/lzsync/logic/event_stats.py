"""Per-instance event statistics, flushed to ``sync_status/events`` now and then.

Writing the status document on every event would make it the hottest document of the system
(Firestore sustains about one write per second per document), so each function instance keeps
counts and recent lags in memory and flushes at most every ``flush_seconds``: counters as
server-side increments (instances add up), lag percentiles over the instance's recent window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class EventStats:
    flush_seconds: float
    window_seconds: float
    clock: Callable[[], float] = time.monotonic
    _counts: dict[str, int] = field(default_factory=dict)
    _lags: deque[tuple[float, float]] = field(default_factory=deque)
    _last_event_time: datetime | None = None
    _last_flush: float | None = None
    _last_error: str | None = None
    _last_failure_at: datetime | None = None
    _flushed_state: str = "ok"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, outcome: str, event_time: datetime | None, lag_seconds: float | None) -> None:
        now = self.clock()
        with self._lock:
            self._counts[outcome] = self._counts.get(outcome, 0) + 1
            if event_time is not None and (
                self._last_event_time is None or event_time > self._last_event_time
            ):
                self._last_event_time = event_time
            if lag_seconds is not None:
                self._lags.append((now, lag_seconds))
            while self._lags and self._lags[0][0] < now - self.window_seconds:
                self._lags.popleft()

    def record_failure(self, error: str, when: datetime) -> None:
        """A delivery that failed retryably (Pub/Sub redelivers it): counted as ``failed``,
        and the status says ``degraded`` with the error until a flush without failures."""
        with self._lock:
            self._counts["failed"] = self._counts.get("failed", 0) + 1
            self._last_error = error
            self._last_failure_at = when

    def restore(self, update: dict[str, Any]) -> None:
        """Take back the counts of an update that could not be written (Firestore down), so
        the next flush carries them; the state already attempted is not forced again."""
        with self._lock:
            for name, amount in update["increments"].items():
                self._counts[name] = self._counts.get(name, 0) + amount

    def due(self) -> dict[str, Any] | None:
        """The status update to flush now, or None when the last flush is recent enough.
        A change of state (failures appear, or stop) flushes at once: the Portal must see a
        failure when it starts, not ``flush_seconds`` later. Counts are handed over (and
        reset) only when an update is returned."""
        now = self.clock()
        with self._lock:
            state = "degraded" if self._counts.get("failed") else "ok"
            recent = self._last_flush is not None and now - self._last_flush < self.flush_seconds
            if recent and state == self._flushed_state:
                return None
            self._last_flush = now
            self._flushed_state = state
            counts, self._counts = self._counts, {}
            lags = [lag for _, lag in self._lags]
            update: dict[str, Any] = {"increments": counts, "fields": {"state": state}}
            if state == "degraded":
                update["fields"]["last_error"] = self._last_error
                update["fields"]["last_failure_at"] = self._last_failure_at
            if self._last_event_time is not None:
                update["fields"]["last_event_time"] = self._last_event_time
            if lags:
                update["fields"]["lag_seconds"] = {
                    "p50": round(nearest_rank(lags, 0.5), 3),
                    "p99": round(nearest_rank(lags, 0.99), 3),
                    "samples": len(lags),
                    "window_seconds": self.window_seconds,
                }
            return update
