"""Turning validation failures into short, PII-free reasons for logs and dead-letter triage."""

from __future__ import annotations

import json

from pydantic import ValidationError


class InvalidEvent(ValueError):
    """A message that can never be processed as sent; it fails alone and ends in the DLQ."""


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
