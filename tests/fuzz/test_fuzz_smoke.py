"""A short run of every fuzz target (the long one is ``make fuzz``), and the inputs that once
crashed a parser, kept as regressions: each must now end in a documented error or nothing."""

from __future__ import annotations

import pytest

from tests.fuzz.hypothesis_driver import fuzz_for
from tests.fuzz.targets import TARGETS

# What the first fuzzing runs found (each became a library fix and a corpus case).
FOUND: list[tuple[str, bytes]] = [
    ("pubsub_envelope", b'{"message": {"messageId": "x", "publishTime": 5}}'),
    ("pubsub_envelope", b'{"message": {"messageId": "x"}, "subscription": 7}'),
    ("pubsub_envelope", b'{"message": {"messageId": "x", "attributes": {"a": "\\ud800"}}}'),
    ("pubsub_envelope", b'{"message": {"messageId": "\\ud800"}}'),
    (
        "feed_message",
        b'{"asset": {"name": "n", "assetType": "t", "resource": {"data": {"labels": '
        b'{"a": "\\udc00"}}}}, "window": {"startTime": "2024-01-01T00:00:00Z"}}',
    ),
    (
        "feed_message",
        b'{"asset": {"name": "n", "assetType": "t"}, '
        b'"window": {"startTime": "0001-01-01T00:00:00+14:00"}}',
    ),
    ("export_line", b'{"name": "a", "assetType": "t", "updateTime": "\\ud800"}'),
    ("export_line", b'{"name": "a", "assetType": "\\ud800", "ancestors": ["\\udfff"]}'),
    ("export_line", b"[" * 100_000),
    ("constraint", b"[" * 1_000),
    (
        "constraint",
        b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
        b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n",
    ),
]


@pytest.mark.parametrize(
    ("target", "data"), FOUND, ids=[f"{t}-{i}" for i, (t, _) in enumerate(FOUND)]
)
def test_an_input_that_once_crashed_a_parser_no_longer_does(target, data):
    TARGETS[target](data)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_short_fuzz_run_finds_no_crash(target):
    executions, crash = fuzz_for(target, 0.8)

    assert crash is None, crash
    assert executions > 0
