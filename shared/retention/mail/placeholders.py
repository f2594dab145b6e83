"""A fail-closed start: no email goes out while the sender or the tracking URL is a placeholder.

The template's defaults (``hello@example.com``) and the names reserved for documentation and
testing (RFC 2606 and RFC 6761: ``example.com/.org/.net``, ``.example``, ``.invalid``,
``.test``, ``.localhost``, loopback addresses) make a stack that deploys, but the emails it
would send come from an address nobody reads and carry unsubscribe links that lead nowhere:
unlawful and unrecoverable once sent. :func:`refuse_placeholders` is called before every send
and raises :class:`PlaceholderSettings` with the reason; the dispatcher logs it, counts it and
fails the record (which the queue's retries then move to the dead-letter queue, to be redriven
once the stack has real settings).

The embedded AWS (``retention_tools.local``) sets :data:`ALLOW_PLACEHOLDERS_ENV` to
``embedded-aws``: its emails never leave the process, so the demo and the tests keep the
template's example.com defaults. No deployed function is given that variable.
"""

from __future__ import annotations

import ipaddress
import os
from functools import cache
from urllib.parse import urlsplit

from retention.mail.settings import MailSettings

ALLOW_PLACEHOLDERS_ENV = "RETENTION_ALLOW_PLACEHOLDERS"
ALLOW_PLACEHOLDERS_VALUE = "embedded-aws"
RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
"""RFC 2606 second-level domains (and every subdomain of them)."""
RESERVED_TOP_LEVEL = frozenset({"example", "invalid", "test", "localhost", "local"})
"""RFC 2606 / RFC 6761 top-level names (``.local`` is mDNS): never a public mailbox or website."""


class PlaceholderSettings(RuntimeError):
    """The function's sender or tracking URL is a placeholder: nothing may be sent."""


def placeholder_host(host: str) -> bool:
    """Whether ``host`` (a domain or an IP address) is reserved for examples, tests or this machine."""
    name = host.strip().rstrip(".").lower()
    if not name:
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        pass
    else:
        return address.is_loopback or address.is_private or address.is_unspecified or address.is_link_local
    if name.rsplit(".", 1)[-1] in RESERVED_TOP_LEVEL:
        return True
    return any(name == domain or name.endswith("." + domain) for domain in RESERVED_DOMAINS)


@cache
def placeholder_reason(sender_address: str, tracking_base: str | None) -> str | None:
    """Why these settings must not send (``None``: they may)."""
    domain = sender_address.rpartition("@")[2]
    if placeholder_host(domain):
        return f"SENDER_ADDRESS {sender_address!r} is a placeholder (SenderAddress must be a verified identity)"
    if tracking_base is None:
        return "TRACKING_BASE_URL is not set (the dispatcher's links would lead nowhere)"
    parts = urlsplit(tracking_base)
    if parts.scheme != "https" or placeholder_host(parts.hostname or ""):
        return f"TRACKING_BASE_URL {tracking_base!r} is a placeholder (unsubscribe links would lead nowhere)"
    return None


def placeholders_allowed() -> bool:
    return os.environ.get(ALLOW_PLACEHOLDERS_ENV) == ALLOW_PLACEHOLDERS_VALUE


def refuse_placeholders(settings: MailSettings) -> None:
    """Raise :class:`PlaceholderSettings` unless ``settings`` may send (see the module)."""
    if placeholders_allowed():
        return
    base = None if settings.tracking_base_url is None else str(settings.tracking_base_url)
    reason = placeholder_reason(settings.sender_address, base)
    if reason is not None:
        raise PlaceholderSettings(f"refusing to send: {reason}")
