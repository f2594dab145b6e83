"""Turning validation failures into short, PII-free reasons for logs and dead-letter triage."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class InvalidEvent(ValueError):
    """A message that can never be processed as sent; it fails alone and ends in the DLQ."""


class InvalidInvocation(InvalidEvent):
    """An invocation that is not the shape its trigger always sends (a direct invoke with junk).

    There is no record in it to report as failed, so the invocation itself is refused, with a
    reason, instead of failing on a missing key deep inside the batch processor.
    """


class _SqsRecordShape(BaseModel):
    model_config = ConfigDict(extra="allow")
    messageId: str = Field(min_length=1)  # noqa: N815 - SQS's own field names
    body: str


class _SqsBatchShape(BaseModel):
    model_config = ConfigDict(extra="allow")
    Records: list[_SqsRecordShape] = Field(min_length=1)


def require_sqs_batch(event: object) -> None:
    """Refuse anything the SQS event source would never send, before the batch processor sees it.

    Only the envelope is checked (each record's message id and body): the bodies themselves are
    validated record by record, so one bad message still fails alone.
    """
    try:
        _SqsBatchShape.model_validate(event)
    except ValidationError as exc:
        raise InvalidInvocation(f"not an SQS batch: {describe(exc)}") from exc


def describe(error: Exception) -> str:
    """A one-line reason naming the offending fields, without echoing their (possibly personal) values."""
    if isinstance(error, ValidationError):
        parts = []
        for problem in error.errors(include_input=False, include_url=False)[:5]:
            location = ".".join(str(part) for part in problem["loc"]) or "event"
            parts.append(f"{location}: {problem['msg']}")
        more = error.error_count() - len(parts)
        return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
    if isinstance(error, json.JSONDecodeError):
        return f"body is not JSON ({error.msg} at position {error.pos})"
    return str(error)[:300]
