"""Order ingest: shop events from SQS (fed by EventBridge) into customer profiles, once each.

Each record fails alone (partial batch response) with a reason in the log: a message no retry can
cure is refused (InvalidEvent, then the DLQ); anything else is retried, then dead-lettered."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from retention.forget import eraser
from retention.ingest import ImplausibleDate, Outcome, apply_shop_event
from retention.models.events import ShopEvent
from retention.observability import logger, metrics, tracer
from retention.profiles import CurrencyMismatch
from retention.settings import settings
from retention.store import bus
from retention.store.customers import CustomerStore
from retention.validation import InvalidEvent, failure_reason, load_json, require_sqs_batch

REFUSED = (InvalidEvent, ValidationError, CurrencyMismatch, ImplausibleDate, OverflowError, RecursionError)
"""Failures no retry can cure (a refund for an order not applied yet is retried, not refused)."""

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict, context: LambdaContext) -> dict:
    require_sqs_batch(event)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


def record_handler(record: SQSRecord) -> None:
    try:
        shop_event = parse(event=load_json(record.body), model=ShopEvent)
        config, store = settings(), CustomerStore(settings().customers_table)
        erase = eraser(config.customers_table)
        outcome = apply_shop_event(shop_event, store, _publish, config.max_clock_skew, config.consent_policy, erase)
    except REFUSED as exc:
        reason = failure_reason(exc)
        logger.warning("rejected shop event", message_id=record.message_id, reason=reason)
        metrics.add_metric(name="RejectedEvents", unit=MetricUnit.Count, value=1)
        raise InvalidEvent(reason) from exc
    except Exception as exc:  # the record boundary: whatever failed, the log says why, then SQS retries
        logger.exception("shop event failed", message_id=record.message_id, reason=failure_reason(exc))
        metrics.add_metric(name="FailedEvents", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=f"{shop_event.detail_type}{outcome.value.title()}", unit=MetricUnit.Count, value=1)
    if outcome is Outcome.DUPLICATE:
        logger.info("duplicate shop event ignored", message_id=record.message_id, detail_type=shop_event.detail_type)


def _publish(events: list[bus.EngineEvent]) -> None:
    bus.publish(settings().event_bus_name, events)
