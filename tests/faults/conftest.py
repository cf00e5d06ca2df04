"""Fault-test fixtures. Outage tests get their OWN pair of emulators (never the session's
shared ones) with a :class:`FaultProxy` in front of each: clients and functions are pointed at
the proxies, so a test can partition either emulator from lzsync and heal it on the same port
while the emulator keeps its data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from google.cloud import firestore

from lzsync.adapters import clients
from lzsync.devtools.emulators import EmulatorSuite
from lzsync.devtools.fault_proxy import FaultProxy
from tests.conftest import PROJECT_ID


@dataclass
class Partitionable:
    """Own emulators and the proxies in front of them; ``env()`` aims clients at the proxies."""

    suite: EmulatorSuite
    firestore: FaultProxy
    pubsub: FaultProxy

    def env(self) -> dict[str, str]:
        return {
            **self.suite.env(),
            "FIRESTORE_EMULATOR_HOST": self.firestore.host,
            "PUBSUB_EMULATOR_HOST": self.pubsub.host,
        }

    def heal(self) -> None:
        for proxy in (self.firestore, self.pubsub):
            proxy.latency_seconds = 0.0
            proxy.restore()


def _clear_client_caches() -> None:
    """Function-side clients are cached per process: drop them so none outlives its emulator."""
    clients.firestore_client.cache_clear()
    clients.publisher_client.cache_clear()


@pytest.fixture(scope="module")
def partitionable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Partitionable]:
    suite = EmulatorSuite(PROJECT_ID, tmp_path_factory.mktemp("fault-emulators")).start()
    proxies: list[FaultProxy] = []
    saved = {key: os.environ.get(key) for key in suite.env()}
    try:
        assert suite.firestore is not None
        assert suite.pubsub is not None
        proxies.append(FaultProxy(suite.firestore.port).start())
        proxies.append(FaultProxy(suite.pubsub.port).start())
        stack = Partitionable(suite, *proxies)
        os.environ.update(stack.env())
        _clear_client_caches()
        yield stack
    finally:
        for proxy in proxies:
            proxy.stop()
        suite.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _clear_client_caches()


@pytest.fixture
def pdb(partitionable: Partitionable) -> Iterator[firestore.Client]:
    """A Firestore client through the proxy, on an emptied database; always healed after."""
    partitionable.heal()
    partitionable.suite.reset_firestore()
    client = firestore.Client(project=PROJECT_ID)
    yield client
    partitionable.heal()
    client.close()
