"""The webhook secrets, one per platform, from the Secrets Manager secret SHOP_WEBHOOK_SECRETS.

The secret is JSON ``{"shopify": ..., "woocommerce": ..., "generic": ...}`` (each value a string,
or a list of strings while rotating). It is read through Powertools Parameters and cached for
:data:`CACHE_SECONDS` per container: a pasted or rotated secret reaches every container within
that time, and a busy endpoint costs one GetSecretValue per container per five minutes.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

from retention.connectors.settings import connector_settings

CACHE_SECONDS = 300


def webhook_secrets() -> dict[str, Any]:
    value = parameters.get_secret(connector_settings().webhook_secrets, transform="json", max_age=CACHE_SECONDS)
    return value if isinstance(value, dict) else {}
