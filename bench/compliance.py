"""``make bench`` (compliance): the landing zone's 28 constraints over a simulated estate.

Pure evaluation, no I/O: the time the snapshot adds to judge a full listing of 100,000 assets,
and the time the real-time layer adds per change (one asset against every constraint).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from lzsync.devtools import landing_zone
from lzsync.devtools.replay import percentile
from lzsync.devtools.simulator import Simulator
from lzsync.logic.compliance.constraints import is_constraint_path, parse_constraint
from lzsync.logic.compliance.engine import evaluate
from lzsync.logic.compliance.registry import Constraint

SIZE = 100_000
# The compliance estate: hardened assets of every judged type, 5 % of them with one defect.
DEFECT_SHARE = 0.05
PER_EVENT_SAMPLES = 5_000
RESULTS = landing_zone.project_root() / "bench" / "results-compliance.json"


def _fixture_constraints() -> list[Constraint]:
    with tempfile.TemporaryDirectory() as work:
        repository = landing_zone.build_repository(Path(work) / "lz.git")
        paths = landing_zone.git(repository, "ls-tree", "-r", "--name-only", landing_zone.BRANCH)
        return [
            parse_constraint(
                landing_zone.git(repository, "show", f"{landing_zone.BRANCH}:{path}"), path
            )
            for path in paths.split()
            if is_constraint_path(path)
        ]


def main() -> None:
    constraints = _fixture_constraints()
    assets = list(Simulator(SIZE, defect_share=DEFECT_SHARE).assets())
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count()},
        "constraints": len(constraints),
        "assets": len(assets),
        "defect_share": DEFECT_SHARE,
    }
    started = time.perf_counter()
    violations = violating = 0
    for asset in assets:
        found = evaluate(asset, constraints).violations
        violations += len(found)
        violating += bool(found)
    seconds = time.perf_counter() - started
    results["full_estate"] = {
        "seconds": round(seconds, 2),
        "assets_per_second": round(len(assets) / seconds),
        "violations": violations,
        "violating_assets": violating,
    }
    print(f"full estate: {results['full_estate']}", flush=True)
    samples = []
    for asset in assets[:: max(1, len(assets) // PER_EVENT_SAMPLES)][:PER_EVENT_SAMPLES]:
        tick = time.perf_counter()
        evaluate(asset, constraints)
        samples.append((time.perf_counter() - tick) * 1_000_000)
    results["per_event_microseconds"] = {
        "p50": round(percentile(samples, 0.5), 1),
        "p99": round(percentile(samples, 0.99), 1),
        "samples": len(samples),
    }
    print(f"per event: {results['per_event_microseconds']}", flush=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
