"""The webhook function's own settings (template.yaml gives only ShopWebhookFunction these)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class ConnectorSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    webhook_secrets: str = Field(alias="SHOP_WEBHOOK_SECRETS", min_length=1)
    """Name or ARN of the Secrets Manager secret holding each platform's webhook secret."""
    shop_event_source: str = Field(alias="SHOP_EVENT_SOURCE", min_length=1, max_length=256)
    """The EventBridge ``source`` the ingest rule takes shop events from (ShopEventSource)."""


@cache
def connector_settings() -> ConnectorSettings:
    """Read once per process: a Lambda's environment never changes."""
    return ConnectorSettings.model_validate(dict(os.environ))
