"""The link-signing key ring, read from Secrets Manager through Powertools Parameters.

Cached for five minutes per container: a rotation (new key id made current) reaches every
function within that time, and old tokens keep verifying as long as their key stays in the secret.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

from retention.mail.settings import mail_settings
from retention.mail.signing import KeyRing

CACHE_SECONDS = 300


def key_ring() -> KeyRing:
    secret = parameters.get_secret(mail_settings().link_keys_secret, transform="json", max_age=CACHE_SECONDS)
    return KeyRing.from_secret(secret)  # type: ignore[arg-type]
