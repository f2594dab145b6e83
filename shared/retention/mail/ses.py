"""Sending through SES v2: raw MIME, a configuration set for event publishing, a rate limit.

SES refuses mail above the account's maximum send rate with a throttling error. Two layers
keep us under it: a token bucket per container paced at ``MaxSendRate / concurrency`` (the
dispatcher's SQS event source caps how many containers run at once), and botocore's standard
retry mode, which retries ``TooManyRequestsException``/``Throttling`` with backoff. A send that
still fails raises :class:`SendFailed`; the caller releases its claim so the retry sends it once.

SES v2 ``SendEmail`` errors fall in two kinds. Refusals of *this email to this address* —
``MessageRejected`` and ``BadRequestException`` (our request is built from validated fields, so
what is left to be invalid is the address SES was given) — raise :class:`RecipientRefused`: a
retry can only be refused again, so the caller suppresses the address instead. Everything else is
about the account or the moment — throttling (``TooManyRequestsException``,
``LimitExceededException``), ``SendingPausedException``, ``AccountSuspendedException``,
``MailFromDomainNotVerifiedException``, ``NotFoundException`` (the configuration set), network
errors — and stays transient: retried, and after the queue's retries in the DLQ, never a
suppression. Because a misconfigured sender identity also answers ``MessageRejected``, a run of
``REFUSAL_RUN_LIMIT`` refusals in a row with no send between them is treated as the account's
problem, not the addresses': further refusals are transient until a send succeeds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from retention.mail.compose import OutgoingEmail
from retention.store.dynamo import RETRY_CONFIG

log = logging.getLogger(__name__)
FALLBACK_SEND_RATE = 1.0
"""SES's sandbox rate, used when the account's quota cannot be read."""
REFUSED_FOR_THE_ADDRESS = frozenset({"MessageRejected", "BadRequestException"})
"""SES v2 SendEmail error codes that refuse this email to this address for good."""
REFUSAL_RUN_LIMIT = 5
"""Refusals in a row (no successful send between them) after which they are taken to be the account's."""


class SendFailed(RuntimeError):
    """SES did not accept the email (after retries); nothing was sent. ``code`` is SES's error
    code (or the botocore exception's name); retrying later may succeed."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class RecipientRefused(SendFailed):
    """SES refused this email to this address for good (see the module): nothing was sent and a
    retry would be refused again; the address is to be suppressed as undeliverable."""


@dataclass
class RateLimiter:
    """A token bucket: at most ``rate`` acquisitions per second on average, bursts up to ``burst``.

    ``clock`` and ``sleep`` are injectable so tests run on a fake clock and never sleep.
    """

    rate: float
    burst: float = 1.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _tokens: float = field(init=False)
    _updated: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("rate must be positive")
        self.burst = max(self.burst, 1.0)
        self._tokens = self.burst
        self._updated = self.clock()

    def acquire(self) -> float:
        """Take one token, waiting until one is available; returns the seconds waited."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            self._tokens -= 1
        if wait > 0:
            self.sleep(wait)
        return wait


@cache
def client() -> Any:
    return boto3.client("sesv2", config=RETRY_CONFIG)


def account_send_rate() -> float:
    """The account's maximum send rate (emails per second) from SES v2 ``GetAccount``."""
    try:
        quota = client().get_account().get("SendQuota", {})
    except (ClientError, BotoCoreError):
        return FALLBACK_SEND_RATE
    return float(quota.get("MaxSendRate") or FALLBACK_SEND_RATE)


class SesSender:
    """Sends composed emails; one per container, shared by every record of every batch."""

    def __init__(
        self, sender_address: str, configuration_set: str | None, limiter: RateLimiter, ses: Any | None = None
    ) -> None:
        self.sender_address = sender_address
        self.configuration_set = configuration_set
        self.limiter = limiter
        self.ses = ses
        self.refusals_in_a_row = 0

    def send(self, email: OutgoingEmail, tags: dict[str, str]) -> str:
        """Send ``email`` (raw MIME, so List-Unsubscribe and our headers go out unchanged); SES's id."""
        self.limiter.acquire()
        request: dict[str, Any] = {
            "FromEmailAddress": self.sender_address,
            "Destination": {"ToAddresses": [email.recipient]},
            "Content": {"Raw": {"Data": email.mime}},
            "EmailTags": [{"Name": name, "Value": _tag_value(value)} for name, value in tags.items()],
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            response = (self.ses or client()).send_email(**request)
        except (ClientError, BotoCoreError) as exc:
            code = str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""
            code = code or type(exc).__name__
            if code in REFUSED_FOR_THE_ADDRESS:
                self.refusals_in_a_row += 1
                if self.refusals_in_a_row <= REFUSAL_RUN_LIMIT:
                    raise RecipientRefused(f"SES refused message {email.message_id} for good: {code}", code) from exc
                log.error("SES refuses every address in a row: taken as an account problem", extra={"code": code})
            raise SendFailed(f"SES refused message {email.message_id}: {code}", code) from exc
        self.refusals_in_a_row = 0
        return str(response["MessageId"])


def _tag_value(value: str) -> str:
    """SES tag values allow only ASCII letters, digits, ``_``, ``-``, ``.``, ``@`` (256 chars)."""
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_-.@") else "_" for ch in value)
    return cleaned[:256] or "_"


def sender_for(sender_address: str, configuration_set: str | None, concurrency: int) -> SesSender:
    """A sender paced at this container's share of the account's send rate."""
    rate = account_send_rate() / max(1, concurrency)
    return SesSender(sender_address, configuration_set, RateLimiter(rate=rate, burst=max(1.0, rate)))
