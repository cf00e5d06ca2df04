"""Cloud Function ``freshness_check``: Cloud Scheduler's call in, stale layers marked and
announced out."""

import flask
import functions_framework

from lzsync import metrics
from lzsync.services import freshness_http


@functions_framework.http
def freshness_check(request: flask.Request) -> flask.Response:
    with metrics.invocation("freshness_check"):
        return freshness_http.handle(request)
