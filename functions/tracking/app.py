"""Tracking API (HTTP API): open pixel, click redirect, feedback answer, one-click unsubscribe (RFC 8058), pause.

The routes are retention/tracking/api.py. Per request one GetItem and two writes (the send
record's markers, a counter shard), plus the contact's engagement summary for a person's first
open or a click (store/engagement.py); a person's first answer to a feedback email adds its
marker and the contact's latest answer. A refused link gets the neutral page (a GIF for the
pixel), never a redirect, never a 500.
"""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from retention import published
from retention.observability import logger, metrics, tracer
from retention.tracking.api import app


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    published.refresh()  # the pages' words and tracking.yaml of the templates version in use
    return app.resolve(event, context)
