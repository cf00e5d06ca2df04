"""Fault injectors the fault tests share: a crash after N Firestore writes, and Firestore
client retries compressed so an outage outlasting them fits a test's time budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from google.cloud import firestore, pubsub_v1
from google.cloud.firestore_v1.batch import WriteBatch
from google.cloud.firestore_v1.transaction import Transaction

from lzsync.devtools.fault_proxy import FaultProxy


class InjectedCrash(Exception):
    """The process died here: not a Google error, so nothing treats it as transient."""


class Crash:
    """Counts the writes every commit sends (batches, ``set``, transactions) and, once
    ``after_writes`` have landed, fails the commit that would exceed it and every later one,
    as a dead process would: nothing after the crash point reaches Firestore."""

    def __init__(self, after_writes: int) -> None:
        self.after_writes = after_writes
        self.landed = 0
        self.tripped = False

    def check(self, writes: int) -> None:
        if self.tripped or self.landed + writes > self.after_writes:
            self.tripped = True
            raise InjectedCrash(f"crashed after {self.landed} writes")
        self.landed += writes


@contextmanager
def crash_after(monkeypatch: pytest.MonkeyPatch, writes: int) -> Iterator[Crash]:
    """Install a :class:`Crash` on every Firestore commit of this process, then remove it
    (the restarted instance runs clean)."""
    crash = Crash(writes)
    batch_commit = WriteBatch.commit
    transaction_commit = Transaction._commit

    def commit(self: WriteBatch, *args: Any, **kwargs: Any) -> Any:
        crash.check(len(self._write_pbs))
        return batch_commit(self, *args, **kwargs)

    def commit_transaction(self: Transaction) -> Any:
        crash.check(len(self._write_pbs))
        return transaction_commit(self)

    with monkeypatch.context() as patch:
        patch.setattr(WriteBatch, "commit", commit)
        patch.setattr(Transaction, "_commit", commit_transaction)
        yield crash


def compress_retries(client: firestore.Client, deadline_seconds: float) -> None:
    """Give every call of ``client`` a retry deadline and timeout of ``deadline_seconds``
    instead of the library's 60-300 s, keeping which errors it retries: an outage longer than
    that then fails the call as a long one would in production, in seconds."""
    transport = client._firestore_api._transport
    for wrapped in transport._wrapped_methods.values():
        if getattr(wrapped, "_retry", None) is not None:
            wrapped._retry = wrapped._retry.with_deadline(deadline_seconds)
        wrapped._timeout = deadline_seconds


class Partition:
    """Cuts ``proxy`` once ``after_writes`` Firestore writes of this process have landed; heals
    it when the interrupted commit gives up, or ``heal_after_seconds`` after the cut, or when
    the test says so."""

    def __init__(
        self,
        proxy: FaultProxy,
        after_writes: int,
        heal_after_seconds: float | None,
        heal_when_a_commit_gives_up: bool = False,
    ) -> None:
        self.heal_when_a_commit_gives_up = heal_when_a_commit_gives_up
        self.proxy = proxy
        self.after_writes = after_writes
        self.heal_after_seconds = heal_after_seconds
        self.landed = 0
        self.cut_at: float | None = None
        self.healed_at: float | None = None
        self._timer: threading.Timer | None = None

    def landed_writes(self, writes: int) -> None:
        self.landed += writes
        if self.cut_at is None and self.landed >= self.after_writes:
            self.proxy.cut()
            self.cut_at = time.monotonic()
            if self.heal_after_seconds is not None:
                self._timer = threading.Timer(self.heal_after_seconds, self.heal)
                self._timer.daemon = True
                self._timer.start()

    def commit_gave_up(self, client: firestore.Client) -> None:
        """With ``heal_when_a_commit_gives_up``: the outage ends the moment lzsync gives up on
        the interrupted write, so what it does next (record the failure, drop its lease) meets
        a reachable Firestore, whatever the machine's load does to timing."""
        if self.heal_when_a_commit_gives_up and self.cut_at is not None and not self.healed_at:
            self.heal()
            wait_until_reachable(client)

    def heal(self) -> None:
        self.proxy.restore()
        self.healed_at = time.monotonic()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


@contextmanager
def partition_after(
    monkeypatch: pytest.MonkeyPatch,
    proxy: FaultProxy,
    writes: int,
    heal_after_seconds: float | None = None,
    *,
    heal_when_a_commit_gives_up: bool = False,
) -> Iterator[Partition]:
    """Partition Firestore from this process mid-run, right after a commit that brings the
    writes landed so far to ``writes`` or more (the next commit or read meets the outage)."""
    partition = Partition(proxy, writes, heal_after_seconds, heal_when_a_commit_gives_up)
    batch_commit = WriteBatch.commit
    transaction_commit = Transaction._commit

    def commit(self: WriteBatch, *args: Any, **kwargs: Any) -> Any:
        count = len(self._write_pbs)
        try:
            result = batch_commit(self, *args, **kwargs)
        except Exception:
            partition.commit_gave_up(self._client)
            raise
        partition.landed_writes(count)
        return result

    def commit_transaction(self: Transaction) -> Any:
        count = len(self._write_pbs)
        try:
            result = transaction_commit(self)
        except Exception:
            partition.commit_gave_up(self._client)
            raise
        partition.landed_writes(count)
        return result

    with monkeypatch.context() as patch:
        patch.setattr(WriteBatch, "commit", commit)
        patch.setattr(Transaction, "_commit", commit_transaction)
        try:
            yield partition
        finally:
            partition.cancel()


def wait_until_reachable(client: firestore.Client) -> None:
    """After an outage gRPC reconnects with a grown backoff; production's 60 s call deadline
    rides that out, the compressed one may not, so wait until the channel answers again."""
    for _ in range(150):
        try:
            client.collection("_warmup").document("w").get()
            return
        except Exception:  # any failure here means "not yet"
            time.sleep(0.2)
    raise AssertionError("Firestore never became reachable again")


def wait_until_pubsub_reachable(publisher: pubsub_v1.PublisherClient, topic: str) -> None:
    """:func:`wait_until_reachable` for Pub/Sub: after an outage the publisher's channel comes
    back only after its reconnect backoff, so wait until it answers on ``topic``'s path (a
    sender retrying a refused request does so much later than a test would)."""
    for _ in range(150):
        try:
            publisher.get_topic(request={"topic": topic}, timeout=1)
            return
        except Exception:  # any failure here means "not yet"
            time.sleep(0.2)
    raise AssertionError("Pub/Sub never became reachable again")


class LostReply:
    """Which transaction commits lose their reply: they land in Firestore, then the caller sees
    an error, as when the answer to a commit is lost or the process dies right after it."""

    def __init__(self, commits: set[int]) -> None:
        self.commits = commits
        self.seen = 0
        self.lost = 0


@contextmanager
def lose_reply_after_commit(
    monkeypatch: pytest.MonkeyPatch, commits: set[int]
) -> Iterator[LostReply]:
    """The transaction commits numbered ``commits`` (1 = this process's first) land, then
    raise :class:`InjectedCrash`: whatever the caller meant to do after the commit never runs,
    and the message is redelivered although its change is already in Firestore."""
    lost = LostReply(commits)
    transaction_commit = Transaction._commit

    def commit_transaction(self: Transaction) -> Any:
        result = transaction_commit(self)
        lost.seen += 1
        if lost.seen in lost.commits:
            lost.lost += 1
            raise InjectedCrash(f"reply to commit {lost.seen} lost")
        return result

    with monkeypatch.context() as patch:
        patch.setattr(Transaction, "_commit", commit_transaction)
        yield lost
