"""Why the tracking API refuses a link, in the domain's words; the HTTP status is the handler's.

Every refusal answers the same neutral page (a transparent GIF for the pixel): the reason is
for the log, never for the reader, so a token forger learns nothing from the answer.
"""

from __future__ import annotations


class RefusedLink(Exception):
    """A tracking link the API will not act on; ``reason`` is for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedLink(RefusedLink):
    """The text is not a token at all."""


class UnknownLink(RefusedLink):
    """A token this deployment did not sign (bad signature, unknown key), or one naming an email
    or a link that does not exist (never sent, forgotten on request, an index the email lacked)."""


class WrongPurpose(RefusedLink):
    """A genuine token used on another route (an open token as a click, a click as an unsubscribe)."""
