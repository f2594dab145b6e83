"""Link-signing keys come from the template's Secrets Manager secret and rotate without breaking old links."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities import parameters

from retention.mail.keys import key_ring
from retention.mail.settings import mail_settings
from retention.mail.signing import Purpose
from retention_tools.local.embedded import EmbeddedAws


def test_key_ring_is_read_from_the_template_secret_and_rotates(aws: EmbeddedAws) -> None:
    secret_arn = aws.resources.secrets["LinkSigningKeys"]
    assert mail_settings().link_keys_secret == secret_arn
    ring = key_ring()
    assert ring.current == "k1" and len(ring.keys["k1"]) == 64
    old_token = ring.sign(Purpose.CLICK, "msg-0000000001", 3)

    secrets = aws.client("secretsmanager")
    current = json.loads(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])
    secrets.put_secret_value(SecretId=secret_arn, SecretString=json.dumps({**current, "current": "k2", "k2": "n" * 48}))
    parameters.clear_caches()  # in Lambda the 5-minute cache expires by itself

    rotated = key_ring()
    assert rotated.verify(old_token).index == 3
    assert rotated.sign(Purpose.OPEN, "msg-0000000001").split(".")[3] == "k2"
