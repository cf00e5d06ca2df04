"""``make bench`` (packages): cold import time of each deployable function.

What a cold start pays before the first request, beyond the platform's own start: importing the
function's ``main.py`` (functions-framework, the Google clients, the library). Each sample is a
fresh Python process importing from the packaged folder (``make package``'s output, so the
library is the packaged copy); the median of several runs is reported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.package import FUNCTIONS, package

RUNS = 5
RESULTS = project_root() / "bench" / "results-imports.json"
_MEASURE = (
    "import time; started = time.perf_counter(); import main; print(time.perf_counter() - started)"
)


def _import_seconds(folder: Path) -> float:
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE],
        cwd=folder,
        env={**os.environ, "NO_GCE_CHECK": "True"},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "runs": RUNS, "functions": {}}
    with tempfile.TemporaryDirectory() as work:
        for folder in package(Path(work)):
            _import_seconds(folder)  # first run compiles the package's bytecode
            samples = [_import_seconds(folder) for _ in range(RUNS)]
            results["functions"][folder.name] = {
                "median_ms": round(statistics.median(samples) * 1000),
                "max_ms": round(max(samples) * 1000),
            }
            print(f"{folder.name:<16} {results['functions'][folder.name]}", flush=True)
    assert list(results["functions"]) == list(FUNCTIONS)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
