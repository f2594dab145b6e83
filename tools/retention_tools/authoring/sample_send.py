"""``retention send-test``: one real email of a template to a marketer's own inbox.

The email is composed exactly as a journey composes it (same renderer, 80/20 check, signed
links, raw MIME with List-Unsubscribe) for a sample customer from templates/samples.yaml, with
the recipient replaced by the given address, and sent through SES v2 with the deployment's
configuration set. The message id starts with ``test-`` and no send record is written, so the
tracking API answers its links with its neutral page and reports never count it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from retention.mail.catalog import SampleCustomer
from retention.mail.compose import compose
from retention.mail.placeholders import refuse_placeholders
from retention.mail.render import Renderer
from retention.mail.ses import SesSender
from retention.mail.settings import MailSettings
from retention.mail.signing import KeyRing
from retention.models.types import Email
from retention_tools.authoring.samples import sample_coupon, sample_profile

_ADDRESS: TypeAdapter[str] = TypeAdapter(Email)


@dataclass(frozen=True)
class SentTest:
    message_id: str
    ses_message_id: str
    subject: str
    recipient: str


def valid_address(address: str) -> str:
    """The address, normalised; ValueError with a reason if it is not one."""
    return _ADDRESS.validate_python(address)


def send_test(
    template: str,
    to: str,
    sample: SampleCustomer,
    *,
    renderer: Renderer,
    ring: KeyRing,
    settings: MailSettings,
    sender: SesSender,
    now: datetime,
) -> SentTest:
    refuse_placeholders(settings)  # a test email with dead links would pass for a working one
    entry = renderer.catalog.templates[template]
    profile = sample_profile(sample, now).model_copy(update={"email": valid_address(to)})
    coupon = sample_coupon(now, renderer.root) if "coupon" in entry.requires else None
    message_id = f"test-{secrets.token_hex(8)}"
    email = compose(
        renderer, template, profile, message_id=message_id, ring=ring, settings=settings, now=now, coupon=coupon
    )
    ses_id = sender.send(email, {"journey": "send-test", "template": template, "message": message_id})
    return SentTest(message_id, ses_id, email.subject, email.recipient)


def stack_environment(stack: str, cloudformation: Any = None, lambda_client: Any = None) -> dict[str, str]:
    """The deployed dispatcher's environment (sender, tracking URL, key secret, configuration set)."""
    import boto3

    cloudformation = cloudformation or boto3.client("cloudformation")
    lambda_client = lambda_client or boto3.client("lambda")
    function = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId="JourneyDispatchFunction")
    name = function["StackResourceDetail"]["PhysicalResourceId"]
    variables = lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    return {key: str(value) for key, value in variables.items()}
