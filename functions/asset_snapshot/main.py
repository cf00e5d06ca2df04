"""Cloud Function ``asset_snapshot``: Cloud Scheduler's call in, ``resources`` converged out."""

import flask
import functions_framework

from lzsync import metrics
from lzsync.services import asset_snapshot_http


@functions_framework.http
def asset_snapshot(request: flask.Request) -> flask.Response:
    with metrics.invocation("asset_snapshot"):
        return asset_snapshot_http.handle(request)
