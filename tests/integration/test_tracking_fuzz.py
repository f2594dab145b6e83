"""Property: any HTTP request to the tracking API gets a 2xx/4xx answer, never a 500 or a redirect
it did not sign (arbitrary method, path, query, headers and body as HTTP API v2 events)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention_tools.local.http_api import http_api_event
from retention_tools.local.runtime import invoke, load_function

segment = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
paths = st.one_of(
    st.builds(lambda p, t: f"/{p}/{t}", st.sampled_from(["o", "c", "u", "p", "x", ""]), segment),
    st.builds(lambda t: f"/c/c.{t}", segment),
    segment.map(lambda t: "/" + t),
)


@settings(
    max_examples=120, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]),
    path=paths,
    query=st.text(max_size=40),
    agent=st.text(max_size=80),
    body=st.binary(max_size=300),
)
def test_any_request_gets_a_clean_answer(aws, method, path, query, agent, body) -> None:
    from urllib.parse import quote

    target = quote(path, safe="/.") + ("?" + quote(query, safe="=&") if query else "")
    event = http_api_event(method, target, {"User-Agent": agent}, body, "203.0.113.5")
    response = invoke(load_function("tracking").handler, event)
    assert 200 <= response["statusCode"] < 500, response
    assert response["statusCode"] != 302 and "Location" not in (response.get("headers") or {})
