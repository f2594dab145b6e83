"""SES events from the configuration set (EventBridge → SQS → here): delivery, bounces, complaints.

Partial batch responses: a malformed record fails alone and, after the queue's retries, waits in
the dead-letter queue with its reason in the log; an event for mail the engine did not send
(send-test) or whose record was deleted (a forget request) is acknowledged and logged.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from retention import published
from retention.models.ses_events import SesEventEnvelope
from retention.observability import logger, metrics, tracer
from retention.settings import settings
from retention.store import bus
from retention.store.engagement import EngagementStore
from retention.store.journeys import JourneyStore
from retention.tracking.machine import tracking_rules
from retention.tracking.ses_events import apply_ses_event
from retention.validation import InvalidEvent, describe, load_json, require_sqs_batch

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    try:
        envelope = SesEventEnvelope.model_validate(load_json(record.body))
    except (ValidationError, InvalidEvent) as exc:
        reason = describe(exc)
        logger.warning("rejected SES event", message_id=record.message_id, reason=reason)
        metrics.add_metric(name="RejectedSesEvents", unit=MetricUnit.Count, value=1)
        raise InvalidEvent(reason) from exc
    event = envelope.detail
    published.refresh()
    table = settings().customers_table
    applied = apply_ses_event(event, EngagementStore(table), JourneyStore(table), tracking_rules())
    metrics.add_metric(name=f"Ses{event.eventType.replace(' ', '')}", unit=MetricUnit.Count, value=1)
    if applied.suppressed is not None:
        logger.info("customer suppressed", reason=applied.suppressed.value, message_id=event.message_id)
    if applied.reported is not None:  # the shop mirrors it (CustomerSuppressed on the bus)
        bus.publish(settings().event_bus_name, [applied.reported])
    if applied.outcome in ("not_ours", "unknown_message"):
        logger.info("SES event for mail without a send record", outcome=applied.outcome, type=event.eventType)


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    require_sqs_batch(event)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
