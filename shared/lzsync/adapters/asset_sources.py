"""Where a snapshot's assets come from, page by page, behind one interface.

* :class:`ListingSource` — the live ``ListAssets`` API through the real ``google-cloud-asset``
  client: content type RESOURCE (or IAM_POLICY, see :func:`policy_listing`), up to 1,000 assets
  a page, one page in memory at a time, paced to the quota, each page retried on the retryable
  errors (429, 503, 504, 500) along a schedule, and resumed from its page token.
* :class:`ExportSource` — an ``exportAssets`` NDJSON output, from Cloud Storage (``gs://``) or a
  local file, read line by line in pages of the same size.

Both yield plain dicts in the JSON shape of ``Asset`` (either field spelling; see
:mod:`lzsync.logic.asset_normalize`). A source that cannot finish raises
:class:`ListingIncomplete`: the caller then treats what it saw as partial and deletes nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final, Protocol

import requests
from google.api_core import exceptions as google_errors
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import asset_v1
from google.protobuf.json_format import MessageToDict, ParseError

from lzsync import metrics
from lzsync.errors import RetryableError
from lzsync.logic.rate_limit import RequestPacer

_log = logging.getLogger("lzsync.assets")

# CAI's documented retryable failures: quota (429), unavailable (503), deadline (504), internal.
# Over REST a 504 is GatewayTimeout (DeadlineExceeded is its gRPC subclass), and transport
# failures surface as the requests library's own exceptions.
RETRYABLE_LISTING_ERRORS: Final = (
    google_errors.TooManyRequests,
    google_errors.ServiceUnavailable,
    google_errors.GatewayTimeout,
    google_errors.InternalServerError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    TimeoutError,
)


class ListingIncomplete(RetryableError):
    """The source stopped before the end; what was read is real but not the whole estate."""

    def __init__(self, message: str, *, pages_read: int) -> None:
        super().__init__(message)
        self.pages_read = pages_read


@dataclass
class AssetPage:
    number: int
    assets: list[dict[str, Any]]
    read_time: str | None = None
    # Lines or entries that could not even be parsed into an object: their assets are unknown.
    unreadable: int = 0


class AssetSource(Protocol):
    def pages(self) -> Iterator[AssetPage]: ...


@dataclass
class ListingSource:
    client: asset_v1.AssetServiceClient
    scope: str
    asset_types: Sequence[str]
    page_size: int = 1000
    pacer: RequestPacer = field(default_factory=lambda: RequestPacer(100))
    retry_schedule_seconds: Sequence[float] = (5.0, 30.0, 300.0)
    sleep: Callable[[float], None] = time.sleep
    retries: int = 0
    # Give up (partial) rather than wait past this many seconds from the first request: the
    # function must still record its outcome before its own timeout kills it.
    budget_seconds: float = 480.0
    # List the estate as it was at this moment (CAI keeps 35 days); None: as it is now.
    read_time: datetime | None = None
    # RESOURCE: assets with their ``resource``; IAM_POLICY: only assets that have a policy,
    # each with its ``iamPolicy`` and no ``resource`` (CAI lists the two separately).
    content_type: int = asset_v1.ContentType.RESOURCE
    _deadline: float | None = None

    def _start_budget(self) -> float:
        """The run's deadline, counted from the first request (or the first derived listing)."""
        if self._deadline is None:
            self._deadline = time.monotonic() + self.budget_seconds
        return self._deadline

    def with_content_type(self, content_type: int) -> ListingSource:
        """The same listing (client, scope, types, read time) of another content type. It
        shares this one's pacer and run budget, whose clock starts now if it has not yet: the
        two listings of a run together keep to the quota and to the function's deadline."""
        self._start_budget()
        return replace(self, content_type=content_type, retries=0)

    def _request(self, token: str) -> Any:
        self.pacer.wait()
        request: dict[str, Any] = {
            "parent": self.scope,
            "content_type": self.content_type,
            "asset_types": list(self.asset_types),
            "page_size": self.page_size,
            "page_token": token,
        }
        if self.read_time is not None:
            request["read_time"] = self.read_time
        pager = self.client.list_assets(
            request=request,
            retry=None,  # retried here, along our schedule, resuming from the same token
        )
        return next(iter(pager.pages))

    def _page_with_retries(self, token: str, number: int) -> Any:
        deadline = self._start_budget()
        for attempt, delay in enumerate([*self.retry_schedule_seconds, None]):
            try:
                return self._request(token)
            except ParseError as error:
                raise ListingIncomplete(
                    f"page {number} is not a ListAssets response: {error}", pages_read=number
                ) from error
            except RETRYABLE_LISTING_ERRORS as error:
                if delay is None or time.monotonic() + delay > deadline:
                    raise ListingIncomplete(
                        f"page {number} failed {attempt + 1} times: {error}", pages_read=number
                    ) from error
                self.retries += 1
                _log.warning(
                    "listing page failed, retrying",
                    extra={
                        "page": number,
                        "attempt": attempt + 1,
                        "retry_in_seconds": delay,
                        "error": str(error),
                    },
                )
                self.sleep(delay)
            except google_errors.GoogleAPICallError as error:
                raise ListingIncomplete(
                    f"page {number} refused: {error}", pages_read=number
                ) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def pages(self) -> Iterator[AssetPage]:
        token = ""
        number = 0
        while True:
            response = self._page_with_retries(token, number)
            metrics.count(metrics.CAI_LIST_PAGES)
            raw = response._pb if hasattr(response, "_pb") else response
            assets = [MessageToDict(asset) for asset in raw.assets]
            read_time = MessageToDict(raw).get("readTime")
            yield AssetPage(number, assets, read_time)
            number += 1
            token = response.next_page_token
            if not token:
                return


