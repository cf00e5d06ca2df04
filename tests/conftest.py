"""Shared fixtures. The emulators (Firestore + Pub/Sub together, BigQuery alone) start once per
session (only when a test asks for them) and are always stopped; Firestore is emptied before each
test that uses it; Pub/Sub and BigQuery, which have no reset, get unique names per test. Nothing
here talks to any host but loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import firestore

from lzsync.devtools import landing_zone
from lzsync.devtools.bigquery_emulator import BigQueryEmulator, running_bigquery
from lzsync.devtools.emulators import EmulatorSuite, running_emulators

PROJECT_ID = "lzsync-test"

# Before any client is created: never look for Google credentials or the metadata server.
os.environ["NO_GCE_CHECK"] = "True"
os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorSuite]:
    with running_emulators(PROJECT_ID, tmp_path_factory.mktemp("emulator-logs")) as suite:
        yield suite


@pytest.fixture(scope="session")
def bigquery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigQueryEmulator]:
    """The BigQuery emulator (bqemulator), one per session. It has no reset: tests create their
    own dataset with a unique name. ``bigquery.client()`` gives a real client aimed at it."""
    with running_bigquery(PROJECT_ID, tmp_path_factory.mktemp("bigquery")) as emulator:
        yield emulator


@pytest.fixture
def db(emulators: EmulatorSuite) -> firestore.Client:
    """A Firestore client on an emptied emulator database."""
    emulators.reset_firestore()
    return firestore.Client(project=PROJECT_ID)


@pytest.fixture
def unique() -> str:
    """A short unique prefix for Pub/Sub names (the emulator has no reset; ids need 3+ chars)."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def landing_zone_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture history as a bare repository, built once; tests never move its refs."""
    return landing_zone.build_repository(tmp_path_factory.mktemp("lz") / "source.git")


@pytest.fixture(scope="session")
def landing_zone_history(landing_zone_source: Path) -> list[landing_zone.CommitInfo]:
    return landing_zone.history(landing_zone_source)


@pytest.fixture
def remote(landing_zone_source: Path, tmp_path: Path) -> Path:
    """A private copy of the landing zone whose branch a test may move, like a remote."""
    return landing_zone.clone_shared(landing_zone_source, tmp_path / "remote.git")
