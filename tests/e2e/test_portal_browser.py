"""The Portal's sync-status page (``portal/dist``, built by ``make setup``) in a real browser:
Debian's Chromium driven by Playwright, the page served on loopback with a config for the
Firestore emulator, and the data written by the real functions (webhook → git_sync,
asset_events) or by an admin client.

"Within 2 seconds" is measured from the moment this test's own Python listener on Firestore
sees a document land to the moment the page first rendered it (the page stamps each activity
entry with ``data-shown-at``, its ``Date.now()``; same machine, same clock). The page may even
be first. For cards, which carry no stamp, the wait for the DOM is bounded by the same 2 s
from the landing, so the measure is an upper bound there.

Screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore, pubsub_v1
from playwright.sync_api import Browser, Page, sync_playwright

from lzsync.devtools.feed_player import stamped
from lzsync.devtools.landing_zone import (
    REPO_NAME,
    ZERO_SHA,
    move_branch,
    project_root,
    push_payload,
)
from lzsync.devtools.portal_server import running_portal
from lzsync.devtools.simulator import Simulator
from lzsync.devtools.stack import StackConfig, stack_session
from lzsync.settings import RepoConfig
from tests.conftest import PROJECT_ID
from tests.helpers import snapshot_of

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
VISIBLE_WITHIN_SECONDS = 2.0
LANDING_TIMEOUT_SECONDS = 60.0
ARTIFACTS = project_root() / "test-artifacts"
# Flags for a closed network (see the machine notes): nothing in the background, and every host
# name but loopback fails to resolve, so the page can reach only what this test started.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

NOT_LOOPBACK = re.compile(r"^(?!http://127\.0\.0\.1:)")
# NOTE: after a network error the SDK's WebChannel transport fetches this image to tell "offline"
# from "server unreachable"; no setting turns it off. The route above refuses it.
CONNECTIVITY_PROBE = re.compile(r"^https?://www\.google\.com/images/cleardot\.gif\?")

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip(
        f"{CHROMIUM} missing (apt-get install chromium; .ci/run installs it in CI)",
        allow_module_level=True,
    )


class Landings:
    """When each ``activity`` entry first reached a listener of this test (epoch seconds, the
    clock the page's ``Date.now()`` reads too)."""

    def __init__(self, client: firestore.Client) -> None:
        self._condition = threading.Condition()
        self.entries: dict[str, tuple[dict[str, Any], float]] = {}
        feed = (
            client.collection("activity")
            .order_by("time", direction=firestore.Query.DESCENDING)
            .limit(50)
        )
        self._watch = feed.on_snapshot(self._on_change)

    def _on_change(self, _docs: Any, changes: Any, _read_time: Any) -> None:
        now = time.time()
        with self._condition:
            for change in changes:
                if change.type.name == "ADDED" and change.document.id not in self.entries:
                    self.entries[change.document.id] = (change.document.to_dict() or {}, now)
            self._condition.notify_all()

    def wait_for(self, matches: Callable[[dict[str, Any]], bool]) -> tuple[str, float]:
        """(id, landed at) of the first entry that ``matches``."""

        def found() -> tuple[str, float] | None:
            for doc_id, (entry, landed) in self.entries.items():
                if matches(entry):
                    return doc_id, landed
            return None

        with self._condition:
            if not self._condition.wait_for(lambda: found() is not None, LANDING_TIMEOUT_SECONDS):
                raise TimeoutError("activity entry never landed in Firestore")
            result = found()
            assert result is not None
            return result

    def close(self) -> None:
        self._watch.unsubscribe()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, emulators, db) -> Iterator[Page]:
    """The page, served for the emulator and open; after the test, proof that the browser
    asked only our loopback servers for anything (but the SDK's connectivity probe, refused
    inside the browser) and that no script failed."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # Matched by Playwright's driver: loopback requests pass untouched, others never leave.
    context.route(NOT_LOOPBACK, lambda route: route.abort())
    opened = context.new_page()
    asked: list[str] = []
    failures: list[str] = []
    opened.on("request", lambda sent: asked.append(sent.url))
    opened.on("pageerror", lambda error: failures.append(str(error)))
    try:
        with running_portal(PROJECT_ID, emulators.env()["FIRESTORE_EMULATOR_HOST"]) as url:
            opened.goto(url)
            opened.wait_for_selector("body[data-connection='live']", timeout=15_000)
            yield opened
    finally:
        context.close()
    assert [
        url for url in asked if NOT_LOOPBACK.match(url) and not CONNECTIVITY_PROBE.match(url)
    ] == []
    assert failures == []


def shown_at(page: Page, doc_id: str, landed: float) -> float:
    """Wait (up to 2 s after ``landed``) for the page to show the activity entry; returns how
    long after its landing the page first rendered it."""
    entry = page.locator(f"#activity li[data-id='{doc_id}']")
    entry.wait_for(timeout=_remaining_ms(landed))
    return int(entry.get_attribute("data-shown-at") or 0) / 1000 - landed


def _remaining_ms(since: float) -> float:
    # At least 1 ms: Playwright reads a timeout of 0 as "wait forever".
    return max(1.0, (since + VISIBLE_WITHIN_SECONDS - time.time()) * 1000)


def test_a_push_and_an_asset_event_appear_on_the_page_within_two_seconds(
    page, emulators, tmp_path, unique, remote, landing_zone_history
):
    config = StackConfig(
        repos=(RepoConfig(name=REPO_NAME, url=str(remote)),),
        webhook_secret=secrets.token_hex(16),
        work_dir=tmp_path,
        name_prefix=unique,
        functions=("git_sync", "webhook", "asset_events"),
    )
    with stack_session(emulators.env(), config) as session:
        landings = Landings(session.client)
        try:
            simulator = Simulator(size=120, seed=3)
            assert snapshot_of(simulator).outcome == "complete"
            total = session.client.document("inventory/assets").get().get("total")
            page.locator("#inventory [data-field='total']").filter(has_text=str(total)).wait_for(
                timeout=VISIBLE_WITHIN_SECONDS * 1000
            )

            newest = landing_zone_history[-1]
            move_branch(remote, newest.sha)
            pushed = session.sender.deliver("push", push_payload(ZERO_SHA, [newest]))
            assert pushed.body["status"] == "accepted"
            docs_id, docs_landed = landings.wait_for(lambda e: e.get("commit") == newest.sha)
            docs_delay = shown_at(page, docs_id, docs_landed)
            session.watcher.wait_for(lambda s: s.get("last_commit") == newest.sha, timeout=10)
            git_landed = time.time()
            page.locator("[data-layer='git'] [data-field='detail']").filter(
                has_text=newest.sha[:7]
            ).wait_for(timeout=_remaining_ms(git_landed))

            change = next(simulator.changes(0, 1))
            publisher = pubsub_v1.PublisherClient()
            published = time.time()
            publisher.publish(
                publisher.topic_path(PROJECT_ID, config.events_topic),
                stamped(change, datetime.now(UTC)),
            ).result(timeout=30)
            asset = change["asset"]["name"]
            event_id, event_landed = landings.wait_for(lambda e: e.get("asset") == asset)
            event_delay = shown_at(page, event_id, event_landed)
            page.locator("#doc-list li").first.click()
            page.screenshot(path=ARTIFACTS / "portal-live.png", full_page=True)
        finally:
            landings.close()

    print(
        f"\nlanded → shown: docs sync {docs_delay * 1000:.0f} ms, asset event "
        f"{event_delay * 1000:.0f} ms (publish → landed {event_landed - published:.2f} s)"
    )
    assert docs_delay <= VISIBLE_WITHIN_SECONDS
    assert event_delay <= VISIBLE_WITHIN_SECONDS
    for layer in ("webhook", "git", "assets"):
        assert page.locator(f".card[data-layer='{layer}']").get_attribute("data-freshness") == "ok"


def _status(age: timedelta, interval_seconds: int, **fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "state": "ok",
        "updated_at": now,
        "last_attempt": now,
        "last_success": now - age,
        "expected_interval_seconds": interval_seconds,
        **fields,
    }


def test_cards_turn_amber_past_their_interval_and_red_past_six_hours(page, db):
    statuses = db.collection("sync_status")
    statuses.document("git").set(_status(timedelta(minutes=3), 21600, last_commit="a" * 40))
    statuses.document("assets").set(_status(timedelta(minutes=1), 300, last_outcome="complete"))
    for layer, expected in (("git", "ok"), ("assets", "ok")):
        page.locator(f".card[data-layer='{layer}'][data-freshness='{expected}']").wait_for(
            timeout=VISIBLE_WITHIN_SECONDS * 1000
        )

    written = time.time()
    statuses.document("assets").set(_status(timedelta(hours=7), 300, last_outcome="complete"))
    statuses.document("history").set(_status(timedelta(hours=25), 86400, last_partition="x"))
    statuses.document("events").set(
        {"state": "stale", "stale_since": datetime.now(UTC), "last_event_time": datetime.now(UTC)}
    )

    for layer, expected in (("assets", "red"), ("history", "amber"), ("events", "red")):
        page.locator(f".card[data-layer='{layer}'][data-freshness='{expected}']").wait_for(
            timeout=_remaining_ms(written)
        )
    assert page.locator(".card[data-layer='git']").get_attribute("data-freshness") == "ok"
    assert page.locator(".card[data-layer='webhook']").get_attribute("data-freshness") == "none"
    page.screenshot(path=ARTIFACTS / "portal-freshness.png", full_page=True)


def test_the_page_shows_a_lost_connection_and_catches_up_when_it_returns(page, db, browser):
    context = page.context
    context.set_offline(True)
    page.locator("#connection[data-connection='offline']").wait_for(timeout=5_000)
    page.screenshot(path=ARTIFACTS / "portal-offline.png")

    now = datetime.now(UTC)
    db.collection("activity").document("while-offline").set(
        {"layer": "events", "kind": "created", "asset": "//x/y/while-offline", "time": now}
    )
    time.sleep(0.5)
    assert page.locator("#activity li[data-id='while-offline']").count() == 0

    context.set_offline(False)
    page.locator("#connection[data-connection='live']").wait_for(timeout=20_000)
    page.locator("#activity li[data-id='while-offline']").wait_for(timeout=20_000)
