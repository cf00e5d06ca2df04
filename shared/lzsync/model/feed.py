"""A Cloud Asset Inventory feed notification: one ``TemporalAsset`` per Pub/Sub message.

Shape (CAI docs, "Monitoring asset changes"): ``asset`` (the asset after the change),
``priorAsset`` and ``priorAssetState`` (``PRESENT``, ``INVALID``, ``DOES_NOT_EXIST``,
``DELETED``), ``window.startTime`` (when this version began; it orders versions of one asset)
and ``deleted``. The first message on a new feed is a plain-text welcome string, not JSON.
Feeds are at-least-once, unordered and may lag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from lzsync.errors import InvalidPayload

# The welcome string's wording is not specified; these words are in it and in no JSON message.
_WELCOME_MARKERS: Final = ("successfully configured", "feed")


@dataclass(frozen=True)
class FeedChange:
    asset_name: str
    asset: Mapping[str, Any]
    prior_asset: Mapping[str, Any] | None
    prior_state: str | None
    start_time: datetime
    deleted: bool

    @property
    def start_time_text(self) -> str:
        return self.start_time.isoformat()


class WelcomeMessage(Exception):
    """The plain-text message a new feed publishes first; acknowledged and ignored."""


def parse_timestamp(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise InvalidPayload(f"{field} is missing", field=field)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise InvalidPayload(f"{field} has no time zone: {value!r}", field=field)
        # In UTC it must still be a datetime (``0001-01-01T00:00:00+14:00`` is not): Firestore
        # stores it as UTC, and comparing it would overflow later, inside a transaction.
        parsed.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        if isinstance(error, InvalidPayload):
            raise
        raise InvalidPayload(f"{field} is not an RFC 3339 time: {value!r}", field=field) from error
    return parsed


def parse_feed_message(data: bytes) -> FeedChange:
    """Parse a feed message; raises WelcomeMessage for the welcome string and InvalidPayload
    (a permanent error) for anything else that is not a TemporalAsset."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidPayload("feed message is not UTF-8") from error
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        lowered = text.lower()
        if all(marker in lowered for marker in _WELCOME_MARKERS):
            raise WelcomeMessage(text) from error
        raise InvalidPayload(f"feed message is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise InvalidPayload("feed message is not a JSON object")
    asset = document.get("asset")
    if not isinstance(asset, dict):
        raise InvalidPayload("feed message has no asset object", field="asset")
    name = asset.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidPayload("feed asset has no name", field="asset.name")
    window = document.get("window")
    start = parse_timestamp(
        window.get("startTime") if isinstance(window, dict) else None, "window.startTime"
    )
    prior = document.get("priorAsset")
    prior_state = document.get("priorAssetState")
    deleted = document.get("deleted", False)
    if not isinstance(deleted, bool):
        raise InvalidPayload("deleted is not a boolean", field="deleted")
    return FeedChange(
        asset_name=name,
        asset=asset,
        prior_asset=prior if isinstance(prior, dict) else None,
        prior_state=prior_state if isinstance(prior_state, str) else None,
        start_time=start,
        deleted=deleted,
    )
