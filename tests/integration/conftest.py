"""Fixtures the compliance tests share: the landing zone's constraints, published as git sync
leaves them, and a real-time function that judges each delivered feed message by them."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator

import pytest
from functions_framework import create_app

from lzsync.devtools import landing_zone
from lzsync.services import asset_events_event
from lzsync.settings import load_settings
from tests.helpers import fixture_constraint_files, publish_policies


@pytest.fixture(scope="session")
def constraint_files(landing_zone_source) -> dict[str, str]:
    return fixture_constraint_files(landing_zone_source)


@pytest.fixture
def feed_function(monkeypatch, emulators) -> Iterator[Callable[[dict], int]]:
    """``post(change) -> status``: one feed message through the asset_events function, each
    with its own message id; judged by whatever constraints the test publishes."""
    monkeypatch.setenv("LZSYNC_EVENTS_STATUS_FLUSH_SECONDS", "0")
    load_settings.cache_clear()
    asset_events_event._service.cache_clear()
    source = landing_zone.project_root() / "functions" / "asset_events" / "main.py"
    app = create_app(target="asset_events", source=str(source), signature_type="cloudevent")
    client = app.test_client()
    numbers = itertools.count()

    def post(change: dict) -> int:
        envelope = {
            "subscription": "projects/p/subscriptions/asset-events",
            "message": {
                "messageId": f"m-{next(numbers)}",
                "data": base64.b64encode(json.dumps(change).encode()).decode(),
                "publishTime": change["window"]["startTime"],
            },
        }
        return client.post("/", json=envelope).status_code

    yield post
    load_settings.cache_clear()
    asset_events_event._service.cache_clear()


@pytest.fixture
def deliver(monkeypatch, db, constraint_files, feed_function) -> Callable[[dict], int]:
    """:func:`feed_function` with the fixture's constraints in ``documents`` (commit ``c1``)."""
    from lzsync.adapters import constraint_store

    monkeypatch.setattr(constraint_store, "_STORES", {})
    publish_policies(db, constraint_files, "c1")
    return feed_function
