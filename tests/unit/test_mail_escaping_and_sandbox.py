"""Customer data never reaches HTML unescaped; marketer templates cannot leave the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.sandbox import SecurityError
from mail_helpers import COUPON, add_template, composed, html_email, profile, render, template_root, text_email

from retention.mail.environment import build_environment
from retention.mail.render import Renderer, RenderError
from retention.models.profile import ItemSummary

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "Robert'); DROP TABLE--",
    "<a href='javascript:alert(1)'>click</a>",
    "{{ 7*7 }} {% raw %}",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
@pytest.mark.parametrize("template", ["winback_miss_you", "post_purchase_thanks", "review_request"])
def test_customer_fields_come_out_escaped_in_html(payload: str, template: str) -> None:
    customer = profile(
        name=f"{payload} Smith",
        last_items=[ItemSummary(sku="X", name=payload, category="coffee-beans", price="1.00", qty=1)],
    )
    email = composed(Renderer(), template, customer)
    assert "<script" not in email.html
    assert "onerror=alert" not in email.html.replace("onerror=alert(1)&gt;", "")
    assert "<img src=x" not in email.html
    assert "javascript:" not in email.html.replace("&#39;javascript:", "")
    assert "49" not in email.subject  # a name is data, never evaluated as a template


def test_payload_is_visible_as_text_rather_than_markup() -> None:
    email = composed(Renderer(), "winback_miss_you", profile(name="<b>Bold</b> Smith"))
    assert "Hi &lt;b&gt;Bold&lt;/b&gt;," in email.html
    assert "Hi <b>Bold</b>," in email.text  # the text part is plain text: shown as typed


def test_control_characters_and_header_injection_are_removed_from_subject() -> None:
    email = composed(Renderer(), "post_purchase_thanks", profile(name="Eve\r\nBcc: victim@example.com"))
    assert "\n" not in email.subject and "\r" not in email.subject
    assert b"\r\nBcc:" not in email.mime


SANDBOX_ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ customer.__class__ }}",
    "{{ customer | attr('__class__') }}",
    "{{ content | attr('__init__') }}",
    "{{ '{0.__class__.__base__}'.format(customer) }}",
    "{{ '%s' | format(customer.__class__) }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ self._TemplateReference__context }}",
    "{% set _ = content.append(1) %}",
    "{{ customer.update({'email': 'attacker@example.com'}) }}",
    "{{ 'x' * 100000000 }}",
    "{{ 9 ** 999999 }}",
    "{{ range(100000000) | list | length }}",
    "{{ customer.get.__self__ }}",
]


@pytest.mark.parametrize("payload", SANDBOX_ESCAPES)
def test_sandbox_escape_payload_in_a_template_is_refused(tmp_path: Path, payload: str) -> None:
    root = template_root(tmp_path)
    add_template(root, "evil", html_email(f"<p>{payload}</p>"), text_email("x"))
    with pytest.raises(RenderError) as refused:
        render(Renderer(root), "evil")
    assert refused.value.template == "evil"


def test_format_string_trick_cannot_read_attributes() -> None:
    env = build_environment(Path(__file__).resolve().parents[2] / "templates")
    with pytest.raises(SecurityError):
        env.from_string("{{ '{0.__class__}'.format(x) }}").render(x="s")


def test_undefined_variable_is_an_error_not_an_empty_hole(tmp_path: Path) -> None:
    root = template_root(tmp_path)
    add_template(root, "typo", html_email("<p>Hi {{ customer.frist_name }},</p>"), text_email("x"))
    with pytest.raises(RenderError, match="frist_name"):
        render(Renderer(root), "typo")


def test_customer_without_a_name_is_greeted_without_a_gap() -> None:
    renderer = Renderer()
    for template in renderer.catalog.templates:
        email = render(renderer, template, profile(name=""), coupon=COUPON)
        assert "Hi ," not in email.html and "Hi ," not in email.text, template
        assert " ," not in email.subject, template
