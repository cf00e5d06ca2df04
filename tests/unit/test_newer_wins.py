from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from lzsync.logic.newer_wins import HeldVersion, decide

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_first_event_creates():
    assert decide(HeldVersion(), at(1), deleted=False) == "create"


def test_a_newer_event_updates_and_an_older_or_equal_one_is_ignored():
    held = HeldVersion(document_time=at(10))
    assert decide(held, at(11), deleted=False) == "update"
    assert decide(held, at(10), deleted=False) == "ignore_stale"
    assert decide(held, at(9), deleted=False) == "ignore_stale"


def test_a_tombstone_blocks_late_updates_but_not_a_later_recreation():
    held = HeldVersion(tombstone_time=at(20))
    assert decide(held, at(15), deleted=False) == "ignore_stale"
    assert decide(held, at(25), deleted=False) == "create"


def test_a_delete_of_an_absent_asset_still_leaves_a_tombstone():
    assert decide(HeldVersion(), at(5), deleted=True) == "delete"


# A model of the store: (document_time, tombstone_time), applying decisions as the store does.
def apply(held: HeldVersion, time: datetime, deleted: bool) -> HeldVersion:
    decision = decide(held, time, deleted)
    if decision == "ignore_stale":
        return held
    if decision == "delete":
        return HeldVersion(document_time=None, tombstone_time=time)
    return HeldVersion(document_time=time, tombstone_time=None)


events = st.lists(
    st.tuples(st.integers(min_value=0, max_value=50), st.booleans()), min_size=1, max_size=12
)


@given(events=events, order=st.randoms(use_true_random=False), copies=st.integers(1, 3))
def test_any_order_and_duplication_ends_where_time_order_ends(events, order, copies):
    # One event per time (a version begins once); duplicates are delivered `copies` times.
    unique = dict(events)
    in_time_order = sorted(unique.items())
    shuffled = [item for item in in_time_order for _ in range(copies)]
    order.shuffle(shuffled)

    expected = HeldVersion()
    for time, deleted in in_time_order:
        expected = apply(expected, at(time), deleted)
    actual = HeldVersion()
    for time, deleted in shuffled:
        actual = apply(actual, at(time), deleted)

    assert (actual.document_time is None) == (expected.document_time is None)
    assert actual.newest == expected.newest


def test_a_listed_version_yields_only_to_a_strictly_newer_real_time_one():
    from lzsync.logic.newer_wins import listing_superseded

    assert not listing_superseded(at(10), None)
    assert not listing_superseded(at(10), at(10))
    assert listing_superseded(at(10), at(11))
    assert listing_superseded(None, at(1)), "a listing without a version time yields"
