"""Journey dispatcher: engine events from SQS (fed by EventBridge) into journey steps and emails.

Each record fails alone (partial batch response). A record that can never be processed (bad
shape, a template that refuses to render) is logged with its reason and, after the queue's
retries, lands in the dead-letter queue; a transient failure (SES throttling beyond retries, a
concurrent change) is retried, and the claim on each email keeps retries from sending twice.
DynamoDB cost per email: one BatchGetItem and one TransactWriteItems (bench/bench_dispatch.py).
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from retention import clock
from retention.journeys.dispatcher import Dispatcher
from retention.journeys.wiring import dispatcher
from retention.mail.compose import PromotionShareExceeded, UnsafeEmail
from retention.mail.placeholders import PlaceholderSettings
from retention.mail.render import RenderError
from retention.models.engine_events import JourneyEventAdapter
from retention.observability import logger, metrics, tracer
from retention.validation import InvalidEvent, describe, load_json, require_sqs_batch

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    require_sqs_batch(event)
    active = dispatcher()
    return process_partial_response(event, lambda record: record_handler(record, active), processor, context)


def record_handler(record: SQSRecord, active: Dispatcher) -> None:
    try:
        journey_event = JourneyEventAdapter.validate_python(load_json(record.body))
    except (ValidationError, InvalidEvent) as exc:
        logger.warning("rejected engine event", message_id=record.message_id, reason=describe(exc))
        metrics.add_metric(name="RejectedEvents", unit=MetricUnit.Count, value=1)
        raise InvalidEvent(describe(exc)) from exc
    try:
        outcome = active.handle(journey_event, clock.now())
    except (RenderError, PromotionShareExceeded, UnsafeEmail, PlaceholderSettings) as exc:  # redrive once fixed
        failure = "PlaceholderRefusals" if isinstance(exc, PlaceholderSettings) else "TemplateFailures"
        logger.error("email refused", message_id=record.message_id, reason=str(exc)[:300])
        metrics.add_metric(name=failure, unit=MetricUnit.Count, value=1)
        raise
    for what, count in outcome.counts.items():
        if ":" not in what:
            metrics.add_metric(name=f"Journey_{what}", unit=MetricUnit.Count, value=count)
    if outcome.sent:
        sent = [{"journey": s.journey, "step": s.step, "message_id": s.message_id} for s in outcome.sent]
        logger.info("emails sent", detail_type=journey_event.detail_type, sent=sent)
