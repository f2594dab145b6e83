"""The local outbox: every email the embedded SES accepted, as ``.eml`` and ``.html`` files.

Open the ``.html`` in a browser to see what a customer would see; the ``.eml`` is the exact
raw MIME sent (headers, text and HTML parts), readable by any mail client.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from retention_tools.local.embedded import ACCOUNT, REGION


@dataclass(frozen=True)
class OutboxMail:
    raw: str
    message: Message

    @property
    def template(self) -> str:
        return str(self.message.get("X-Retention-Template", ""))

    @property
    def message_id(self) -> str:
        return str(self.message.get("X-Retention-Message-Id", ""))

    def html(self) -> str:
        for part in self.message.walk():
            if part.get_content_type() == "text/html":
                payload = part.get_payload(decode=True)
                return payload.decode(part.get_content_charset() or "utf-8") if isinstance(payload, bytes) else ""
        return ""


def _sent() -> list[Any]:
    from moto.ses.models import ses_backends  # the embedded server runs in this process

    return ses_backends[ACCOUNT][REGION].sent_messages


def sent_mail(start: int = 0) -> Iterator[OutboxMail]:
    """Mail the embedded SES accepted, from the ``start``-th message on."""
    for raw in _sent()[start:]:
        data = getattr(raw, "raw_data", None)
        if data:
            yield OutboxMail(data, email.message_from_string(data))


def sent_count() -> int:
    return len(_sent())


def write_outbox(directory: Path, mails: list[OutboxMail]) -> int:
    """Write each mail as ``<date>_<template>_<message id>.eml`` and ``.html``; returns files written."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.eml"):
        old.unlink()
    for old in directory.glob("*.html"):
        old.unlink()
    for mail in mails:
        date = parsedate_to_datetime(mail.message["Date"]) if mail.message["Date"] else None
        stem = "_".join(
            part
            for part in (f"{date:%Y-%m-%d}" if date else "undated", mail.template or "email", mail.message_id[:12])
            if part
        )
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", stem)
        (directory / f"{stem}.eml").write_text(mail.raw, encoding="utf-8")
        (directory / f"{stem}.html").write_text(mail.html(), encoding="utf-8")
    return len(mails) * 2
