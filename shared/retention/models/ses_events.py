"""SES event publishing records (configuration set → EventBridge), validated before use.

Only what the engine reads is modelled; SES adds fields over time and they are ignored. The
message id is our own, carried in the ``message`` tag the dispatcher set on every send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from retention.mail.signing import MESSAGE_ID

EventType = Literal[
    "Send", "Delivery", "Bounce", "Complaint", "Reject", "Rendering Failure", "DeliveryDelay", "Open", "Click"
]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SesMail(_Loose):
    timestamp: datetime
    messageId: Annotated[str, Field(max_length=200)]  # noqa: N815 - SES's field name
    tags: dict[str, list[Annotated[str, Field(max_length=256)]]] = Field(default_factory=dict)

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("timestamp must carry a time zone")
        return value

    def tag(self, name: str) -> str | None:
        values = self.tags.get(name) or []
        return values[0] if values else None


class Bounce(_Loose):
    bounceType: Literal["Permanent", "Transient", "Undetermined"]  # noqa: N815
    bounceSubType: str = ""  # noqa: N815


class Engagement(_Loose):
    timestamp: datetime | None = None
    userAgent: Annotated[str, Field(max_length=1024)] = ""  # noqa: N815
    ipAddress: Annotated[str, Field(max_length=64)] = ""  # noqa: N815
    link: Annotated[str, Field(max_length=4096)] = ""


class SesEvent(_Loose):
    eventType: EventType  # noqa: N815
    mail: SesMail
    bounce: Bounce | None = None
    open: Engagement | None = None
    click: Engagement | None = None

    @property
    def message_id(self) -> str | None:
        """Our message id (the ``message`` tag), or None for mail the engine did not send (send-test)."""
        value = self.mail.tag("message")
        return value if value and MESSAGE_ID.match(value) else None


class SesEventEnvelope(_Loose):
    """The EventBridge event around it (``source: aws.ses``)."""

    source: Literal["aws.ses"]
    detail_type: str = Field(alias="detail-type", max_length=100)
    detail: SesEvent
