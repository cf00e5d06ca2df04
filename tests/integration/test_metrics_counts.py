"""A real snapshot through the emulators: the wire counters equal what the run reports."""

from __future__ import annotations

import pytest

from lzsync import metrics
from lzsync.adapters.firestore_metering import MeteredClient
from lzsync.devtools.asset_server import AssetServer
from lzsync.devtools.simulator import Simulator
from tests.conftest import PROJECT_ID
from tests.integration.test_asset_snapshot import snapshot

SIZE = 1200


@pytest.fixture
def estate():
    simulator = Simulator(size=SIZE, seed=11)
    server = AssetServer(simulator).start()
    yield simulator, server
    server.stop()


def test_snapshot_writes_and_reads_are_counted_as_the_run_reports_them(db, estate):
    simulator, server = estate
    metered = MeteredClient(project=PROJECT_ID)
    metrics.reset()

    first = snapshot(metered, server, simulator)
    counted = metrics.snapshot()

    assert first.created == SIZE
    # The run tallies the lease's release (a delete, billed as one) among its writes; its
    # first run reads up to two documents more than it tallies (docs/cost.md).
    writes, deletes = counted[metrics.FIRESTORE_WRITES], counted[metrics.FIRESTORE_DELETES]
    assert writes >= SIZE
    assert (writes + deletes, deletes) == (first.counts.writes, 1)
    assert first.counts.reads <= counted[metrics.FIRESTORE_READS] <= first.counts.reads + 2
    assert counted[metrics.CAI_LIST_PAGES] == first.pages
    assert counted[metrics.FIRESTORE_BYTES_WRITTEN] > SIZE * 200

    metrics.reset()
    again = snapshot(metered, server, simulator)
    counted = metrics.snapshot()

    assert again.written == 0
    writes, deletes = counted[metrics.FIRESTORE_WRITES], counted[metrics.FIRESTORE_DELETES]
    assert writes + deletes == again.counts.writes
    assert counted[metrics.FIRESTORE_READS] == again.counts.reads
