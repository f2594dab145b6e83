"""Email addresses as SES can send to them (no renderer needed to decide whether one can be emailed)."""

from __future__ import annotations


def deliverable_address(address: str | None) -> str | None:
    """The address as SES can send to it, or None.

    SES does not support SMTPUTF8, so a local part (before the @) must be ASCII; an
    internationalised domain is sent in its punycode form, which every mail system understands.
    """
    if not address or "@" not in address:
        return None
    local, _, domain = address.rpartition("@")
    if not local.isascii() or not local:
        return None
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return f"{local}@{ascii_domain}"
