"""Cloud Function ``bq_export``: Cloud Scheduler's daily call in, one day of history out."""

import flask
import functions_framework

from lzsync import metrics
from lzsync.services import history_export_http


@functions_framework.http
def bq_export(request: flask.Request) -> flask.Response:
    with metrics.invocation("bq_export"):
        return history_export_http.handle(request)
