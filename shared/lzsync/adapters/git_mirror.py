"""A local bare mirror of one landing-zone repository, fetched with dulwich.

The mirror lives under ``LZSYNC_GIT_CACHE_DIR`` and survives between invocations of a warm
function instance, so a fetch only transfers new objects. Remotes: ``https://`` (with the git
token as password, GitHub's ``x-access-token`` convention), ``file://`` or a local path.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Final

import urllib3
from dulwich.client import get_transport_and_path
from dulwich.errors import GitProtocolError, HangupException, NotGitRepository
from dulwich.object_store import iter_tree_contents
from dulwich.objects import Blob, Commit, ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo
from pydantic import SecretStr

from lzsync.errors import UpstreamUnavailable
from lzsync.settings import RepoConfig

_log = logging.getLogger("lzsync.git")
_TOKEN_USERNAME: Final = "x-access-token"  # noqa: S105 - a username, not a secret
_CONNECT_TIMEOUT_SECONDS: Final = 10.0
_READ_TIMEOUT_SECONDS: Final = 120.0
_MAX_PACKS: Final = 24
_FETCH_ERRORS: Final = (
    GitProtocolError,
    HangupException,
    NotGitRepository,
    urllib3.exceptions.HTTPError,
    OSError,
)


# Path components git itself refuses in a tree (fsck: hasDot, hasDotdot, hasDotgit; GitHub
# rejects such pushes): a tree holding one was not made by git, and its path names no file a
# reader could open, so the Portal does not show it.
_REFUSED_COMPONENTS: Final = frozenset({"", ".", "..", ".git"})


def is_checkout_safe(path: str) -> bool:
    """False for a path with an empty, ``.``, ``..`` or ``.git`` (any case) component."""
    return not any(part.lower() in _REFUSED_COMPONENTS for part in path.split("/"))


@dataclass(frozen=True)
class HeadCommit:
    sha: str
    time: datetime
    summary: str


@dataclass(frozen=True)
class TreeFile:
    path: str
    mode: int
    sha: str


class GitMirror:
    def __init__(self, cache_dir: Path, repo: RepoConfig, token: SecretStr | None) -> None:
        self._config = repo
        self._token = token
        url_key = hashlib.sha256(repo.url.encode()).hexdigest()[:16]
        self._path = cache_dir / url_key
        self._repo = self._open_or_create()

    @property
    def _branch_ref(self) -> Ref:
        return Ref(f"refs/heads/{self._config.branch}".encode())

    def _open_or_create(self) -> Repo:
        if self._path.exists():
            try:
                return Repo(str(self._path))
            except NotGitRepository:
                # A half-written cache from a crashed instance: start over, it is only a cache.
                shutil.rmtree(self._path)
        self._path.mkdir(parents=True)
        return Repo.init_bare(str(self._path))

    def _client(self) -> tuple[object, str]:
        url = self._config.url
        if url.startswith(("http://", "https://")):
            timeout = urllib3.Timeout(connect=_CONNECT_TIMEOUT_SECONDS, read=_READ_TIMEOUT_SECONDS)
            password = self._token.get_secret_value() if self._token else None
            return get_transport_and_path(
                url,
                username=_TOKEN_USERNAME if password else None,
                password=password,
                pool_manager=urllib3.PoolManager(timeout=timeout, retries=False),
            )
        return get_transport_and_path(url)

    def fetch_head(self) -> HeadCommit:
        """Fetch the configured branch and return its head commit."""
        branch_ref = self._branch_ref
        store = self._repo.object_store

        def wants(refs: dict[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
            head = refs.get(branch_ref)
            return [head] if head is not None and head not in store else []

        client, path = self._client()
        try:
            result = client.fetch(path, self._repo, determine_wants=wants)  # type: ignore[attr-defined]
        except _FETCH_ERRORS as error:
            raise UpstreamUnavailable(
                f"fetching {self._config.name} failed: {type(error).__name__}: {error}",
                upstream="git",
            ) from error
        head = result.refs.get(branch_ref)
        if head is None:
            raise UpstreamUnavailable(
                f"branch {self._config.branch!r} not found in {self._config.name}", upstream="git"
            )
        # The mirror's own branch ref keeps the objects reachable, and dulwich offers only
        # refs/heads/* as "haves": under any other name every fetch would transfer everything.
        self._repo.refs[branch_ref] = head
        self._repack_if_fragmented()
        commit = store[head]
        assert isinstance(commit, Commit)
        offset = timezone(timedelta(seconds=commit.commit_timezone))
        return HeadCommit(
            sha=head.decode(),
            time=datetime.fromtimestamp(commit.commit_time, tz=offset),
            summary=commit.message.decode("utf-8", errors="replace").split("\n", 1)[0],
        )

    def _repack_if_fragmented(self) -> None:
        """Each fetch adds a pack and every object lookup scans all packs: merge them now and
        then. maintenance: dulwich's repack holds every object in memory, fine for the
        docs-and-config repositories lzsync mirrors, not for repositories of several GB."""
        store = self._repo.object_store
        if len(store.packs) > _MAX_PACKS:
            store.repack()

    def files(self, commit_sha: str) -> Iterator[TreeFile]:
        """Every file (blobs, symlinks, submodule links) in the commit's tree."""
        commit = self._repo.object_store[ObjectID(commit_sha.encode())]
        assert isinstance(commit, Commit)
        for entry in iter_tree_contents(self._repo.object_store, commit.tree):
            try:
                path = entry.path.decode("utf-8")
            except UnicodeDecodeError:
                # Firestore strings must be UTF-8; such a path cannot be named in the Portal.
                _log.warning("skipping a path that is not UTF-8", extra={"path": repr(entry.path)})
                continue
            if not is_checkout_safe(path):
                _log.warning("skipping a path git would refuse to check out", extra={"path": path})
                continue
            yield TreeFile(path=path, mode=entry.mode, sha=entry.sha.decode())

    def read_blob(self, sha: str) -> bytes:
        blob = self._repo.object_store[ObjectID(sha.encode())]
        assert isinstance(blob, Blob)
        return bytes(blob.data)
