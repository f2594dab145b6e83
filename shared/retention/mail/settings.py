"""Settings of the functions that render email; parsed once, so a bad deployment fails at cold start."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class MailSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    link_keys_secret: str = Field(alias="LINK_KEYS_SECRET", min_length=1)
    tracking_base_url: HttpUrl | None = Field(default=None, alias="TRACKING_BASE_URL")
    """Where the links of the emails point. Only the dispatcher is given one (the API's endpoint
    or its custom domain, template.yaml); the tracking function answers on the API and takes the
    base of its pages' links from the request. A sender without it refuses to send
    (:mod:`retention.mail.placeholders`)."""
    sender_address: str = Field(alias="SENDER_ADDRESS", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    sender_name: str = Field(default="", alias="SENDER_NAME", max_length=100)
    postal_address: str = Field(alias="SENDER_POSTAL_ADDRESS", min_length=5, max_length=300)
    shop_url: HttpUrl = Field(alias="SHOP_URL")
    promotion_share_limit: float = Field(default=0.2, ge=0, le=1, alias="PROMOTION_SHARE_LIMIT")
    configuration_set: str | None = Field(default=None, alias="EMAIL_CONFIGURATION_SET", max_length=64)
    dispatch_concurrency: int = Field(default=2, ge=1, le=1000, alias="DISPATCH_CONCURRENCY")

    @property
    def tracking_base(self) -> str:
        if self.tracking_base_url is None:
            raise ValueError("TRACKING_BASE_URL is not set: this function cannot build tracking links")
        return str(self.tracking_base_url).rstrip("/")


@cache
def mail_settings() -> MailSettings:
    return MailSettings.model_validate(dict(os.environ))
