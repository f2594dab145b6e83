"""Property tests: arbitrary input to every parser a handler uses, and arbitrary customer strings
through the renderer. Bad input must become a clear validation error, never another exception;
customer text must come out of the HTML part escaped."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mail_helpers import composed, profile
from pydantic import ValidationError

from retention.mail.render import Renderer
from retention.mail.signing import InvalidToken, KeyRing
from retention.models.engine_events import JourneyEventAdapter
from retention.models.profile import ItemSummary
from retention.models.ses_events import SesEventEnvelope
from retention.validation import describe

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
FAST = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)


def _model_or_reason(parse, value) -> None:
    try:
        parse(value)
    except ValidationError as exc:
        assert describe(exc)


@FAST
@given(json_values)
def test_engine_events_arbitrary_json(value) -> None:
    _model_or_reason(JourneyEventAdapter.validate_python, value)


@FAST
@given(st.dictionaries(st.sampled_from(["source", "detail-type", "detail", "time", "id"]), json_values, max_size=5))
def test_engine_events_envelopes_with_junk(value) -> None:
    _model_or_reason(JourneyEventAdapter.validate_python, {"source": "retention.engine", **value})


@FAST
@given(json_values)
def test_ses_events_arbitrary_json(value) -> None:
    _model_or_reason(SesEventEnvelope.model_validate, value)


SES_SAMPLE = {
    "source": "aws.ses",
    "detail-type": "Email Bounced",
    "detail": {
        "eventType": "Bounce",
        "mail": {"timestamp": "2026-03-14T10:00:01Z", "messageId": "x", "tags": {"message": ["a" * 32]}},
        "bounce": {"bounceType": "Permanent"},
    },
}


@FAST
@given(st.sampled_from(["eventType", "mail", "bounce"]), json_values)
def test_ses_events_with_one_field_replaced(field, junk) -> None:
    body = json.loads(json.dumps(SES_SAMPLE))
    body["detail"][field] = junk
    _model_or_reason(SesEventEnvelope.model_validate, body)


RING = KeyRing("k1", {"k1": b"k" * 40})


@FAST
@given(st.text(max_size=200))
def test_arbitrary_tokens_are_refused_cleanly(token) -> None:
    try:
        RING.verify(token)
    except InvalidToken:
        return
    raise AssertionError(f"accepted a token nobody signed: {token!r}")


customer_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40
).filter(lambda s: s.strip())


def _structure(name: str, item: str) -> tuple[int, int, int]:
    customer = profile(
        name=name, last_items=[ItemSummary(sku="X", name=item, category="coffee-beans", price="1.00", qty=1)]
    )
    page = composed(Renderer(), "post_purchase_thanks", customer).html
    return page.count("<"), page.count(">"), page.count('"')


BENIGN = _structure("Anna Smith", "Beans")


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(name=customer_text, item=customer_text)
def test_any_customer_text_comes_out_escaped(name, item) -> None:
    # Whatever a customer typed, the HTML has exactly the tags and attribute quotes it has for
    # "Anna Smith" buying "Beans": every <, > and " of theirs was escaped, none became markup.
    assert _structure(name, item) == BENIGN
