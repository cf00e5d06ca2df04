"""The same targets driven by hypothesis: raw bytes, and bytes of structured documents (JSON
objects with the field names the parsers look for, YAML, dates), for a bounded time."""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import TARGETS

_KEYS = st.sampled_from(
    [
        "message",
        "messageId",
        "message_id",
        "data",
        "attributes",
        "publishTime",
        "subscription",
        "asset",
        "name",
        "assetType",
        "resource",
        "window",
        "startTime",
        "deleted",
        "priorAsset",
        "priorAssetState",
        "iamPolicy",
        "bindings",
        "ancestors",
        "ref",
        "before",
        "after",
        "repository",
        "full_name",
        "owner",
        "commits",
        "trigger",
        "repo",
        "apiVersion",
        "kind",
        "metadata",
        "spec",
        "match",
        "parameters",
        "labels",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(["2024-05-01T00:00:00Z", "0" * 40, "refs/heads/main", "\ud800", "a\0b"])
)
_JSON: Any = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(_KEYS | st.text(), inner, max_size=6)
    ),
    max_leaves=30,
)


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")


_BATCH = 50
INPUTS = st.binary(max_size=4096) | _JSON.map(_encode)


def fuzz_for(target: str, seconds: float) -> tuple[int, str | None]:
    """(executions, the crash or None) of hypothesis examples of ``target`` for about
    ``seconds``; the crash names the exception and the input hypothesis shrank it to."""
    function = TARGETS[target]
    deadline = time.monotonic() + seconds
    executions = 0

    @settings(
        max_examples=_BATCH,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(INPUTS)
    def check(data: bytes) -> None:
        nonlocal executions
        if executions and time.monotonic() > deadline:
            return  # the rest of this batch is skipped, not run (never the first example:
            # on a loaded machine hypothesis can spend the whole budget warming up)
        executions += 1
        function(data)

    try:
        while time.monotonic() < deadline or not executions:
            check()
    except Exception as error:
        crash = f"{target}: {type(error).__name__}: {error}"
        print(crash)
        return executions, crash
    return executions, None
