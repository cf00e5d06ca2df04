"""Benchmark processes of their own: a measured step in a fresh Python process (so its peak
RSS is the step's own), and the simulated estate served by the ListAssets server (so its
memory and CPU are not counted against lzsync)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from lzsync.devtools.landing_zone import project_root


def measure_in_child(module: str, env: dict[str, str]) -> dict[str, Any]:
    """``python -m <module> --child`` with ``env``; its last stdout line is a JSON result."""
    result = subprocess.run(
        [sys.executable, "-m", module, "--child"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=project_root(),
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def serve_estate(size: int) -> tuple[subprocess.Popen[str], str]:
    """A ``size``-asset simulated estate on the local ListAssets server, in its own process
    group (stop it with ``stop_process_group``); returns the process and its endpoint."""
    server = subprocess.Popen(
        [sys.executable, "-m", "lzsync.devtools.asset_server", "--size", str(size)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert server.stdout is not None
    return server, server.stdout.readline().strip()
