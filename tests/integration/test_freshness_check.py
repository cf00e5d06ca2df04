"""The scheduled freshness check against the Firestore emulator, with a local HTTP receiver
standing in for the chat webhook: one alert when a layer goes stale, one when it recovers, none
repeated, none lost when the webhook is down."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from lzsync.devtools.http_server import BackgroundServer, QuietHandler
from lzsync.services import freshness_http
from lzsync.services.freshness_check import STALE_ALERT
from lzsync.settings import Settings
from tests.conftest import PROJECT_ID
from tests.helpers import scheduled_function


class ChatReceiver(BackgroundServer):
    """Records every message posted to it; answers ``status`` (a test can make it fail)."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.status = 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server names handlers so
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.status == 200:
                    with receiver._lock:
                        receiver.messages.append(json.loads(body))
                self.reply(receiver.status, b"ok", "text/plain")

        super().__init__(Handler)


@pytest.fixture
def chat():
    receiver = ChatReceiver()
    receiver.start_serving()
    yield receiver
    receiver.stop()


def settings_with(chat: ChatReceiver, **overrides) -> Settings:
    return Settings(
        _env_file=None,
        project_id=PROJECT_ID,
        alert_webhook_url=chat.endpoint,
        freshness_layers=("git", "assets"),
        **overrides,
    )


def set_status(db, layer: str, hours_ago: float, state: str = "ok") -> None:
    db.collection("sync_status").document(layer).set(
        {
            "layer": layer,
            "state": state,
            "last_success": datetime.now(UTC) - timedelta(hours=hours_ago),
            "expected_interval_seconds": 300,
        },
        merge=True,
    )


def status(db, layer: str) -> dict:
    return db.collection("sync_status").document(layer).get().to_dict()


def test_one_alert_when_a_layer_goes_stale_and_one_when_it_recovers(db, chat, caplog):
    set_status(db, "git", hours_ago=7)
    set_status(db, "assets", hours_ago=0.01)
    settings = settings_with(chat)

    with caplog.at_level(logging.INFO, logger="lzsync.freshness"):
        first = freshness_http.run_check(settings)
    assert first.changes == {"git": "stale"}
    assert [m["text"].split(" — ")[0] for m in chat.messages] == [
        ":warning: lzsync: git: last success 7.0 h ago (stale)"
    ]
    [line] = [r for r in caplog.records if getattr(r, "alert", None) == STALE_ALERT]
    assert line.levelname == "ERROR"
    assert line.layer == "git"
    git = status(db, "git")
    assert git["state"] == "stale"
    assert git["stale"] is True
    assert git["stale_since"]
    assert status(db, "assets")["freshness"]["state"] == "fresh"

    # Still stale: no second message, no rewrite of the status.
    updated_at = status(db, "git")["updated_at"]
    again = freshness_http.run_check(settings)
    assert again.changes == {}
    assert len(chat.messages) == 1
    assert status(db, "git")["updated_at"] == updated_at

    # The layer succeeds again (its own write says ok); the check announces the recovery.
    set_status(db, "git", hours_ago=0)
    recovered = freshness_http.run_check(settings)
    assert recovered.changes == {"git": "recovered"}
    assert "recovered" in chat.messages[-1]["text"]
    assert len(chat.messages) == 2
    git = status(db, "git")
    assert git["stale"] is False
    assert git["stale_since"] is None
    assert git["state"] == "ok"


def test_a_failing_layer_keeps_its_more_precise_state(db, chat):
    set_status(db, "git", hours_ago=9, state="failing")
    freshness_http.run_check(settings_with(chat))
    git = status(db, "git")
    assert git["state"] == "failing"
    assert git["stale"] is True


def test_an_alert_the_webhook_refused_is_sent_by_the_next_check(db, chat):
    set_status(db, "assets", hours_ago=8)
    set_status(db, "git", hours_ago=0)
    chat.status = 503
    down = freshness_http.run_check(settings_with(chat))
    assert down.changes == {"assets": "stale"}
    assert down.notify_failed == ["assets"]
    assert chat.messages == []

    chat.status = 200
    back = freshness_http.run_check(settings_with(chat))
    assert back.changes == {}
    assert back.notified == ["assets"]
    assert len(chat.messages) == 1
    assert "assets" in chat.messages[0]["text"]


def test_per_layer_thresholds_and_a_layer_that_never_ran(db, chat):
    set_status(db, "assets", hours_ago=3)
    settings = settings_with(chat, freshness_stale_after_seconds={"assets": 2 * 3600})
    outcome = freshness_http.run_check(settings)
    assert outcome.changes == {"assets": "stale", "git": "stale"}  # git has no status at all
    assert any("git: never succeeded" in m["text"] for m in chat.messages)


@pytest.fixture
def http(monkeypatch, emulators, chat):
    monkeypatch.setenv("LZSYNC_ALERT_WEBHOOK_URL", chat.endpoint)
    monkeypatch.setenv("LZSYNC_FRESHNESS_LAYERS", '["git"]')
    with scheduled_function("freshness_check") as client:
        yield client


def test_the_function_answers_every_layers_freshness(db, http):
    set_status(db, "git", hours_ago=0.5)
    reply = http.post("/")
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["layers"]["git"]["state"] == "late"
    assert 1700 < body["layers"]["git"]["age_seconds"] < 1900
