"""One atheris (libFuzzer) run over every target: ``python -m tests.fuzz.atheris_main COUNTS
ARGS``. The first input byte picks the target, so one process (one start-up, one coverage map)
shares the time budget; the library is instrumented on import, so the fuzzer is guided by
lzsync's own branches. Executions per target are written to COUNTS as the run goes (libFuzzer
ends the process with C ``exit``, so nothing runs after its last input)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris  # type: ignore[import-not-found]

with atheris.instrument_imports(include=["lzsync"]):
    from tests.fuzz.targets import TARGETS

NAMES = sorted(TARGETS)
_COUNTS = dict.fromkeys(NAMES, 0)
_WRITE_EVERY = 2000


def _one(data: bytes) -> None:
    if not data:
        return
    name = NAMES[data[0] % len(NAMES)]
    _COUNTS[name] += 1
    if sum(_COUNTS.values()) % _WRITE_EVERY == 0:
        Path(sys.argv[1]).write_text(json.dumps(_COUNTS))
    TARGETS[name](data[1:])


def main() -> None:
    atheris.Setup([sys.argv[0], *sys.argv[2:]], _one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
