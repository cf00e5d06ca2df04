"""What several benchmarks share: latency summaries, the machine's description, and writing
``bench/results.json`` without clobbering the sections other benchmarks put there (the git
benchmark and the load section each own one key of it)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any, Final

import psutil

from lzsync.devtools.emulators import EmulatorError, sdk_root
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.replay import percentile

RESULTS: Final = project_root() / "bench" / "results.json"
_EMULATOR_COMPONENTS: Final = ("cloud-firestore-emulator", "pubsub-emulator")


def stats_ms(seconds: list[float]) -> dict[str, float]:
    """Count, p50, p99 and max of durations given in seconds, in milliseconds."""
    millis = [value * 1000 for value in seconds]
    if not millis:
        return {"count": 0}
    return {
        "count": len(millis),
        "p50_ms": round(percentile(millis, 0.5), 1),
        "p99_ms": round(percentile(millis, 0.99), 1),
        "max_ms": round(max(millis), 1),
    }


def _emulator_versions() -> dict[str, str]:
    """Installed versions from the SDK's component snapshots (no network, unlike
    ``gcloud components list``)."""
    versions: dict[str, str] = {}
    try:
        install = sdk_root() / ".install"
    except EmulatorError:
        return versions
    for component in _EMULATOR_COMPONENTS:
        path = install / f"{component}.snapshot.json"
        if not path.exists():
            continue
        for entry in json.loads(path.read_text()).get("components", []):
            if entry.get("id") == component:
                versions[component] = entry["version"]["version_string"]
    return versions


def _java_version() -> str | None:
    try:
        result = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    lines = result.stderr.strip().splitlines()
    return lines[0] if lines else None


def machine() -> dict[str, Any]:
    """What the figures were measured on: enough to tell whether two runs are comparable."""
    return {
        "cpus": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "python": platform.python_version(),
        "java": _java_version(),
        "emulators": _emulator_versions(),
    }


def read_results(path: Path = RESULTS) -> dict[str, Any]:
    if not path.exists():
        return {}
    loaded = json.loads(path.read_text())
    return loaded if isinstance(loaded, dict) else {}


def merge_results(updates: dict[str, Any], path: Path = RESULTS) -> None:
    """Replace only the top-level keys in ``updates``; every other key in the file stays."""
    results = {**read_results(path), **updates}
    path.write_text(json.dumps(results, indent=2) + "\n")
