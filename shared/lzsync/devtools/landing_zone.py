"""The bundled sample landing zone: a real repository history replayed as GitHub pushes.

``history.fe.gz`` (``../shared/fixtures/landing-zone/``) is a ``git fast-export`` of a public
GCP landing zone; :func:`build_repository` turns it into a bare repository with the git CLI,
which tests and the demo then serve to git_sync as its "remote". lzsync itself reads git only
through dulwich; the CLI here is the independent oracle tests compare against.
"""

from __future__ import annotations

import gzip
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

REPO_NAME: Final = "terraform-google-modules/terraform-example-foundation"
BRANCH: Final = "main"
ZERO_SHA: Final = "0" * 40
_FIXTURE_RELATIVE: Final = Path("fixtures/landing-zone/history.fe.gz")


def project_root() -> Path:
    return Path(__file__).resolve().parents[3]


class FixturesMissing(FileNotFoundError):
    """The shared fixtures are not where lzsync looks for them."""


def shared_dir() -> Path:
    """The workplace's shared data: ``LZSYNC_SHARED_DIR``, else ``../shared/`` beside the
    project root (it is not part of this repository)."""
    base = os.environ.get("LZSYNC_SHARED_DIR")
    return Path(base) if base else project_root().parent / "shared"


def fixture_path() -> Path:
    path = shared_dir() / _FIXTURE_RELATIVE
    if not path.exists():
        raise FixturesMissing(
            f"landing-zone fixture not found at {path}: put the shared fixtures folder beside "
            "the project root (../shared) or set LZSYNC_SHARED_DIR to it"
        )
    return path


def git(repo: Path, *args: str, data: bytes | None = None) -> str:
    """Run the git CLI against ``repo`` and return its stdout."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args], input=data, capture_output=True, check=True
    )
    return result.stdout.decode()


def build_repository(destination: Path) -> Path:
    """A bare repository holding the fixture's full history (``main`` at the newest commit)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "init", "--quiet", "--bare", "--initial-branch", BRANCH, str(destination)],
        check=True,
    )
    with gzip.open(fixture_path(), "rb") as stream:
        git(destination, "fast-import", "--quiet", data=stream.read())
    return destination


def clone_shared(source: Path, destination: Path) -> Path:
    """A cheap independent copy (objects shared by alternates) whose refs a test may move."""
    subprocess.run(
        ["git", "clone", "--quiet", "--bare", "--shared", str(source), str(destination)],
        check=True,
    )
    return destination


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    time: datetime
    message: str
    added: tuple[str, ...]
    modified: tuple[str, ...]
    removed: tuple[str, ...]


def history(repo: Path, ref: str = BRANCH) -> list[CommitInfo]:
    """Every commit reachable from ``ref``, oldest first, with the files it changed."""
    commits = []
    for sha in git(repo, "rev-list", "--reverse", ref).split():
        header, _, changes = git(
            repo, "show", "--no-renames", "--name-status", "--format=%cI%x00%B%x00", sha
        ).partition("\x00\n")
        time_text, _, message = header.partition("\x00")
        added: list[str] = []
        modified: list[str] = []
        removed: list[str] = []
        for line in changes.strip().splitlines():
            status, _, path = line.partition("\t")
            {"A": added, "D": removed}.get(status[:1], modified).append(path)
        commits.append(
            CommitInfo(
                sha=sha,
                time=datetime.fromisoformat(time_text),
                message=message.strip(),
                added=tuple(added),
                modified=tuple(modified),
                removed=tuple(removed),
            )
        )
    return commits


def move_branch(repo: Path, sha: str, branch: str = BRANCH) -> None:
    """Point the branch at ``sha``: what a push does to the remote."""
    git(repo, "update-ref", f"refs/heads/{branch}", sha)


def _payload_commit(repo_name: str, commit: CommitInfo) -> dict[str, Any]:
    person = {"name": "Landing Zone Maintainer", "email": "maintainer@example.com"}
    return {
        "id": commit.sha,
        "tree_id": None,
        "distinct": True,
        "message": commit.message,
        "timestamp": commit.time.isoformat(),
        "url": f"https://github.com/{repo_name}/commit/{commit.sha}",
        "author": {**person, "username": "lz-maintainer"},
        "committer": {**person, "username": "lz-maintainer"},
        "added": list(commit.added),
        "removed": list(commit.removed),
        "modified": list(commit.modified),
    }


def push_payload(
    before: str,
    commits: list[CommitInfo],
    *,
    repo_name: str = REPO_NAME,
    branch: str = BRANCH,
) -> dict[str, Any]:
    """A ``push`` payload in GitHub's shape for ``commits`` (oldest first) on ``branch``."""
    owner, name = repo_name.split("/")
    after = commits[-1].sha
    listed = [_payload_commit(repo_name, commit) for commit in commits]
    return {
        "ref": f"refs/heads/{branch}",
        "before": before,
        "after": after,
        "repository": {
            "id": 1,
            "name": name,
            "full_name": repo_name,
            "private": False,
            "owner": {"name": owner, "login": owner},
            "clone_url": f"https://github.com/{repo_name}.git",
            "default_branch": branch,
        },
        "pusher": {"name": "lz-maintainer", "email": "maintainer@example.com"},
        "sender": {"login": "lz-maintainer", "type": "User"},
        "created": before == "0" * 40,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.com/{repo_name}/compare/{before[:12]}...{after[:12]}",
        "commits": listed,
        "head_commit": listed[-1],
    }
