"""The webhook secrets, one per platform, from the Secrets Manager secret SHOP_WEBHOOK_SECRETS.

The secret is JSON ``{"shopify": ..., "woocommerce": ..., "generic": ...}`` (each value a string,
or a list of strings while rotating). It is read through Powertools Parameters and cached for
:data:`CACHE_SECONDS` per container: a pasted or rotated secret reaches every container within
that time, and a busy endpoint costs one GetSecretValue per container per five minutes.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import TransformParameterError

from retention.connectors.settings import connector_settings
from retention.observability import logger

CACHE_SECONDS = 300


def webhook_secrets() -> dict[str, Any]:
    """Each platform's secret; none at all (so every delivery is refused, 401) when the secret
    is not a JSON object, as after a hand edit that pasted a bare value."""
    name = connector_settings().webhook_secrets
    try:
        value = parameters.get_secret(name, transform="json", max_age=CACHE_SECONDS)
    except TransformParameterError:
        value = None
    if not isinstance(value, dict):
        logger.error("shop webhook secret is not a JSON object of platform secrets: every delivery is refused")
        return {}
    return value
