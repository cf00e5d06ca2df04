"""Cloud Function ``webhook``: GitHub push deliveries in, sync requests on Pub/Sub out."""

import flask
import functions_framework

from lzsync import metrics
from lzsync.services import webhook_http


@functions_framework.http
def webhook(request: flask.Request) -> flask.Response:
    with metrics.invocation("webhook"):
        return webhook_http.handle(request)
