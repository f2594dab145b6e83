"""Turning validation failures into short, PII-free reasons for logs and dead-letter triage."""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_JSON_DEPTH = 32
"""Deeper than any event the engine reads (a shop event nests four levels); far below the depth
at which ``json.loads`` and pydantic recurse out of stack (a few thousand)."""
_STRUCTURE = re.compile(r'["\\\[\]{}]')


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


def load_json(body: str, max_depth: int = MAX_JSON_DEPTH) -> object:
    """``json.loads(body)``, refusing with :class:`InvalidEvent` a body nested deeper than
    ``max_depth`` (measured before parsing, so no parser ever recurses on it) and any body the
    parser refuses — including the ones it refuses with ``ValueError`` or ``RecursionError``
    rather than ``JSONDecodeError`` (an integer of more than 4,300 digits)."""
    depth = nesting_depth(body)
    if depth > max_depth:
        raise InvalidEvent(f"body nests deeper than {max_depth} levels")
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(describe(exc)) from exc
    except (ValueError, RecursionError) as exc:
        raise InvalidEvent(f"body is not usable JSON ({type(exc).__name__})") from exc


def nesting_depth(text: str, stop_above: int = MAX_JSON_DEPTH) -> int:
    """How deeply ``[`` and ``{`` nest outside JSON strings; counting stops once above
    ``stop_above``. One pass that visits only quotes, backslashes and brackets (no backtracking
    regex, no recursion), so its cost is linear in the body whatever the body is."""
    depth = deepest = 0
    in_string = False
    position = 0
    while (found := _STRUCTURE.search(text, position)) is not None:
        char, position = found.group(), found.end()
        if in_string:
            if char == "\\":
                position += 1  # the escaped character, whatever it is
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        elif char in "]}":
            depth -= 1
    return deepest


class NotYet(RuntimeError):
    """A failure a later delivery may cure (an event that overtook the one it depends on). Its
    text names identifiers only, so it is the logged reason; the message is retried, then waits
    in the dead-letter queue."""


def failure_reason(error: BaseException) -> str:
    """A one-line reason for any failure of one record, PII-free: validation problems name
    their fields (:func:`describe`); our own refusals carry their message; anything else is named
    by its type only (its text may quote the record), with the cases seen in the wild spelt out."""
    if isinstance(error, (ValidationError, json.JSONDecodeError, InvalidEvent)):
        return describe(error)
    if isinstance(error, ValueError) and type(error).__module__.startswith("retention."):
        return describe(error)  # a domain refusal (CurrencyMismatch, ImplausibleDate): its text is the reason
    if isinstance(error, NotYet):
        return f"{type(error).__name__}: {error}"
    if isinstance(error, RecursionError):
        return "RecursionError: input nested too deeply to process"
    if isinstance(error, OverflowError):
        return "OverflowError: a date or number is out of the range the engine computes with"
    return f"{type(error).__name__} while processing the record"


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
