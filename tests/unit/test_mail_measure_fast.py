"""The one-pass HTML measurement reads an email exactly as the html.parser reading does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from mail_helpers import NOW

from retention.mail import catalog as files
from retention.mail.promotion import (
    BOILERPLATE_END,
    BOILERPLATE_START,
    PROMO_END,
    PROMO_START,
    measure_html,
    measure_html_parsed,
)
from retention.mail.render import Renderer
from retention_tools.authoring.preview import render_sample


def test_every_shipped_template_and_sample_measures_the_same_both_ways() -> None:
    renderer = Renderer()
    for template in renderer.catalog.templates:
        for sample in files.samples(renderer.root).customers:
            preview = render_sample(renderer, template, sample, now=NOW)
            html = preview.rendered.html  # markers stripped; the golden test covers the shares with markers
            assert measure_html(html) == measure_html_parsed(html), (template, sample.customer_id)


_OPEN = st.sampled_from(
    [
        "<p>",
        "<div>",
        '<div aria-hidden="true">',
        '<div style="display: none;">',
        '<span style="MAX-HEIGHT:0">',
        "<div hidden>",
        "<head>",
        "<title>",
        "<style>",
        "<table>",
        "<b>",
        '<div style="display&#58;none">',
    ]
)
_INLINE = st.sampled_from(
    [
        "Useful words",
        " ",
        "&middot;",
        "&nbsp;",
        "a &amp; b",
        '<img src="https://a.example/i.png" alt="Beans">',
        '<img alt="">',
        "<br>",
        "<br/>",
        "<!-- hidden comment -->",
        "<hr>",
        PROMO_START,
        PROMO_END,
        BOILERPLATE_START,
        BOILERPLATE_END,
        "x < y",
        '<a href="https://a.example" title="a>b">link</a>',
    ]
)


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    pieces = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 3 and draw(st.booleans()):
            opening = draw(_OPEN)
            name = opening[1:].split(">")[0].split()[0]
            pieces.append(f"{opening}{draw(documents(depth + 1)) if name != 'style' else 'a{b:c}'}</{name}>")
        else:
            pieces.append(draw(_INLINE))
    return "".join(pieces)


@settings(max_examples=400, deadline=None)
@given(html=documents())
def test_generated_markup_measures_the_same_both_ways(html: str) -> None:
    assert measure_html(html) == measure_html_parsed(html)


def test_what_the_attribute_texts_could_hide_is_remembered_within_a_bound() -> None:
    # Given more distinct attribute texts than the measurement keeps, some of which hide
    from retention.mail import promotion

    documents = [
        f'<p title="t{number}" style="{"display: none" if number % 3 == 0 else "color: red"}">Words {number}</p>'
        for number in range(promotion._MAY_HIDE_KEPT + 500)
    ]
    # When each is measured (twice: the second time from what was remembered)
    for html in documents + documents:
        # Then each reads as html.parser reads it, and what is remembered stays within its bound
        assert measure_html(html) == measure_html_parsed(html)
    assert len(promotion._MAY_HIDE_READ) <= promotion._MAY_HIDE_KEPT