def policy_listing(source: AssetSource) -> AssetSource | None:
    """Where ``source``'s assets' IAM policies can be listed: for a live listing, the same
    listing with content type IAM_POLICY; None for an export (an ``exportAssets`` file holds
    one content type; its lines are judged with whatever ``iamPolicy`` they carry)."""
    if isinstance(source, ListingSource):
        return source.with_content_type(asset_v1.ContentType.IAM_POLICY)
    return None


def listing_client(api_endpoint: str | None) -> asset_v1.AssetServiceClient:
    """The real client. An ``http://`` endpoint (a local server) gets REST with anonymous
    credentials and never looks for Google credentials; any other override (a private or
    regional endpoint) keeps the runtime's credentials."""
    if api_endpoint is None:
        return asset_v1.AssetServiceClient()
    if not api_endpoint.startswith("http://"):
        return asset_v1.AssetServiceClient(client_options=ClientOptions(api_endpoint=api_endpoint))
    return asset_v1.AssetServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=api_endpoint),
    )


def parse_export_line(line: str) -> dict[str, Any] | None:
    """One export line's asset, or None when the line is unreadable (not JSON, nested past
    the parser's recursion limit, or not an object): the run counts it and ends ``partial``."""
    try:
        asset = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return None
    return asset if isinstance(asset, dict) else None


@dataclass
class ExportSource:
    """``uri`` is ``gs://bucket/object`` or a local path."""

    uri: str
    page_size: int = 1000
    storage_client: Any = None

    def _open(self) -> IO[str]:
        if self.uri.startswith("gs://"):
            from google.cloud import storage  # type: ignore[attr-defined]  # exports only

            bucket, _, name = self.uri.removeprefix("gs://").partition("/")
            client = self.storage_client or storage.Client()
            handle: IO[str] = client.bucket(bucket).blob(name).open("r", encoding="utf-8")
            return handle
        # utf-8-sig: an export saved by an editor may start with a byte-order mark.
        return Path(self.uri).open(encoding="utf-8-sig")

    def pages(self) -> Iterator[AssetPage]:
        number = 0
        page = AssetPage(number, [])
        try:
            with self._open() as lines:
                for line in lines:
                    if not line.strip():
                        continue
                    asset = parse_export_line(line)
                    if asset is None:
                        page.unreadable += 1
                        continue
                    page.assets.append(asset)
                    if len(page.assets) >= self.page_size:
                        yield page
                        number += 1
                        page = AssetPage(number, [])
        except (OSError, UnicodeDecodeError, google_errors.GoogleAPICallError) as error:
            raise ListingIncomplete(
                f"reading {self.uri} failed: {error}", pages_read=number
            ) from error
        if page.assets or page.unreadable:
            yield page
