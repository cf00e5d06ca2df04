from datetime import UTC, datetime, timedelta

from lzsync.logic.circuit import CircuitPolicy

POLICY = CircuitPolicy(failure_threshold=3, open_seconds=600)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_circuit_stays_closed_below_the_threshold():
    assert POLICY.state(2, NOW, NOW) == "closed"


def test_circuit_opens_at_the_threshold():
    assert POLICY.state(3, NOW - timedelta(seconds=10), NOW) == "open"


def test_circuit_half_opens_after_the_cool_down():
    assert POLICY.state(5, NOW - timedelta(seconds=601), NOW) == "half_open"
