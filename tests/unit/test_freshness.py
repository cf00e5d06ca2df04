"""The freshness rule the check, the alerts and the Portal share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lzsync.logic.freshness import HOUR, assess, stale_thresholds

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def status(hours_ago: float | None, expected: int = 300, field: str = "last_success") -> dict:
    document: dict = {"expected_interval_seconds": expected, "state": "ok"}
    if hours_ago is not None:
        document[field] = NOW - timedelta(hours=hours_ago)
    return document


def test_fresh_within_the_interval_late_past_it_stale_past_the_threshold():
    assert assess("assets", status(0.01), NOW, 6 * HOUR).state == "fresh"
    assert assess("assets", status(1), NOW, 6 * HOUR).state == "late"
    stale = assess("assets", status(6.5), NOW, 6 * HOUR)
    assert stale.state == "stale"
    assert stale.age_seconds == 6.5 * HOUR
    assert "6.5 h ago" in stale.describe()


def test_a_layer_that_never_succeeded_is_stale_and_says_so():
    never = assess("history", {"state": "failing"}, NOW, 26 * HOUR)
    assert never.stale
    assert never.age_seconds is None
    assert never.describe() == "history: never succeeded"
    assert assess("git", None, NOW, 6 * HOUR).stale


def test_the_real_time_layer_is_as_fresh_as_its_last_applied_event():
    events = status(None, expected=3600) | {"last_event_time": NOW - timedelta(minutes=5)}
    assert assess("events", events, NOW, 6 * HOUR).state == "fresh"
    assert assess("events", status(0.1), NOW, 6 * HOUR).stale  # last_success is not its clock


def test_thresholds_default_per_layer_and_overrides_replace_only_what_they_name():
    thresholds = stale_thresholds({"events": 12 * HOUR})
    assert thresholds["events"] == 12 * HOUR
    assert thresholds["assets"] == 6 * HOUR
    assert thresholds["history"] > 24 * HOUR  # a daily export must not look stale every day


def test_a_webhook_that_has_only_seen_pings_is_fresh_by_its_last_ping():
    pinged = {"state": "ok", "last_ping": NOW - timedelta(minutes=1)}
    assert assess("webhook", pinged, NOW, 7 * 24 * HOUR).state == "fresh"


def test_the_portal_page_colours_by_the_same_default_thresholds():
    import re

    from lzsync.devtools.landing_zone import project_root
    from lzsync.logic.freshness import DEFAULT_STALE_AFTER_SECONDS

    source = (project_root() / "portal" / "src" / "freshness.js").read_text()
    table = source[source.index("STALE_AFTER_SECONDS = {") : source.index("};")]
    page = {name: int(value) for name, value in re.findall(r"(\w+): (\d+)", table)}
    assert page == DEFAULT_STALE_AFTER_SECONDS
