"""GitHub webhook payloads, reduced to what a sync decision needs.

Shapes follow GitHub's webhook documentation ("Webhook events and payloads", ``push`` and
``ping``). Unknown fields are ignored so new GitHub fields never break parsing.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

ZERO_SHA: Final = "0" * 40
BRANCH_PREFIX: Final = "refs/heads/"
TAG_PREFIX: Final = "refs/tags/"


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Repository(_Payload):
    full_name: str = Field(min_length=3, max_length=512)
    clone_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _full_name_of_older_payloads(cls, data: Any) -> Any:
        """Payloads from before ``full_name`` existed carry ``owner.name`` and ``name`` only."""
        if isinstance(data, dict) and "full_name" not in data:
            owner = data.get("owner")
            owner_name = (
                (owner.get("login") or owner.get("name")) if isinstance(owner, dict) else None
            )
            if isinstance(owner_name, str) and isinstance(data.get("name"), str):
                return {**data, "full_name": f"{owner_name}/{data['name']}"}
        return data


class Pusher(_Payload):
    name: str | None = None
    email: str | None = None


class Sender(_Payload):
    login: str | None = None


class PushCommit(_Payload):
    id: str
    message: str = ""
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class PushEvent(_Payload):
    """A ``push`` delivery. ``commits`` may be empty or truncated (force pushes, pushes of
    more than 2,048 commits), so lzsync never trusts it for file lists: trees are diffed."""

    ref: str = Field(min_length=1, max_length=1024)
    before: str = Field(pattern=r"^[0-9a-f]{40}$")
    after: str = Field(pattern=r"^[0-9a-f]{40}$")
    repository: Repository
    created: bool = False
    deleted: bool = False
    forced: bool = False
    commits: tuple[PushCommit, ...] = ()
    pusher: Pusher | None = None
    sender: Sender | None = None

    @property
    def branch(self) -> str | None:
        """The branch name for a branch push, None for tags and other refs."""
        if self.ref.startswith(BRANCH_PREFIX):
            return self.ref.removeprefix(BRANCH_PREFIX)
        return None

    @property
    def is_branch_deletion(self) -> bool:
        return self.deleted or self.after == ZERO_SHA

    @property
    def actor(self) -> str | None:
        """Who pushed, for the audit record: the sender's login, else the pusher's name."""
        if self.sender and self.sender.login:
            return self.sender.login
        return self.pusher.name if self.pusher else None


class Hook(_Payload):
    id: int | None = None


class PingEvent(_Payload):
    """A ``ping`` delivery, sent when a webhook is created."""

    zen: str | None = None
    hook_id: int | None = None
    hook: Hook | None = None
    repository: Repository | None = None
