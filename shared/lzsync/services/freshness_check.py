"""The scheduled freshness check: every layer's age, ``sync_status`` marked, alerts on change.

Per layer (:mod:`lzsync.logic.freshness`): the ``freshness`` fields of ``sync_status/<layer>``
are rewritten only when its state changes (fresh/late/stale: writes ∝ changes, the Portal
computes ages itself); a stale layer whose own state says ``ok`` is marked ``state: stale``
until it succeeds again. A change of staleness emits one structured log line — the one a
Cloud Monitoring log-based alert matches (``alert: lzsync_layer_stale`` /
``lzsync_layer_recovered``) — and, with a chat webhook configured, one message; a message that
could not be delivered is retried by the next check, never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from lzsync.adapters.alert_book import AlertBook, PendingAlert
from lzsync.adapters.status import Layer, StatusBoard
from lzsync.logic.freshness import Freshness, assess
from lzsync.logs import audit

_log = logging.getLogger("lzsync.freshness")
STALE_ALERT: Final = "lzsync_layer_stale"
RECOVERED_ALERT: Final = "lzsync_layer_recovered"


@dataclass
class CheckOutcome:
    layers: list[Freshness] = field(default_factory=list)
    changes: dict[str, str] = field(default_factory=dict)  # layer → stale | recovered
    notified: list[str] = field(default_factory=list)
    notify_failed: list[str] = field(default_factory=list)


class FreshnessCheck:
    def __init__(
        self,
        status: StatusBoard,
        alerts: AlertBook,
        layers: Sequence[Layer],
        stale_after_seconds: dict[str, int],
        notify: Callable[[str], bool] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._status = status
        self._alerts = alerts
        self._layers = layers
        self._stale_after = stale_after_seconds
        self._notify = notify
        self._clock = clock

    def run(self) -> CheckOutcome:
        now = self._clock()
        outcome = CheckOutcome()
        for layer in self._layers:
            current = self._status.read(layer)
            freshness = assess(layer, current, now, self._stale_after[layer])
            outcome.layers.append(freshness)
            self._mark(layer, current or {}, freshness, now)
            change = self._alerts.record(layer, freshness.stale, now, freshness.describe())
            if change is not None:
                outcome.changes[layer] = change
                self._log_change(freshness, change)
        self._deliver(outcome, now)
        return outcome

    def _mark(
        self, layer: Layer, current: dict[str, Any], freshness: Freshness, now: datetime
    ) -> None:
        previous = (current.get("freshness") or {}).get("state")
        state = current.get("state")
        fields: dict[str, Any] = {}
        if previous != freshness.state:
            fields["freshness"] = {
                "state": freshness.state,
                "since": now,
                "stale_after_seconds": freshness.stale_after_seconds,
            }
            fields["stale"] = freshness.stale
            fields["stale_since"] = now if freshness.stale else None
        if freshness.stale and state in (None, "ok"):
            fields["state"] = "stale"
        elif not freshness.stale and state == "stale":
            fields["state"] = "ok"
        if fields:
            self._status.update(layer, fields)

    def _log_change(self, freshness: Freshness, change: str) -> None:
        alert = STALE_ALERT if change == "stale" else RECOVERED_ALERT
        log = _log.error if change == "stale" else _log.info
        log(
            f"layer {freshness.layer} {'is stale' if change == 'stale' else 'recovered'}",
            extra={
                "alert": alert,
                "layer": freshness.layer,
                "age_seconds": None
                if freshness.age_seconds is None
                else round(freshness.age_seconds),
                "stale_after_seconds": freshness.stale_after_seconds,
                "last_success": freshness.last_success.isoformat()
                if freshness.last_success
                else None,
            },
        )
        audit("freshness_change", outcome=change, layer=freshness.layer)

    def _deliver(self, outcome: CheckOutcome, now: datetime) -> None:
        for alert in self._alerts.pending():
            if self._notify is not None and not self._notify(_message(alert)):
                outcome.notify_failed.append(alert.layer)
                continue
            self._alerts.mark_notified(alert, now)
            if self._notify is not None:
                outcome.notified.append(alert.layer)


def _message(alert: PendingAlert) -> str:
    when = alert.changed_at.strftime("%Y-%m-%d %H:%M UTC")
    if alert.change == "stale":
        return f":warning: lzsync: {alert.detail} — stale since {when}."
    return f":white_check_mark: lzsync: layer {alert.layer} recovered at {when} ({alert.detail})."
