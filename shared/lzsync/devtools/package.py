"""``make package``: one deployable source per function, as a folder and a reproducible zip.

Each function gets its ``main.py``, a copy of the ``lzsync`` library without ``devtools``
(never deployed), and a ``requirements.txt`` pinning **every** runtime package — the direct
dependencies of ``pyproject.toml`` and all they pull in, at the versions of ``constraints.txt``
(what the tests ran with) — so a deploy installs exactly what was tested. The zip
(``<name>.zip``, for ``gcloud functions deploy --source`` via a bucket, or any pipeline) is
byte-for-byte reproducible: sorted entries, fixed timestamps and permissions; the folder is what
``infra/`` archives itself.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Final

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
# The Cloud Functions Python 3.11 runtime (Linux): markers are evaluated for it, not the
# machine that packages.
_RUNTIME_MARKERS: Final[dict[str, str]] = {
    **{key: str(value) for key, value in default_environment().items()},
    "python_version": "3.11",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
}
_ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)


class UnpinnedDependency(RuntimeError):
    """A runtime package is missing from constraints.txt: rerun the pin step."""


def runtime_requirements(root: Path) -> list[str]:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def _constraints(root: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (root / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def pinned_requirements(root: Path) -> list[str]:
    """Every package the runtime dependencies need, pinned as constraints.txt pins it."""
    pins = _constraints(root)
    wanted: dict[str, Requirement] = {}
    queue = [Requirement(line) for line in runtime_requirements(root)]
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        if name in wanted:
            continue
        wanted[name] = requirement
        for extra_requirement in metadata.requires(requirement.name) or []:
            needed = Requirement(extra_requirement)
            if needed.marker is None:
                queue.append(needed)
                continue
            for extra in ("", *requirement.extras):
                if needed.marker.evaluate({**_RUNTIME_MARKERS, "extra": extra}):
                    queue.append(needed)
                    break
    missing = sorted(name for name in wanted if name not in pins)
    if missing:
        raise UnpinnedDependency(f"not in constraints.txt: {', '.join(missing)}")
    return [f"{name}=={pins[name]}" for name in sorted(wanted)]


def _zip(folder: Path, archive: Path) -> None:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in files:
            entry = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=_ZIP_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(entry, path.read_bytes())


def package(destination: Path) -> list[Path]:
    """Build every function's folder and zip under ``destination``; returns the folders."""
    root = project_root()
    requirements = "\n".join(pinned_requirements(root)) + "\n"
    built = []
    for name in FUNCTIONS:
        target = destination / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copyfile(root / "functions" / name / "main.py", target / "main.py")
        shutil.copytree(
            root / "shared" / "lzsync",
            target / "lzsync",
            ignore=shutil.ignore_patterns(*_NOT_DEPLOYED),
        )
        (target / "requirements.txt").write_text(requirements)
        _zip(target, destination / f"{name}.zip")
        built.append(target)
    return built


def main() -> None:
    destination = Path(sys.argv[1] if len(sys.argv) > 1 else "dist/functions")
    for folder in package(destination):
        archive = folder.with_suffix(".zip")
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
        print(f"packaged {folder} and {archive.name} (sha256 {digest}…)")


if __name__ == "__main__":
    main()
