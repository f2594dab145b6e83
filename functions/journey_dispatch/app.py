"""Journey dispatcher: engine events from SQS (fed by EventBridge) into journey steps and emails.

Each record fails alone (partial batch response). A record that can never be processed (bad
shape, a template that refuses to render) is logged with its reason and, after the queue's
retries, lands in the dead-letter queue; a transient failure (SES throttling beyond retries,
a concurrent change) is simply retried, and the claim on each email keeps retries from
sending twice.

DynamoDB cost per email sent: one BatchGetItem (profile, contact, journey state), one
claim transaction, one finish transaction (bench/bench_dispatch.py measures it).
"""

from __future__ import annotations

import json
from functools import cache

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from retention import clock
from retention.dispatch import Dispatcher, Mailer
from retention.journeys import load_journeys
from retention.mail.compose import PromotionShareExceeded
from retention.mail.keys import key_ring
from retention.mail.render import RenderError, renderer
from retention.mail.ses import SesSender, sender_for
from retention.mail.settings import mail_settings
from retention.models.engine_events import JourneyEventAdapter
from retention.observability import logger, metrics, tracer
from retention.settings import settings
from retention.store import bus
from retention.store.messaging import MessagingStore
from retention.validation import InvalidEvent, describe, require_sqs_batch

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def _sender(address: str, configuration_set: str | None, concurrency: int) -> SesSender:
    return sender_for(address, configuration_set, concurrency)


def dispatcher() -> Dispatcher:
    """Cheap to build: renderer, sender and journeys are cached per container; the key ring is
    re-read through its five-minute cache so a key rotation reaches warm containers."""
    mail = mail_settings()
    sender = _sender(mail.sender_address, mail.configuration_set, mail.dispatch_concurrency)
    mailer = Mailer(renderer=renderer(), ring=key_ring(), settings=mail, sender=sender)
    return Dispatcher(
        store=MessagingStore(settings().customers_table),
        definitions=load_journeys(),
        mailer=mailer,
        publish=lambda events: bus.publish(settings().event_bus_name, events),
    )


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    require_sqs_batch(event)
    active = dispatcher()
    return process_partial_response(
        event=event, record_handler=lambda record: record_handler(record, active), processor=processor, context=context
    )


def record_handler(record: SQSRecord, active: Dispatcher) -> None:
    try:
        journey_event = JourneyEventAdapter.validate_python(json.loads(record.body))
    except (ValidationError, json.JSONDecodeError) as exc:
        reason = describe(exc)
        logger.warning("rejected engine event", message_id=record.message_id, reason=reason)
        metrics.add_metric(name="RejectedEvents", unit=MetricUnit.Count, value=1)
        raise InvalidEvent(reason) from exc
    try:
        outcome = active.handle(journey_event, clock.now())
    except (RenderError, PromotionShareExceeded) as exc:
        # A template problem: retrying will not help; the message ends in the DLQ, redrive it once fixed.
        logger.error("email refused", message_id=record.message_id, reason=str(exc)[:300])
        metrics.add_metric(name="TemplateFailures", unit=MetricUnit.Count, value=1)
        raise
    for what, count in outcome.counts.items():
        if ":" not in what:
            metrics.add_metric(name=f"Journey_{what}", unit=MetricUnit.Count, value=count)
    if outcome.sent:
        logger.info(
            "emails sent",
            detail_type=journey_event.detail_type,
            sent=[{"journey": s.journey, "step": s.step, "message_id": s.message_id} for s in outcome.sent],
        )
