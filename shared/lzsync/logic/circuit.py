"""Circuit breaker for an upstream (the git remote): stop hammering it after repeated failures.

After ``failure_threshold`` consecutive failures the circuit opens; while open, runs skip the
upstream entirely and record that they were skipped. Once ``open_seconds`` have passed the
circuit is half-open: the next run tries once; success closes it, failure re-opens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

CircuitState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class CircuitPolicy:
    failure_threshold: int
    open_seconds: int

    def state(
        self, consecutive_failures: int, last_failure_at: datetime | None, now: datetime
    ) -> CircuitState:
        if consecutive_failures < self.failure_threshold:
            return "closed"
        if last_failure_at is None:
            return "half_open"
        if now - last_failure_at < timedelta(seconds=self.open_seconds):
            return "open"
        return "half_open"
