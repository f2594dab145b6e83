"""Email rendering throughput: personalised emails rendered, measured, signed and built, per second on one core.

Method: the win-back step-1 template (HTML + text) for the eight sample customers in turn, through
``compose`` - context from the profile, sandboxed render of both parts with subject and preheader,
promotion share measured and checked, every link signed, open pixel, MIME built - timed over
1,000 emails after a warm-up (best of five rounds of 200: the machine is shared), in one process
(one core). Beside it: the same two template files rendered by a bare ``jinja2.Environment`` (no
sandbox, no budget, no inlining, nothing measured or signed) with the same prepared context; the
ratio is the price of safety and honesty per email.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import jinja2

from bench.common import Row
from retention.mail import catalog as files
from retention.mail.compose import compose, shop_of, signed_links
from retention.mail.context import build_context
from retention.mail.environment import format_date, money, number, percent
from retention.mail.render import Renderer
from retention_tools.authoring.preview import PREVIEW_RING, preview_settings
from retention_tools.authoring.samples import sample_customers, sample_profile

TEMPLATE = "winback_miss_you"
EMAILS = 1_000
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _per_second(work: object, count: int, rounds: int = 5) -> float:
    """Best of ``rounds`` rounds of ``count // rounds`` calls: the machine is shared, the best round is the cost."""
    for _ in range(50):
        work()  # type: ignore[operator]
    best = float("inf")
    each = count // rounds
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(each):
            work()  # type: ignore[operator]
        best = min(best, time.process_time() - started)
    return each / best


def run() -> list[Row]:
    renderer = Renderer()
    renderer.precompile()
    settings = preview_settings()
    profiles = [sample_profile(s, NOW) for s in sample_customers() if not s.locale or s.locale.startswith("en")]
    counter = iter(range(10**9))

    def ours() -> None:
        n = next(counter)
        compose(
            renderer,
            TEMPLATE,
            profiles[n % len(profiles)],
            message_id=f"bench-{n:010d}",
            ring=PREVIEW_RING,
            settings=settings,
            now=NOW,
        )

    bare_env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(renderer.root)), autoescape=True)
    bare_env.add_extension("retention.mail.promotion.PromotionExtension")
    bare_env.filters.update(money=money, number=number, percent=percent, date=format_date)  # the locale filters
    html, text = bare_env.get_template(f"emails/{TEMPLATE}.html"), bare_env.get_template(f"emails/{TEMPLATE}.txt")
    context = build_context(
        profiles[0],
        template=TEMPLATE,
        locale=renderer.variant(TEMPLATE, None)[1],
        words=files.layout_words("en"),
        library=files.content_library("en"),
        settings=renderer.catalog.settings,
        shop=shop_of(settings),
        links=signed_links(PREVIEW_RING, settings.tracking_base, "bench-0000000000"),
        now=NOW,
    )
    context["language"] = "en"

    def bare() -> None:
        html.render(context)
        text.render(context)

    ours_rate = _per_second(ours, EMAILS)
    bare_rate = _per_second(bare, EMAILS)
    return [
        Row(
            "emails composed per second (one core)", f"{ours_rate:,.0f}", f"compose() of {TEMPLATE}, {EMAILS:,} emails"
        ),
        Row("bare jinja2 renders per second", f"{bare_rate:,.0f}", "same HTML + text templates, plain Environment"),
        Row("compose cost vs bare render", f"{bare_rate / ours_rate:.1f}×", "context, sandbox, measure, sign, MIME"),
    ]


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run())
