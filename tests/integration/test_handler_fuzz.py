"""Property: whatever a handler is invoked with, it answers or refuses with a reason — never a
KeyError or TypeError from deep inside.

* SQS handlers (ingest, journeys, SES events): an envelope the SQS event source would never send
  is refused as a whole with :class:`InvalidInvocation` naming what is wrong; in a well-formed
  envelope, any body fails alone (reported in ``batchItemFailures``), never the batch.
* Scheduled handlers carry no data: any payload is ignored and the job runs.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention.validation import InvalidInvocation
from retention_tools.local.runtime import invoke, load_function

SQS_HANDLERS = ["order_ingest", "journey_dispatch", "ses_events"]
SCHEDULED_HANDLERS = ["timer_sweep", "journey_health", "segment_stats"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=12,
)
envelopes = st.one_of(
    json_values,
    st.fixed_dictionaries({"Records": json_values}),
    st.fixed_dictionaries({"Records": st.lists(st.dictionaries(st.sampled_from(["messageId", "body"]), json_values))}),
)
bodies = st.one_of(
    st.text(max_size=60),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {
            "source": st.sampled_from(["shop", "retention.engine", "aws.ses", "x"]),
            "detail-type": st.sampled_from(["OrderPlaced", "CustomerInactive", "Email Bounced", "?"]),
            "detail": json_values,
        }
    ).map(json.dumps),
)
fuzz = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def _record(message_id: str, body: str) -> dict:
    return {"messageId": message_id, "receiptHandle": "r", "body": body, "eventSource": "aws:sqs"}


@pytest.mark.parametrize("function", SQS_HANDLERS)
@fuzz
@given(event=envelopes)
def test_a_malformed_sqs_envelope_is_refused_with_a_reason(aws, function, event) -> None:
    handler = load_function(function).handler
    try:
        response = invoke(handler, event)
    except InvalidInvocation as refused:
        assert str(refused).startswith("not an SQS batch: ") and len(str(refused)) < 2000
    else:  # only a real envelope gets this far: each of its records answered for
        ids = {record["messageId"] for record in event["Records"]}
        assert {item["itemIdentifier"] for item in response["batchItemFailures"]} <= ids


@pytest.mark.parametrize("function", SQS_HANDLERS)
@fuzz
@given(payloads=st.lists(bodies, min_size=1, max_size=5))
def test_any_body_is_a_failed_item_never_a_crash(aws, function, payloads) -> None:
    records = [_record(f"m{i}", body) for i, body in enumerate(payloads)]
    response = invoke(load_function(function).handler, {"Records": records})
    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    assert failed == {r["messageId"] for r in records}  # junk is never an event; each is reported


@pytest.mark.parametrize("function", SCHEDULED_HANDLERS)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=json_values)
def test_scheduled_jobs_ignore_their_payload(aws, function, event) -> None:
    response = invoke(load_function(function).handler, event)
    assert isinstance(response, dict) and response


@pytest.mark.parametrize("function", SQS_HANDLERS)
@pytest.mark.parametrize(
    "body",
    ["[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000, "1" * 5000],
    ids=["deep_list", "deep_object", "huge_integer"],
)
def test_bodies_that_break_the_json_parser_fail_alone_with_a_reason(aws, function, body, caplog) -> None:
    records = [_record("bad", body)]
    response = invoke(load_function(function).handler, {"Records": records})
    assert response["batchItemFailures"] == [{"itemIdentifier": "bad"}]
    assert any(
        "nests deeper than" in str(getattr(r, "reason", "")) or "not usable JSON" in str(getattr(r, "reason", ""))
        for r in caplog.records
    )
