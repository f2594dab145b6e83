"""Email addresses never reach the logs in clear."""

from __future__ import annotations

import io
import json
import logging

from retention.observability import MaskingFormatter, mask_emails


def test_mask_emails_keeps_the_first_letter_and_the_domain() -> None:
    assert mask_emails("to anna.k+shop@example.co.uk, cc b@x.io") == "to a***@example.co.uk, cc b***@x.io"
    assert mask_emails("no address here @ all") == "no address here @ all"


def test_the_logger_masks_messages_and_extra_keys() -> None:
    from aws_lambda_powertools import Logger

    stream = io.StringIO()
    logger = Logger(
        service="mask-test", logger_formatter=MaskingFormatter(), logger_handler=logging.StreamHandler(stream)
    )
    logger.warning("rejected event for leyla@example.com", reason="email 'leyla@example.com' is not deliverable")
    record = json.loads(stream.getvalue())
    assert "leyla@example.com" not in stream.getvalue()
    assert record["message"] == "rejected event for l***@example.com"
    assert record["reason"] == "email 'l***@example.com' is not deliverable"
