"""How the SES sender classifies SES v2 SendEmail errors: refused for this address (suppress, do
not retry) or the account's/the moment's (retry), with a run of refusals taken as the account's."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from retention.mail.compose import OutgoingEmail
from retention.mail.ses import REFUSAL_RUN_LIMIT, RateLimiter, RecipientRefused, SendFailed, SesSender

EMAIL = OutgoingEmail(
    message_id="msg-1",
    template="winback_miss_you",
    language="en",
    recipient="leyla@example.com",
    subject="We miss you",
    html="<p>Hi</p>",
    text="Hi",
    mime=b"To: leyla@example.com\r\n\r\nHi",
    urls=(),
    promotion_share=0.0,
)


def _sender() -> tuple[SesSender, Stubber]:
    client = boto3.client("sesv2", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    limiter = RateLimiter(rate=1000, burst=1000, clock=lambda: 0.0, sleep=lambda _: None)
    return SesSender("shop@example.com", None, limiter, ses=client), Stubber(client)


def _refuse(stub: Stubber, code: str, status: int = 400) -> None:
    stub.add_client_error("send_email", service_error_code=code, service_message="refused", http_status_code=status)


def _accept(stub: Stubber) -> None:
    stub.add_response("send_email", {"MessageId": "ses-1"})


@pytest.mark.parametrize("code", ["MessageRejected", "BadRequestException"])
def test_refusals_of_the_address_are_permanent(code: str) -> None:
    sender, stub = _sender()
    _refuse(stub, code)
    with stub, pytest.raises(RecipientRefused) as refused:
        sender.send(EMAIL, {"journey": "winback"})
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("SendingPausedException", 400),
        ("AccountSuspendedException", 400),
        ("MailFromDomainNotVerifiedException", 400),
        ("NotFoundException", 404),
        ("LimitExceededException", 400),
        ("TooManyRequestsException", 429),
        ("InternalFailure", 500),
    ],
)
def test_account_level_and_passing_errors_stay_transient(code: str, status: int) -> None:
    sender, stub = _sender()
    _refuse(stub, code, status)
    with stub, pytest.raises(SendFailed) as failed:
        sender.send(EMAIL, {"journey": "winback"})
    assert not isinstance(failed.value, RecipientRefused) and failed.value.code == code


def test_a_run_of_refusals_is_taken_as_the_accounts_problem_until_a_send_succeeds() -> None:
    # Given SES refuses every address (as it does when the sender identity is not verified)
    sender, stub = _sender()
    for _ in range(REFUSAL_RUN_LIMIT + 2):
        _refuse(stub, "MessageRejected")
    _accept(stub)
    _refuse(stub, "MessageRejected")
    kinds = []
    with stub:
        for _ in range(REFUSAL_RUN_LIMIT + 4):
            try:
                sender.send(EMAIL, {})
                kinds.append("sent")
            except RecipientRefused:
                kinds.append("refused")
            except SendFailed:
                kinds.append("transient")
    # Then only the first refusals suppress; the rest are retried; a success starts a new run
    assert kinds == ["refused"] * REFUSAL_RUN_LIMIT + ["transient"] * 2 + ["sent", "refused"]
