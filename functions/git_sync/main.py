"""Cloud Function ``git_sync``: a sync request from Pub/Sub in, Firestore ``documents`` out."""

import functions_framework
from cloudevents.http import CloudEvent

from lzsync import metrics
from lzsync.services import git_sync_event


@functions_framework.cloud_event
def git_sync(event: CloudEvent) -> None:
    with metrics.invocation("git_sync"):
        git_sync_event.handle_event(event["id"], event.data)
