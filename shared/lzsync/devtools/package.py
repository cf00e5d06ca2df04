"""``make package``: one self-contained source folder per function, ready for
``gcloud functions deploy --source``.

Each folder gets the function's ``main.py``, a copy of the ``lzsync`` library without
``devtools`` (never deployed), and a ``requirements.txt`` with the runtime pins of
``pyproject.toml``.
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path
from typing import Final

from lzsync.devtools.landing_zone import project_root

FUNCTIONS: Final = (
    "webhook",
    "git_sync",
    "asset_snapshot",
    "asset_events",
    "bq_export",
    "freshness_check",
)
_NOT_DEPLOYED: Final = ("devtools", "__pycache__", "*.pyc")


def runtime_requirements(root: Path) -> list[str]:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def package(destination: Path) -> list[Path]:
    root = project_root()
    requirements = "\n".join(runtime_requirements(root)) + "\n"
    built = []
    for name in FUNCTIONS:
        target = destination / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copy2(root / "functions" / name / "main.py", target / "main.py")
        shutil.copytree(
            root / "shared" / "lzsync",
            target / "lzsync",
            ignore=shutil.ignore_patterns(*_NOT_DEPLOYED),
        )
        (target / "requirements.txt").write_text(requirements)
        built.append(target)
    return built


def main() -> None:
    destination = Path(sys.argv[1] if len(sys.argv) > 1 else "dist/functions")
    for folder in package(destination):
        print(f"packaged {folder}")


if __name__ == "__main__":
    main()
