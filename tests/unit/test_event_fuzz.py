"""Property: whatever arrives on the ingest queue, parsing gives a model or a clear, PII-free
ValidationError — never another exception."""

from __future__ import annotations

from factories import envelope, order_detail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from retention.models.events import ShopEventAdapter
from retention.validation import describe

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def _parse_or_reason(value: object) -> str | None:
    try:
        ShopEventAdapter.validate_python(value)
    except ValidationError as exc:
        reason = describe(exc)
        assert reason and len(reason) < 2000
        return reason
    return None


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_is_a_model_or_a_validation_error(value):
    _parse_or_reason(value)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(order_detail())), json_values)
def test_any_single_field_of_an_order_replaced_by_junk_never_crashes(field, junk):
    detail = order_detail()
    detail[field] = junk
    reason = _parse_or_reason(envelope("OrderPlaced", detail))
    if reason is not None and isinstance(junk, str) and "@" in junk:
        assert "@" not in reason  # reasons never echo an address-like value
