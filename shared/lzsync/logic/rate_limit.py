"""Spacing requests to stay under an API quota.

Cloud Asset Inventory allows 100 ListAssets requests per minute per consumer project by default
(CAI "Quotas and limits"); the snapshot shares that quota with everything else in the project,
so it paces itself instead of relying on 429s.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RequestPacer:
    """Waits before each request so that requests are at least ``60 / per_minute`` s apart."""

    def __init__(
        self,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 60.0 / per_minute
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._last is not None:
            remaining = self._last + self._interval - now
            if remaining > 0:
                self._sleep(remaining)
                now += remaining
        self._last = now
