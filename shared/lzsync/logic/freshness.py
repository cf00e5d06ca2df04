"""How fresh each layer's data is, from its ``sync_status`` document: the rule the scheduled
check, the alerts and the Portal's colours share.

A layer is ``fresh`` while its last success is within its expected interval, ``late`` past that
(the Portal shows amber; no alert: one missed run is normal), and ``stale`` past its stale
threshold (red, and one alert). A layer that never reported is ``stale`` too: a deployed layer
that never ran is what an operator must hear about. The real-time layer's "success" is its last
applied event; the other layers' is their last successful run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

HOUR: Final = 3600
LAYERS: Final = ("webhook", "git", "assets", "events", "history")
# Defaults per layer. Git reconciles every 6 h (plus a grace for the run itself); a quiet
# repository legitimately sends no webhook for days; the history export runs daily.
DEFAULT_STALE_AFTER_SECONDS: Final = {
    "webhook": 7 * 24 * HOUR,
    "git": 6 * HOUR + 1800,
    "assets": 6 * HOUR,
    "events": 6 * HOUR,
    "history": 26 * HOUR,
}
# What counts as a layer doing its job: the real-time layer applying an event; the webhook
# accepting a delivery or GitHub's ping. The Portal page reads the same fields.
_SUCCESS_FIELDS: Final = {
    "events": ("last_event_time",),
    "webhook": ("last_success", "last_ping"),
}

State = Literal["fresh", "late", "stale"]


@dataclass(frozen=True)
class Freshness:
    layer: str
    state: State
    last_success: datetime | None
    age_seconds: float | None
    expected_interval_seconds: float | None
    stale_after_seconds: float

    @property
    def stale(self) -> bool:
        return self.state == "stale"

    def describe(self) -> str:
        if self.age_seconds is None:
            return f"{self.layer}: never succeeded"
        hours = self.age_seconds / HOUR
        return f"{self.layer}: last success {hours:.1f} h ago ({self.state})"


def stale_thresholds(overrides: Mapping[str, int]) -> dict[str, int]:
    return {**DEFAULT_STALE_AFTER_SECONDS, **overrides}


def assess(
    layer: str, status: Mapping[str, Any] | None, now: datetime, stale_after_seconds: float
) -> Freshness:
    status = status or {}
    times = [status.get(name) for name in _SUCCESS_FIELDS.get(layer, ("last_success",))]
    last_success = max((t for t in times if isinstance(t, datetime)), default=None)
    expected = status.get("expected_interval_seconds")
    expected_seconds = float(expected) if isinstance(expected, int | float) else None
    if last_success is None:
        return Freshness(layer, "stale", None, None, expected_seconds, stale_after_seconds)
    age = max(0.0, (now - last_success).total_seconds())
    state: State = "fresh"
    if age > stale_after_seconds:
        state = "stale"
    elif expected_seconds is not None and age > expected_seconds:
        state = "late"
    return Freshness(layer, state, last_success, age, expected_seconds, stale_after_seconds)
