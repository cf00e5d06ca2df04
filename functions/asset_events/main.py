"""Cloud Function ``asset_events``: a feed change from Pub/Sub in, ``resources`` updated out."""

import functions_framework
from cloudevents.http import CloudEvent

from lzsync import metrics
from lzsync.services import asset_events_event


@functions_framework.cloud_event
def asset_events(event: CloudEvent) -> None:
    with metrics.invocation("asset_events"):
        asset_events_event.handle_event(event["id"], event.data)
