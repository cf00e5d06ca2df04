"""A run's lease is renewed at half-life and lost to another owner (no Firestore needed: the
lease's transactions are exercised against the emulator by tests/faults/test_concurrency.py)."""

from __future__ import annotations

import pytest

from lzsync.adapters.lease import HeldLease
from lzsync.errors import LeaseLost, SyncInProgress


class FakeLease:
    def __init__(self) -> None:
        self.owner = "run-a"
        self.renewals = 0

    def renew(self, owner: str, seconds: int) -> bool:
        self.renewals += 1
        return owner == self.owner


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_young_lease_costs_nothing_and_a_half_spent_one_is_renewed():
    lease, clock = FakeLease(), Clock()
    held = HeldLease(lease, "run-a", 10, "assets:org", clock=clock)  # type: ignore[arg-type]

    clock.now += 4.9
    assert held.hold() is False
    clock.now += 0.2
    assert held.hold() is True
    clock.now += 4.9
    assert held.hold() is False, "renewed at 105.1: young again"
    assert lease.renewals == 1


def test_a_lease_another_run_took_stops_the_run():
    lease, clock = FakeLease(), Clock()
    held = HeldLease(lease, "run-a", 10, "assets:org", clock=clock)  # type: ignore[arg-type]
    lease.owner = "run-b"
    clock.now += 6

    with pytest.raises(LeaseLost) as raised:
        held.hold()
    assert isinstance(raised.value, SyncInProgress)
    assert "assets:org" in str(raised.value)
