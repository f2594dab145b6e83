"""Email addresses as SES can send to them, and the To header that carries one.

Nothing here trusts what the store holds: an address stored before ingest validated with
email-validator (or written by another tool) is checked again before each send, and the To
header is built by the standard library's address formatter, never by pasting text.
"""

from __future__ import annotations

from email.utils import formataddr

from retention.models.types import clean_text


def deliverable_address(address: str | None) -> str | None:
    """The address as SES can send to it, or None.

    The same syntax as ingest (:func:`retention.models.types.normalise_email`: RFC 5322
    dot-atom, no quoting, comments, groups or control characters), and in addition ASCII before
    the @: SES does not support SMTPUTF8. An internationalised domain is sent in its punycode
    form, which every mail system understands.
    """
    if not address:
        return None
    from email_validator import EmailNotValidError, validate_email  # 40 ms of regexes: paid on first use

    try:
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=False, strict=True)
    except EmailNotValidError:
        return None
    return checked.ascii_email


def to_header(name: str, address: str) -> str:
    """The To header for ``address`` (as :func:`deliverable_address` returned it) and the
    customer's ``name``: ``Name <address>``, the name quoted when it holds specials (``"O'Brien,
    Ann" <…>``) and RFC 2047-encoded when it is not ASCII. Control characters are removed from
    the name again here, so no stored value can add a header line."""
    return formataddr((clean_text(name), address), charset="utf-8")
