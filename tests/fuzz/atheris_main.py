"""One atheris (libFuzzer) run of one target: ``python -m tests.fuzz.atheris_main TARGET ARGS``.
The library is instrumented on import, so the fuzzer is guided by lzsync's own branches."""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-not-found]

with atheris.instrument_imports(include=["lzsync"]):
    from tests.fuzz.targets import TARGETS


def main() -> None:
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
