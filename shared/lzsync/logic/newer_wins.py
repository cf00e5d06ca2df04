"""Which version of an asset the Portal shows when events arrive late, twice or out of order.

Every change carries ``window.startTime``, the moment its version began. A document remembers
the time of the version it reflects (``event_time``; for a snapshot-written document, the
asset's ``update_time``), and a deleted asset leaves a tombstone with the deletion's time. An
event applies only if it is strictly newer than both: older or equal events (late arrivals,
duplicates) change nothing, and a late update cannot resurrect a deleted asset, while a
re-creation after the deletion can.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Decision = Literal["create", "update", "delete", "ignore_stale"]


@dataclass(frozen=True)
class HeldVersion:
    """What Firestore holds for one asset: a live document's time, a tombstone's, or neither."""

    document_time: datetime | None = None
    tombstone_time: datetime | None = None

    @property
    def newest(self) -> datetime | None:
        times = [t for t in (self.document_time, self.tombstone_time) if t is not None]
        return max(times) if times else None


def decide(held: HeldVersion, event_time: datetime, deleted: bool) -> Decision:
    newest = held.newest
    if newest is not None and event_time <= newest:
        return "ignore_stale"
    if deleted:
        # Even with no document (its creation still in flight) the tombstone must be written,
        # or the late creation would bring the asset back.
        return "delete"
    return "update" if held.document_time is not None else "create"


def listing_superseded(listed: datetime | None, newer: datetime | None) -> bool:
    """Whether a listed version must not overwrite what the real-time layer holds.

    ``newer`` is the version time of an event-written document or of a tombstone (None: the
    real-time layer holds nothing for the asset); ``listed`` is the listed asset's
    ``update_time`` (None when it has none, and then the event's version is the one known)."""
    if newer is None:
        return False
    return listed is None or newer > listed
