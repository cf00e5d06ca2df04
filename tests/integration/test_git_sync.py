"""Git sync against the Firestore emulator with real repositories (dulwich reads, git CLI
checks)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters.activity import ActivityFeed
from lzsync.adapters.git_store import GitStore
from lzsync.adapters.status import StatusBoard
from lzsync.collection_names import Collections
from lzsync.devtools.landing_zone import REPO_NAME, move_branch
from lzsync.errors import SyncInProgress, UnknownRepository, UpstreamUnavailable
from lzsync.model.sync_request import SyncRequest
from lzsync.services.git_sync import GitSyncService
from lzsync.settings import RepoConfig, Settings
from tests.conftest import PROJECT_ID
from tests.oracle import assert_documents_match_tree, classified_tree, stored_documents


def make_service(
    db: firestore.Client, tmp_path: Path, *repos: RepoConfig, **overrides
) -> GitSyncService:
    settings = Settings(
        _env_file=None,
        project_id=PROJECT_ID,
        repos=repos,
        git_cache_dir=tmp_path / "git-cache",
        git_fetch_attempts=2,
        git_fetch_backoff_seconds=0,
        **overrides,
    )
    names = Collections()
    return GitSyncService(
        settings,
        db,
        StatusBoard(db, names.sync_status),
        ActivityFeed(db, names.activity, settings.activity_ttl_days),
    )


def webhook_request(repo: str = REPO_NAME, after: str | None = None) -> SyncRequest:
    return SyncRequest(trigger="webhook", repo=repo, after=after)


def git_status(db: firestore.Client) -> dict:
    return db.collection("sync_status").document("git").get().to_dict()


def update_times(db: firestore.Client) -> dict[str, object]:
    return {snap.id: snap.update_time for snap in db.collection("documents").stream()}


@pytest.fixture
def lz_repo(remote: Path) -> RepoConfig:
    return RepoConfig(name=REPO_NAME, url=str(remote))


def test_first_sync_writes_every_classified_file_of_the_head(
    db, tmp_path, remote, lz_repo, landing_zone_history
):
    head = landing_zone_history[150].sha
    move_branch(remote, head)

    [outcome] = make_service(db, tmp_path, lz_repo).handle(webhook_request(after=head))

    assert outcome.outcome == "synced"
    assert outcome.written == len(classified_tree(remote, head))
    assert_documents_match_tree(db, remote, head)
    status = git_status(db)
    assert status["state"] == "ok"
    assert status["last_commit"] == head
    assert status["last_error"] is None
    assert status["repos"][REPO_NAME]["last_commit"] == head
    activity = db.collection("activity").where(filter=FieldFilter("commit", "==", head)).get()
    assert len(activity) == 1
    assert activity[0].get("counts")["added"] == outcome.written


def test_a_request_for_the_synced_head_writes_no_document(db, tmp_path, remote, lz_repo):
    service = make_service(db, tmp_path, lz_repo)
    service.handle(webhook_request())
    before = update_times(db)

    [outcome] = service.handle(webhook_request())

    assert (outcome.outcome, outcome.written, outcome.deleted) == ("up_to_date", 0, 0)
    assert update_times(db) == before


def test_only_the_files_a_push_changed_are_written(
    db, tmp_path, remote, lz_repo, landing_zone_history
):
    service = make_service(db, tmp_path, lz_repo)
    for older, newer in [(99, 100), (200, 201), (300, 301)]:
        move_branch(remote, landing_zone_history[older].sha)
        service.handle(webhook_request())
        before = classified_tree(remote, landing_zone_history[older].sha)
        after = classified_tree(remote, landing_zone_history[newer].sha)
        changed = {path for path in after if before.get(path) != after[path]}
        removed = set(before) - set(after)

        move_branch(remote, landing_zone_history[newer].sha)
        [outcome] = service.handle(webhook_request())

        assert (outcome.written, outcome.deleted) == (len(changed), len(removed))
        assert_documents_match_tree(db, remote, landing_zone_history[newer].sha)


def test_a_late_request_never_rolls_the_portal_back(
    db, tmp_path, remote, lz_repo, landing_zone_history
):
    service = make_service(db, tmp_path, lz_repo)
    newest = landing_zone_history[-1].sha
    service.handle(webhook_request(after=newest))

    [outcome] = service.handle(webhook_request(after=landing_zone_history[10].sha))

    assert outcome.commit == newest
    assert_documents_match_tree(db, remote, newest, check_content=False)


def test_a_force_push_to_an_older_commit_deletes_what_it_no_longer_has(
    db, tmp_path, remote, lz_repo, landing_zone_history
):
    service = make_service(db, tmp_path, lz_repo)
    service.handle(webhook_request())
    old = landing_zone_history[40].sha
    move_branch(remote, old)

    [outcome] = service.handle(webhook_request())

    assert outcome.deleted > 0
    assert_documents_match_tree(db, remote, old)


def test_an_unreachable_remote_keeps_the_last_good_documents_and_says_so(db, tmp_path, remote):
    good = RepoConfig(name=REPO_NAME, url=str(remote))
    make_service(db, tmp_path, good).handle(webhook_request())
    before = update_times(db)
    broken = RepoConfig(name=REPO_NAME, url=str(tmp_path / "no-such-repo.git"))
    service = make_service(db, tmp_path / "other", broken, circuit_failure_threshold=2)

    with pytest.raises(UpstreamUnavailable):
        service.handle(webhook_request())

    assert update_times(db) == before
    status = git_status(db)
    assert status["state"] == "degraded"
    assert status["last_error"]["type"] == "UpstreamUnavailable"
    assert status["last_success"] is not None
    assert status["circuit"] == {"state": "closed", "consecutive_failures": 1}

    with pytest.raises(UpstreamUnavailable):
        service.handle(webhook_request())
    assert git_status(db)["state"] == "failing"
    assert git_status(db)["circuit"]["state"] == "open"

    [skipped] = service.handle(webhook_request())
    assert skipped.outcome == "skipped_circuit_open"
    assert git_status(db)["pending_since"] is not None
    assert update_times(db) == before


def test_the_first_run_after_the_cool_down_recovers(db, tmp_path, remote, landing_zone_history):
    broken = RepoConfig(name=REPO_NAME, url=str(tmp_path / "missing.git"))
    failing = make_service(db, tmp_path / "a", broken, circuit_failure_threshold=1)
    with pytest.raises(UpstreamUnavailable):
        failing.handle(webhook_request())
    assert git_status(db)["circuit"]["state"] == "open"

    repaired = make_service(
        db,
        tmp_path / "b",
        RepoConfig(name=REPO_NAME, url=str(remote)),
        circuit_failure_threshold=1,
        circuit_open_seconds=0,
    )
    [outcome] = repaired.handle(webhook_request())

    assert outcome.outcome == "synced"
    status = git_status(db)
    assert (status["state"], status["circuit"]["state"]) == ("ok", "closed")
    assert status["pending_since"] is None
    assert_documents_match_tree(db, remote, landing_zone_history[-1].sha, check_content=False)


def test_a_second_run_while_one_holds_the_lease_is_retried_later(db, tmp_path, lz_repo):
    GitStore(db, Collections(), REPO_NAME).acquire_lease("another-run", seconds=60)

    with pytest.raises(SyncInProgress):
        make_service(db, tmp_path, lz_repo).handle(webhook_request())

    assert stored_documents(db) == {}


def test_an_expired_lease_does_not_block_syncing(db, tmp_path, lz_repo):
    GitStore(db, Collections(), REPO_NAME).acquire_lease("crashed-run", seconds=-1)

    [outcome] = make_service(db, tmp_path, lz_repo).handle(webhook_request())

    assert outcome.outcome == "synced"


def test_a_request_for_an_unconfigured_repository_is_permanent(db, tmp_path, lz_repo):
    with pytest.raises(UnknownRepository):
        make_service(db, tmp_path, lz_repo).handle(webhook_request(repo="someone/else"))


def _git(repo: Path, *args: str, data: bytes | None = None) -> str:
    return (
        subprocess.run(["git", "-C", str(repo), *args], input=data, capture_output=True, check=True)
        .stdout.decode()
        .strip()
    )


@pytest.fixture
def odd_repo(tmp_path: Path) -> Path:
    """A small repository with every kind of file git can hold."""
    repo = tmp_path / "odd"
    subprocess.run(["git", "init", "--quiet", "--initial-branch", "main", str(repo)], check=True)
    (repo / "docs").mkdir()
    (repo / "docs" / "guide.md").write_text("# Guide\n\nSee the runbook.\n")
    (repo / "docs" / "huge.md").write_text("# Huge\n" + "x" * 3000)
    (repo / "docs" / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0binary")
    (repo / "docs" / "model.md").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 99\n"
    )
    (repo / "README.md").symlink_to("docs/guide.md")
    (repo / "runbooks").mkdir()
    (repo / "runbooks" / "restore.md").write_text("Restore\n=======\n")
    _git(repo, "add", "-A")
    submodule_commit = "1" * 40
    _git(
        repo, "update-index", "--add", "--cacheinfo", f"160000,{submodule_commit},vendor/README.md"
    )
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one")
    return repo


def test_special_files_are_recorded_with_a_flag_instead_of_content(db, tmp_path, odd_repo):
    repo = RepoConfig(name="acme/odd", url=str(odd_repo))

    make_service(db, tmp_path, repo, max_document_bytes=2000).handle(webhook_request("acme/odd"))

    documents = stored_documents(db)
    flags = {path: documents[path]["flag"] for path in documents}
    assert flags == {
        "docs/guide.md": None,
        "docs/huge.md": "too_large",
        "docs/image.md": "binary",
        "docs/model.md": "lfs_pointer",
        "README.md": "symlink",
        "runbooks/restore.md": None,
        "vendor/README.md": "submodule",
    }
    assert documents["README.md"]["link_target"] == "docs/guide.md"
    assert documents["docs/huge.md"]["size_bytes"] > 2000
    assert documents["docs/huge.md"]["content"] is None
    assert documents["runbooks/restore.md"]["kind"] == "runbook"
    assert documents["runbooks/restore.md"]["title"] == "Restore"
    assert documents["docs/guide.md"]["title"] == "Guide"


def _synced_then_renamed(db, tmp_path, odd_repo) -> tuple[GitSyncService, str]:
    """The odd repository synced, then docs/guide.md renamed in a new commit (not synced yet)."""
    service = make_service(db, tmp_path, RepoConfig(name="acme/odd", url=str(odd_repo)))
    service.handle(webhook_request("acme/odd"))
    _git(odd_repo, "mv", "docs/guide.md", "docs/handbook.md")
    _git(odd_repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "mv")
    return service, _git(odd_repo, "rev-parse", "HEAD")


def test_a_rename_is_one_write_one_delete_and_reported_as_a_rename(db, tmp_path, odd_repo):
    service, head = _synced_then_renamed(db, tmp_path, odd_repo)

    [outcome] = service.handle(webhook_request("acme/odd"))

    assert (outcome.written, outcome.deleted) == (1, 1)
    entry = (
        db.collection("activity").where(filter=FieldFilter("commit", "==", head)).get()[0].to_dict()
    )
    assert entry["renamed"] == [{"from": "docs/guide.md", "to": "docs/handbook.md"}]
    assert "docs/guide.md" not in stored_documents(db)


def test_a_scheduled_run_syncs_every_repository_without_collisions(db, tmp_path, remote, odd_repo):
    repos = (
        RepoConfig(name=REPO_NAME, url=str(remote)),
        RepoConfig(name="acme/odd", url=str(odd_repo)),
    )

    outcomes = make_service(db, tmp_path, *repos).handle(SyncRequest(trigger="schedule"))

    assert [outcome.outcome for outcome in outcomes] == ["synced", "synced"]
    readmes = db.collection("documents").where(filter=FieldFilter("path", "==", "README.md")).get()
    assert sorted(snap.get("repo") for snap in readmes) == ["acme/odd", REPO_NAME]
    assert set(git_status(db)["repos"]) == {REPO_NAME, "acme/odd"}


def test_a_scheduled_run_catches_up_a_missed_webhook(
    db, tmp_path, remote, lz_repo, landing_zone_history
):
    service = make_service(db, tmp_path, lz_repo)
    move_branch(remote, landing_zone_history[200].sha)
    service.handle(webhook_request())
    move_branch(remote, landing_zone_history[260].sha)  # pushed, but the webhook never came

    [outcome] = service.handle(SyncRequest(trigger="schedule"))

    assert outcome.outcome == "synced"
    assert_documents_match_tree(db, remote, landing_zone_history[260].sha)


def test_include_rules_limit_what_a_repository_syncs(db, tmp_path, remote):
    repo = RepoConfig(name=REPO_NAME, url=str(remote), include=("docs/**",))

    make_service(db, tmp_path, repo).handle(webhook_request())

    paths = stored_documents(db)
    assert paths
    assert all(path.startswith("docs/") for path in paths)


def _logged_changes(db) -> dict[str, dict]:
    from datetime import UTC, datetime, timedelta

    from lzsync.adapters.doc_change_log import DocChangeLog

    log = DocChangeLog(db, "_doc_changes", ttl_days=30)
    now = datetime.now(UTC)
    records = log.synced_between(now - timedelta(hours=1), now + timedelta(hours=1))
    return {record["path"]: record for record in records}


def test_every_changed_file_is_logged_for_history_beyond_the_activity_list(
    db, tmp_path, remote, lz_repo, landing_zone_history
):
    service = make_service(db, tmp_path, lz_repo)
    move_branch(remote, landing_zone_history[300].sha)
    service.handle(webhook_request())
    first = _logged_changes(db)
    # The first sync adds every classified file: more than the activity entry lists.
    assert set(first) == set(classified_tree(remote, landing_zone_history[300].sha))
    assert len(first) > 100
    assert {record["change"] for record in first.values()} == {"added"}
    assert {record["doc_kind"] for record in first.values()} >= {"doc", "policy"}

    before = classified_tree(remote, landing_zone_history[300].sha)
    after = classified_tree(remote, landing_zone_history[301].sha)
    move_branch(remote, landing_zone_history[301].sha)
    service.handle(webhook_request())
    head = landing_zone_history[301].sha
    second = {p: r for p, r in _logged_changes(db).items() if r["commit"] == head}
    expected = {
        **{path: "added" for path in after if path not in before},
        **{path: "modified" for path in after if path in before and before[path] != after[path]},
        **{path: "removed" for path in before if path not in after},
    }
    assert expected, "the chosen commit must change classified files"
    assert {path: record["change"] for path, record in second.items()} == expected


def test_a_rename_is_logged_once_with_its_old_path(db, tmp_path, odd_repo):
    service, head = _synced_then_renamed(db, tmp_path, odd_repo)

    service.handle(webhook_request("acme/odd"))

    logged = [r for r in _logged_changes(db).values() if r["commit"] == head]
    assert [(r["path"], r["change"], r["previous_path"]) for r in logged] == [
        ("docs/handbook.md", "renamed", "docs/guide.md")
    ]
