"""``make fuzz``: every target in :mod:`tests.fuzz.targets` for a bounded time.

With atheris installed each target runs coverage-guided in its own process for
``FUZZ_SECONDS / len(targets)`` (default 60 s in all), seeded with the bodies of the bad-input
corpus; without it, hypothesis generates raw and structured inputs for the same share of time.
A crash prints the input (atheris also writes ``crash-*`` files into ``.fuzz/``) and the run
exits non-zero: turn it into a corpus case and fix the library.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from tests.fuzz.targets import TARGETS

ROOT: Final = Path(__file__).resolve().parents[2]
CORPUS: Final = ROOT / "tests" / "corpus"
WORK: Final = ROOT / ".fuzz"
_DONE: Final = re.compile(r"Done (\d+) runs in (\d+) second")


def seeds(target: str) -> Path:
    """A fresh seed directory for ``target``: every corpus body file (atheris mutates them)."""
    directory = WORK / "seeds" / target
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for index, path in enumerate(sorted(CORPUS.rglob("*"))):
        if path.is_file() and path.suffix not in {".py", ".yaml", ".pyc"}:
            shutil.copyfile(path, directory / f"{index:04d}{path.suffix}")
    return directory


def run_atheris(target: str, seconds: int) -> tuple[int, bool]:
    """(executions, crashed) of one coverage-guided run in a child process."""
    argv = [
        sys.executable,
        "-m",
        "tests.fuzz.atheris_main",
        target,
        f"-max_total_time={seconds}",
        "-rss_limit_mb=2048",
        "-timeout=10",
        f"-artifact_prefix={WORK}/crash-{target}-",
        str(seeds(target)),
    ]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    done = _DONE.search(result.stderr)
    crashed = result.returncode != 0
    if crashed:
        sys.stderr.write(result.stderr[-4000:])
    return (int(done.group(1)) if done else 0), crashed


def run_hypothesis(target: str, seconds: int) -> tuple[int, bool]:
    from tests.fuzz.hypothesis_driver import fuzz_for

    return fuzz_for(target, seconds)


def main() -> int:
    total = int(os.environ.get("FUZZ_SECONDS", "60"))
    share = max(1, total // len(TARGETS))
    engine = "atheris" if importlib.util.find_spec("atheris") else "hypothesis"
    run = run_atheris if engine == "atheris" else run_hypothesis
    WORK.mkdir(exist_ok=True)
    print(f"fuzzing {len(TARGETS)} targets with {engine}, {share} s each")
    failures = 0
    for target in TARGETS:
        started = time.monotonic()
        executions, crashed = run(target, share)
        failures += crashed
        print(
            f"{target:16} {executions:>9} executions {time.monotonic() - started:6.1f} s "
            f"{'CRASH' if crashed else 'ok'}",
            flush=True,
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
