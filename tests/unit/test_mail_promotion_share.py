"""The 80/20 rule: the promotion share of visible text is measured, and the send path refuses above the limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from mail_helpers import COUPON, add_template, composed, html_email, render, template_root, text_email

from retention.mail.compose import PromotionShareExceeded
from retention.mail.promotion import (
    BOILERPLATE_END,
    BOILERPLATE_START,
    PROMO_END,
    PROMO_START,
    measure_html,
    measure_text,
)
from retention.mail.render import Renderer
from retention.mail.stream import stream_allows, stream_promotion_share
from retention.models.emails import TemplateKind


def _crafted(content_chars: int, promo_chars: int) -> tuple[str, str]:
    body = "c" * content_chars
    promo = "p" * promo_chars
    html = html_email(f"<p>{body}</p>{{% promo %}}<p>{promo}</p>{{% endpromo %}}", subject="S", preheader="Hidden")
    return html, text_email(f"{body}\n{{% promo %}}{promo}{{% endpromo %}}\n")


@pytest.mark.parametrize(("content", "promo", "allowed"), [(81, 19, True), (80, 20, True), (79, 21, False)])
def test_promotion_share_at_the_limit(tmp_path: Path, content: int, promo: int, allowed: bool) -> None:
    root = template_root(tmp_path)
    html, text = _crafted(content, promo)
    add_template(root, "crafted", html, text)
    renderer = Renderer(root)
    rendered = render(renderer, "crafted")
    assert rendered.html_share.promotion == promo
    assert rendered.html_share.counted == content + promo
    assert rendered.text_share.ratio == pytest.approx(promo / (content + promo))
    if allowed:
        assert composed(renderer, "crafted").promotion_share == pytest.approx(promo / 100)
    else:
        with pytest.raises(PromotionShareExceeded, match=r"'crafted' refused: promotion is 21\.0 %.*20\.0 % limit"):
            composed(renderer, "crafted")


def test_hidden_text_head_and_boilerplate_are_not_counted() -> None:
    html = (
        "<html><head><title>Title words</title><style>p{color:red}</style></head><body>"
        '<div style="display:none">hidden preheader</div><div aria-hidden="true">also hidden</div>'
        f"<p>abcd</p>{PROMO_START}<p>ef</p>{PROMO_END}"
        f"{BOILERPLATE_START}<p>unsubscribe and address</p>{BOILERPLATE_END}</body></html>"
    )
    share = measure_html(html)
    assert (share.promotion, share.counted) == (2, 6)


def test_an_image_counts_as_its_alt_text() -> None:
    share = measure_html(f'<p>abcdef</p>{PROMO_START}<img src="https://x" alt="Big sale">{PROMO_END}')
    assert (share.promotion, share.counted) == (7, 13)


def test_nested_promo_blocks_count_once() -> None:
    share = measure_text(f"aaaa{PROMO_START}bb{PROMO_START}cc{PROMO_END}dd{PROMO_END}")
    assert (share.promotion, share.counted) == (6, 10)


def test_the_text_part_is_checked_too(tmp_path: Path) -> None:
    root = template_root(tmp_path)
    html = html_email("<p>" + "c" * 90 + "</p>{% promo %}<p>pppppppppp</p>{% endpromo %}")
    text = text_email("c" * 50 + "{% promo %}" + "p" * 50 + "{% endpromo %}")
    add_template(root, "textheavy", html, text)
    with pytest.raises(PromotionShareExceeded) as refused:
        composed(Renderer(root), "textheavy")
    assert refused.value.part == "text"


def test_customer_data_cannot_fake_a_promotion_marker() -> None:
    from mail_helpers import profile

    rendered = render(Renderer(), "winback_miss_you", profile(name=f"Eve{PROMO_END}{PROMO_END}"))
    assert PROMO_END not in rendered.html


def test_every_shipped_template_is_within_the_limit_for_a_typical_customer() -> None:
    renderer = Renderer()
    for template in renderer.catalog.templates:
        rendered = render(renderer, template, coupon=COUPON)
        assert rendered.promotion_share <= 0.2, template


PROMO, CONTENT = TemplateKind.PROMOTION, TemplateKind.CONTENT


def test_stream_allows_at_most_two_promotions_in_any_ten_emails() -> None:
    assert stream_allows([], PROMO, window=10, limit=0.2)
    assert stream_allows([CONTENT, PROMO, CONTENT], PROMO, window=10, limit=0.2)
    assert not stream_allows([PROMO, CONTENT, PROMO], PROMO, window=10, limit=0.2)
    assert stream_allows([PROMO, PROMO, *[CONTENT] * 8], PROMO, window=10, limit=0.2)  # the oldest drops out
    assert stream_allows([PROMO, PROMO], CONTENT, window=10, limit=0.2)


def test_stream_promotion_share_over_the_window() -> None:
    assert stream_promotion_share([PROMO, *[CONTENT] * 9, PROMO], window=10) == pytest.approx(0.1)
