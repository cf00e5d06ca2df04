"""Run one benchmark step in a fresh Python process, so its peak RSS is the step's own."""

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
