"""``make fuzz``: every target in :mod:`tests.fuzz.targets` for a bounded time.

With atheris installed, one coverage-guided process runs every target for ``FUZZ_SECONDS``
(default 60) in all, seeded with the bodies of the bad-input corpus; without it, hypothesis
generates raw and structured inputs, each target for its share of the time.
A crash prints the input (atheris also writes ``crash-*`` files into ``.fuzz/``) and the run
exits non-zero: turn it into a corpus case and fix the library.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from tests.fuzz.targets import TARGETS

NAMES: Final = sorted(TARGETS)

ROOT: Final = Path(__file__).resolve().parents[2]
CORPUS: Final = ROOT / "tests" / "corpus"
WORK: Final = ROOT / ".fuzz"
_DONE: Final = re.compile(r"Done (\d+) runs in (\d+) second\(s\)")
# Parsers are fed short inputs: long ones only slow the run (huge inputs are corpus cases).
MAX_LEN: Final = 4096


def seeds() -> Path:
    """A fresh seed directory: every corpus body of at most ``MAX_LEN`` bytes, once per target
    (the first byte picks the target), for atheris to mutate."""
    directory = WORK / "seeds"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    bodies = [
        path.read_bytes()
        for path in sorted(CORPUS.rglob("*"))
        if path.is_file() and path.suffix in {".body", ".fi"} and path.stat().st_size < MAX_LEN
    ]
    for number, target in enumerate(NAMES):
        for index, body in enumerate(bodies):
            (directory / f"{target}-{index:04d}").write_bytes(bytes([number]) + body)
    return directory


def run_atheris(seconds: int) -> tuple[dict[str, int], bool]:
    """(executions per target, crashed) of one coverage-guided run in a child process."""
    counts = WORK / "counts.json"
    counts.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "tests.fuzz.atheris_main",
        str(counts),
        f"-max_total_time={seconds}",
        f"-max_len={MAX_LEN}",
        "-rss_limit_mb=2048",
        "-timeout=10",
        f"-artifact_prefix={WORK}/crash-",
        str(seeds()),
    ]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    crashed = result.returncode != 0
    if crashed:
        sys.stderr.write(result.stderr[-4000:])
    done = _DONE.search(result.stderr)
    executions = json.loads(counts.read_text()) if counts.exists() else {}
    print(f"libFuzzer: {done.group(0) if done else 'no summary'}")
    return executions, crashed


def run_hypothesis(seconds: int) -> tuple[dict[str, int], bool]:
    from tests.fuzz.hypothesis_driver import fuzz_for

    executions: dict[str, int] = {}
    crashed = False
    for target in NAMES:
        executions[target], failed = fuzz_for(target, seconds / len(NAMES))
        crashed = crashed or failed is not None
    return executions, crashed


def main() -> int:
    total = int(os.environ.get("FUZZ_SECONDS", "60"))
    engine = "atheris" if importlib.util.find_spec("atheris") else "hypothesis"
    WORK.mkdir(exist_ok=True)
    print(f"fuzzing {len(NAMES)} targets with {engine} for {total} s")
    started = time.monotonic()
    executions, crashed = (run_atheris if engine == "atheris" else run_hypothesis)(total)
    for target in NAMES:
        print(f"{target:16} {executions.get(target, 0):>9} executions")
    print(
        f"{sum(executions.values())} executions in {time.monotonic() - started:.1f} s: "
        f"{'CRASH' if crashed else 'no crash'}"
    )
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
