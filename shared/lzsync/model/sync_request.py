"""The message on the ``git-sync-requests`` topic: what asks git_sync to run.

It names a repository (or none: every configured one) and why. It deliberately does not make
git_sync sync a particular commit: git_sync always converges to the branch head, so a late or
duplicated request can never roll the Portal back. ``after`` is kept only for the audit trail
and for measuring push-to-synced latency.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Trigger = Literal["webhook", "schedule", "manual"]


class SyncRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    trigger: Trigger
    repo: str | None = Field(default=None, description="owner/repo; None syncs every repo")
    after: str | None = Field(default=None, pattern=r"^[0-9a-f]{40}$")
    delivery: str | None = None
    actor: str | None = None
    requested_at: datetime | None = None
