"""The harness every test and the demo rely on: it starts real emulators, answers only once they
are ready, and leaves no process or port behind."""

from __future__ import annotations

import os
import socket

import pytest
from google.cloud import firestore

from lzsync.devtools.emulators import EmulatorSuite, running_emulators


def port_is_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_emulators_start_ready_and_stop_without_leftovers(tmp_path, monkeypatch):
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    with running_emulators("harness-check", tmp_path) as suite:
        assert os.environ["FIRESTORE_EMULATOR_HOST"] == suite.firestore.host
        client = firestore.Client(project="harness-check")
        client.collection("probe").document("one").set({"ok": True})
        assert client.collection("probe").document("one").get().get("ok") is True
        started = [suite.firestore, suite.pubsub]

    for emulator in started:
        assert not process_alive(emulator.process.pid)
        assert not port_is_open(emulator.port)
    assert "FIRESTORE_EMULATOR_HOST" not in os.environ


def test_reset_empties_the_database(emulators: EmulatorSuite):
    client = firestore.Client(project=emulators.project_id)
    client.collection("probe").document("x").set({"a": 1})

    emulators.reset_firestore()

    assert client.collection("probe").get() == []


def test_a_missing_sdk_is_a_clear_error(monkeypatch, tmp_path):
    from lzsync.devtools.emulators import EmulatorError, start_firestore

    monkeypatch.setenv("CLOUDSDK_ROOT_DIR", str(tmp_path / "no-sdk"))
    with pytest.raises(EmulatorError, match="not installed"):
        start_firestore(tmp_path)
