"""``retention doctor --stack NAME``: is a deployed stack ready to send, one line per check.

A stack deploys in one pass, but a few things only the account's owner can finish: the SES
identity's DNS records, SES production access, confirming the alarm email. The doctor reads the
stack's outputs and asks AWS about each (read-only calls, nothing changed) so the engineer sees
what is left instead of finding out from a silent dead-letter queue:

    ok   SES identity: coffee-corner.shop verified (sender hello@coffee-corner.shop)
    FAIL SES production access: the account is in the SES sandbox ...

Exit code 0 when every check passes, 1 when one fails, 2 when the stack cannot be read. The
same checks run against the embedded AWS (``EmbeddedAws.register_stack``) in the tests.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

HTTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


class StackUnreadable(RuntimeError):
    """The stack or its outputs cannot be read (wrong name, region or credentials)."""


Clients = Callable[[str], Any]
"""``service name -> boto3 client`` (the tests hand in the embedded AWS's)."""


def stack_outputs(stack: str, clients: Clients) -> dict[str, str]:
    try:
        (found,) = clients("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except (ClientError, BotoCoreError, ValueError) as error:
        raise StackUnreadable(f"stack {stack!r} cannot be read: {error}") from error
    return {output["OutputKey"]: output["OutputValue"] for output in found.get("Outputs", [])}


def _error(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or error)
    return type(error).__name__


def check_sender_identity(outputs: dict[str, str], clients: Clients) -> Check:
    from retention.mail.placeholders import placeholder_host, placeholders_allowed

    name = "SES identity"
    sender = outputs.get("SenderAddress", "")
    if "@" not in sender:
        return Check(name, False, "the stack has no SenderAddress output (deployed from an older template?)")
    domain = sender.rpartition("@")[2]
    if placeholder_host(domain) and not placeholders_allowed():
        return Check(name, False, f"{sender} is a placeholder: redeploy with SenderAddress set to your own address")
    ses = clients("sesv2")
    for identity in (sender, domain):  # an address identity, or the domain's (what CreateSenderIdentity makes)
        try:
            found = ses.get_email_identity(EmailIdentity=identity)
        except ClientError as error:
            if _error(error) == "NotFoundException":
                continue
            return Check(name, False, f"cannot read the identity {identity}: {_error(error)}")
        if found.get("VerifiedForSendingStatus") or found.get("VerificationStatus") == "SUCCESS":
            return Check(name, True, f"{identity} verified (sender {sender})")
        status = found.get("VerificationStatus") or found.get("DkimAttributes", {}).get("Status", "PENDING")
        todo = "add the DKIM CNAME records (the SenderDkimRecord outputs) to the domain's DNS"
        return Check(name, False, f"{identity} is not verified yet ({status}): {todo}")
    return Check(name, False, f"no SES identity for {sender} or {domain}: create one (CreateSenderIdentity=true)")


def check_production_access(outputs: dict[str, str], clients: Clients) -> Check:
    name = "SES production access"
    try:
        account = clients("sesv2").get_account()
    except (ClientError, BotoCoreError) as error:
        return Check(name, False, f"cannot read the SES account: {_error(error)}")
    if not account.get("SendingEnabled", True):
        return Check(name, False, "sending is paused for this account (SES console: account dashboard)")
    if not account.get("ProductionAccessEnabled"):
        return Check(
            name,
            False,
            "the account is in the SES sandbox: it sends only to verified addresses "
            "(SES console: account dashboard, request production access)",
        )
    rate = account.get("SendQuota", {}).get("MaxSendRate")
    return Check(name, True, f"out of the sandbox ({rate:g} emails a second)" if rate else "out of the sandbox")


def check_configuration_set(outputs: dict[str, str], clients: Clients) -> Check:
    name = "SES configuration set"
    configuration_set = outputs.get("EmailConfigurationSetName", "")
    if not configuration_set:
        return Check(name, False, "the stack has no EmailConfigurationSetName output")
    ses = clients("sesv2")
    try:
        ses.get_configuration_set(ConfigurationSetName=configuration_set)
        destinations = ses.get_configuration_set_event_destinations(ConfigurationSetName=configuration_set)
    except (ClientError, BotoCoreError) as error:
        return Check(name, False, f"{configuration_set}: {_error(error)}")
    to_the_bus = [
        d for d in destinations.get("EventDestinations", []) if d.get("Enabled") and d.get("EventBridgeDestination")
    ]
    if not to_the_bus:
        return Check(name, False, f"{configuration_set} publishes no events to EventBridge: bounces would go unseen")
    kinds = sorted({kind for d in to_the_bus for kind in d.get("MatchingEventTypes", [])})
    return Check(name, True, f"{configuration_set} publishes {', '.join(kinds)} to EventBridge")


def check_tracking_api(outputs: dict[str, str], clients: Clients, timeout: float = HTTP_TIMEOUT) -> Check:
    """GET /o/<a well-formed token signed with a key the stack does not have>: the deployed
    function must answer it 404 (a 5xx, a timeout or a 403 is a broken or unmapped API)."""
    from retention.mail.placeholders import placeholder_host, placeholders_allowed
    from retention.mail.signing import KeyRing, Purpose

    name = "tracking API"
    base = (outputs.get("TrackingBaseUrl") or outputs.get("TrackingApiUrl") or "").rstrip("/")
    if not base:
        return Check(name, False, "the stack has no TrackingBaseUrl output")
    parts = urlsplit(base)
    if (parts.scheme != "https" or placeholder_host(parts.hostname or "")) and not placeholders_allowed():
        return Check(name, False, f"{base} is not a public https URL")
    ring = KeyRing(current="doctor", keys={"doctor": secrets.token_urlsafe(32).encode()})
    url = f"{base}/o/{ring.sign(Purpose.OPEN, 'doctor-' + secrets.token_hex(8))}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - the stack's own https URL
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return Check(name, False, f"{base} does not answer ({reason}); a custom domain needs its DNS record")
    if status != 404:
        return Check(name, False, f"GET {base}/o/<bad token> answered {status}, expected 404")
    return Check(name, True, f"{base} answers a bad token with 404")


def check_key_ring(outputs: dict[str, str], clients: Clients) -> Check:
    name = "link signing keys"
    secret = outputs.get("LinkSigningKeysSecretArn", "")
    if not secret:
        return Check(name, False, "the stack has no LinkSigningKeysSecretArn output")
    try:
        described = clients("secretsmanager").describe_secret(SecretId=secret)
    except (ClientError, BotoCoreError) as error:
        return Check(name, False, f"{secret}: {_error(error)}")
    if described.get("DeletedDate"):
        return Check(name, False, f"{described.get('Name', secret)} is scheduled for deletion: every link would fail")
    return Check(name, True, f"{described.get('Name', secret)} exists")


def check_alarm_topic(outputs: dict[str, str], clients: Clients) -> Check:
    name = "alarm topic"
    topic = outputs.get("AlarmTopicArn", "")
    if not topic:
        return Check(name, False, "the stack has no AlarmTopicArn output")
    try:
        found = clients("sns").list_subscriptions_by_topic(TopicArn=topic).get("Subscriptions", [])
    except (ClientError, BotoCoreError) as error:
        return Check(name, False, f"{topic}: {_error(error)}")
    confirmed = [s for s in found if str(s.get("SubscriptionArn", "")).startswith("arn:")]
    pending = len(found) - len(confirmed)
    if not confirmed:
        waiting = f" ({pending} waiting for confirmation: click the link SNS emailed)" if pending else ""
        return Check(name, False, f"nobody is told when an alarm fires: no confirmed subscription{waiting}")
    endpoints = ", ".join(sorted(f"{s.get('Protocol')}:{s.get('Endpoint')}" for s in confirmed))
    return Check(name, True, f"{len(confirmed)} confirmed ({endpoints})" + (f", {pending} pending" if pending else ""))


CHECKS = (
    check_sender_identity,
    check_production_access,
    check_configuration_set,
    check_tracking_api,
    check_key_ring,
    check_alarm_topic,
)


def diagnose(stack: str, clients: Clients) -> list[Check]:
    """Every check against the stack's outputs, in order (raises :class:`StackUnreadable`)."""
    outputs = stack_outputs(stack, clients)
    return [check(outputs, clients) for check in CHECKS]


def _run(args: argparse.Namespace) -> int:
    import boto3

    session = boto3.session.Session(region_name=args.region) if args.region else boto3.session.Session()
    try:
        checks = diagnose(args.stack, session.client)
    except StackUnreadable as error:
        print(error, file=sys.stderr)
        return 2
    for check in checks:
        print(check.line())
    failed = sum(not check.ok for check in checks)
    print(f"{len(checks) - failed} of {len(checks)} checks passed" if failed else "ready to send")
    return 1 if failed else 0


def register_doctor(commands: Any) -> None:
    """Add ``retention doctor`` to the CLI's subcommands."""
    doctor = commands.add_parser("doctor", help="check that a deployed stack is ready to send (SES, tracking, alarms)")
    doctor.add_argument("--stack", required=True, help="the CloudFormation stack's name")
    doctor.add_argument("--region", default=None, help="the stack's region (default: the AWS configuration's)")
    doctor.set_defaults(run=_run)
