"""Locale variants and formatting; CSS inlined into the template sources at load time."""

from __future__ import annotations

from pathlib import Path

from jinja2.sandbox import ImmutableSandboxedEnvironment
from mail_helpers import COUPON, add_template, profile, render, template_root, text_email

from retention.mail.css import inline_template_source
from retention.mail.render import Renderer


def test_german_customer_gets_the_german_variant_and_german_formats() -> None:
    rendered = render(Renderer(), "winback_miss_you", profile(locale="de-DE", name="Greta Schneider"))
    assert rendered.language == "de"
    assert rendered.subject == "Ein paar Tipps für Ihre nächste Tasse"
    assert "Hallo Greta," in rendered.text
    assert "14,50\xa0€" in rendered.text  # suggestion price formatted for de_DE


def test_missing_variant_falls_back_to_default_language_and_its_formats() -> None:
    rendered = render(Renderer(), "coupon_expiry_reminder", profile(locale="fr-FR"), coupon=COUPON)
    assert rendered.language == "en"
    assert "Dec 14, 2026" in rendered.subject  # English text is not mixed with French dates


def test_a_german_customer_gets_every_email_of_every_journey_in_german() -> None:
    renderer = Renderer()
    german = profile(locale="de-DE", name="Greta Schneider", time_zone="Europe/Berlin")
    for template in renderer.catalog.templates:
        rendered = render(renderer, template, german, coupon=COUPON)
        assert rendered.language == "de", template
        assert "Hallo Greta," in rendered.text, template
    reminder = render(renderer, "coupon_expiry_reminder", german, coupon=COUPON)
    assert reminder.subject == "Ihr Code für 15 % Rabatt läuft am 15.12.2026 ab"  # 23:00 UTC is past midnight in Berlin


def test_british_customer_gets_british_dates_and_unknown_locales_fall_back() -> None:
    british = render(Renderer(), "coupon_expiry_reminder", profile(locale="en-GB"), coupon=COUPON)
    assert "14 Dec 2026" in british.subject
    unknown = render(Renderer(), "coupon_expiry_reminder", profile(locale="xx-YY"), coupon=COUPON)
    assert unknown.language == "en" and "Dec 14, 2026" in unknown.subject


def test_dates_are_shown_in_the_customers_time_zone() -> None:
    late = COUPON.__class__(code="X-1", percent_off=10, expires_at=COUPON.expires_at.replace(hour=23, minute=30))
    tokyo = render(Renderer(), "coupon_expiry_reminder", profile(time_zone="Asia/Tokyo"), coupon=late)
    assert "Dec 15, 2026" in tokyo.subject


ENV = ImmutableSandboxedEnvironment()
CSS = ".btn { color: red } td { padding: 4px } @media (max-width: 600px) { .btn { width: 100% } }"


def test_inlining_keeps_jinja_in_attributes_title_and_between_table_rows() -> None:
    source = (
        "<html><head><title>{{ subject }}</title></head><body>"
        "<table><tbody>{% for r in rows %}<tr><td>{{ r }}</td></tr>"
        '{% endfor %}</tbody></table><a class="btn" href="{{ url }}" {% if x %}hidden{% endif %}>go</a></body></html>'
    )
    inlined = inline_template_source(source, CSS, ENV)
    assert "<title>{{ subject }}</title>" in inlined
    assert "{% for r in rows %}<tr>" in inlined and "</tr>{% endfor %}" in inlined
    assert 'href="{{ url }}"' in inlined and "{% if x %}hidden{% endif %}" in inlined  # attribute order may change
    assert 'style="color: red;"' in inlined and '<td style="padding: 4px;">{{ r }}</td>' in inlined
    assert "@media (max-width: 600px)" in inlined  # the responsive rules stay in a style tag
    rendered = ENV.from_string(inlined).render(subject="S", rows=[1, 2], url="https://x", x=False)
    assert rendered.count("<tr>") == 2


def test_shipped_emails_carry_inline_styles() -> None:
    html = render(Renderer(), "review_request").html
    assert '<a class="button" href="https://shop.example.com/reviews/new" style="' in html
    assert "@media only screen and (max-width: 620px)" in html


def test_templates_are_compiled_once_per_renderer(tmp_path: Path) -> None:
    renderer = Renderer()
    compiled = renderer.precompile()
    assert compiled >= 20
    first = renderer.env.get_template("emails/winback_miss_you.html")
    assert renderer.env.get_template("emails/winback_miss_you.html") is first


def test_the_subject_and_preheader_are_what_the_html_shows_or_rendered_alone_when_it_does_not(tmp_path: Path) -> None:
    # Given an email whose own layout shows the subject twice and never shows the preheader
    root = template_root(tmp_path)
    page = (
        "<html><head><title>{% block subject %}Hello {{ customer.first_name }}{% endblock %}</title></head>"
        "<body><h1>{{ self.subject() }}</h1>{% if false %}{% block preheader %}Look &amp; see{% endblock %}{% endif %}"
        "{% block content %}<p>Useful words.</p>{% endblock %}</body></html>"
    )
    add_template(root, "shown_twice", page, text_email("Useful words."))
    # When it is rendered
    rendered = render(Renderer(root), "shown_twice")
    # Then the subject and preheader are the blocks' own text all the same
    assert rendered.subject == "Hello Leyla" and rendered.preheader == "Look & see"
    assert rendered.html.count("Hello Leyla") == 2


def test_an_ab_variant_can_extend_another_email_and_change_only_its_subject() -> None:
    renderer = Renderer()
    a = render(renderer, "winback_incentive", coupon=COUPON)
    b = render(renderer, "winback_incentive_short", coupon=COUPON)
    assert b.subject == "15 % off, and three ideas for your next cup" != a.subject
    assert b.preheader == a.preheader and "Still here if you need us" in b.html
    assert f"<title>{b.subject}</title>" in b.html
