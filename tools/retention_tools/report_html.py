"""The HTML report: the same figures as the table, with charts (matplotlib, inline SVG).

matplotlib is a CLI dependency (requirements-dev.txt), never in the Lambda layer, and is
imported only here. The page is rendered in Jinja2's sandbox with autoescaping; the charts
are SVG that matplotlib wrote from numbers and journey names (which the journey schema limits
to letters, digits, - and _).
"""

from __future__ import annotations

import io
import math
from collections import Counter, defaultdict
from datetime import date, timedelta

from jinja2 import select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from retention.reporting.rates import Rates
from retention.reporting.report import (
    MIN_EVENTS,
    MIN_LIFT_GROUP,
    MIN_NPS_ANSWERS,
    TOO_FEW,
    Report,
    feedback_rows,
    nps_rows,
    path_rows,
    step_rows,
)

MIN_WEEK_VOLUME = 20
"""Delivered emails a week needs before its rates are drawn: five emails make a rate jump between 0 and 100 %."""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Retention report {{ r.since }} – {{ r.until }}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:70rem;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2.2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{padding:.35rem .5rem;text-align:right;border-bottom:1px solid #e3e3e3}
th:first-child,td:first-child{text-align:left}th{background:#f4f1ec}
td{white-space:nowrap;font-variant-numeric:tabular-nums}td:first-child{white-space:normal}
.few{background:#f3f3f3;border-left:4px solid #999;padding:.6rem .9rem;margin:.4rem 0}
td.verdict-warning{color:#b35900;font-weight:600}td.verdict-few,td.too-few{color:#777}
.warn{background:#fff4e5;border-left:4px solid #e67e22;padding:.6rem .9rem;margin:.4rem 0}
.ok{background:#eef8ee;border-left:4px solid #3c9a3c;padding:.6rem .9rem}
.note{color:#666;font-size:.85rem}.chart svg{max-width:100%;height:auto}
</style></head><body>
<h1>Retention report</h1>
<p class="note">{{ r.since }} → {{ r.until }}, by send day. Human rates leave out machine opens (privacy proxies,
prefetchers) and link-scanner clicks: {{ "{:,}".format(r.overall["opens_machine"]) }} machine opens and
{{ "{:,}".format(r.overall["clicks_machine"]) }} scanner clicks were stored but not counted as people.</p>
<h2>Pushing too hard?</h2>
{% for name, w in warnings %}<div class="warn"><strong>{{ name }}</strong>: {{ w }}</div>
{% else %}<div class="ok">No journey is past a limit on enough mail to tell.</div>{% endfor %}
{% for name, note in too_few %}<div class="few"><strong>{{ name }}</strong>: {{ note }}</div>{% endfor %}
<table id="health"><tr><th>journey</th>{% for check in checks %}<th>{{ check }}</th>{% endfor %}</tr>
{% for j in r.journeys %}<tr><td>{{ j.name }}</td>{% for v in j.verdicts %}<td class="verdict-{{ 'few' if v.status == 'too few to tell' else v.status }}">{% if v.value is not none %}{{ pct(v.value) }} {% endif %}{{ v.status }}</td>{% endfor %}</tr>
{% endfor %}</table>
<p class="note">A warning needs {{ "{:,}".format(min_sent) }} emails and {{ min_events }} events: {{ min_events }} unsubscribes
(or complaints) above a ceiling, or enough emails that {{ min_events }} opens (or clicks) were expected at a floor.
Below that the check says "too few to tell".</p>
<h2>Emails per journey</h2>
<table id="journeys"><tr><th>journey</th><th>sent</th><th>delivered</th><th>human opens</th><th>all opens</th>
<th>human clicks</th><th>click-to-open</th><th>unsubscribes</th><th>complaints</th><th>promotion share</th>
<th>attributed orders</th><th>attributed revenue</th></tr>
{% for name, x in rows %}<tr><td>{{ name }}</td><td>{{ "{:,}".format(x["sent"]) }}</td><td>{{ pct(x.delivery_rate) }}</td>
<td>{{ pct(x.open_rate_human) }}</td><td>{{ pct(x.open_rate_all) }}</td><td>{{ pct(x.click_rate) }}</td>
<td>{{ pct(x.click_to_open) }}</td><td>{{ pct(x.unsubscribe_rate, 2) }}</td><td>{{ pct(x.complaint_rate, 2) }}</td>
<td>{{ pct(x.promotion_share, 0) }}</td><td>{{ x["attributed_orders"] }}</td><td>{{ "{:,.2f}".format(x.attributed_revenue) }}</td></tr>
{% endfor %}</table>
<h2>Rates over time</h2><div class="chart">{{ over_time }}</div>
<p class="note">Weekly rates are drawn only for weeks with at least {{ min_week }} delivered emails (fewer say
nothing); the bars under the chart are the emails sent each week.</p>
<table id="weeks"><tr><th>week of</th><th>sent</th><th>delivered</th><th>human opens</th><th>human open rate</th>
<th>human clicks</th><th>human click rate</th></tr>
{% for week, x in weeks %}<tr><td>{{ week }}</td><td>{{ "{:,}".format(x["sent"]) }}</td><td>{{ "{:,}".format(x["delivered"]) }}</td>
<td>{{ "{:,}".format(x["unique_opens_human"]) }}</td><td>{% if x.base >= min_week %}{{ pct(x.open_rate_human) }}{% else %}too few to tell{% endif %}</td>
<td>{{ "{:,}".format(x["unique_clicks_human"]) }}</td><td>{% if x.base >= min_week %}{{ pct(x.click_rate) }}{% else %}too few to tell{% endif %}</td></tr>
{% endfor %}</table>
<h2>Lift over the hold-out group</h2>
<table id="lift"><tr><th>journey</th><th>treated: ordered after entering</th><th>hold-out</th><th>difference</th>
<th>95 % interval</th><th>verdict</th><th>retention rate treated</th><th>retention rate hold-out</th></tr>
{% for j in r.journeys %}<tr><td>{{ j.name }}</td><td>{{ pct(j.lift.treated_rate) }} of {{ j.lift.treated }}</td>
<td>{{ pct(j.lift.holdout_rate) }} of {{ j.lift.holdout }}</td><td>{{ pp(j.lift.difference) }}</td>
<td>{% if j.lift.interval %}{{ pp(j.lift.interval[0]) }} … {{ pp(j.lift.interval[1]) }}{% else %}—{% endif %}</td>
<td class="{% if j.lift.verdict in ('too few to tell', 'no hold-out') %}too-few{% endif %}">{{ j.lift.verdict }}</td>
<td>{{ rate(j.retention_treated) }}</td><td>{{ rate(j.retention_holdout) }}</td></tr>
{% endfor %}</table>
<p class="note">A lift needs at least {{ min_group }} customers in the treated and in the hold-out group; below
that it says "too few to tell" (the difference is shown, but it is chance).</p>
{% if r.retention %}<p>Shop retention rate {{ r.retention_since }} → {{ r.until }}: (A − B) / C = ({{ r.retention.at_end }} − {{ r.retention.new }}) / {{ r.retention.at_start }}
= <strong>{{ rate(r.retention) }}</strong> (a customer = ordered within {{ r.active_days }} days).</p>{% endif %}
<h2>Per step</h2>
<table id="steps"><tr><th>journey.step</th><th>sent</th><th>delivered</th><th>human opens</th><th>human clicks</th>
<th>unsubscribes</th><th>conversions</th><th>human open rate</th><th>human click rate</th></tr>
{% for name, step, x in steps %}<tr><td>{{ name }}.{{ step }}</td><td>{{ "{:,}".format(x["sent"]) }}</td>
<td>{{ "{:,}".format(x["delivered"]) }}</td><td>{{ "{:,}".format(x["unique_opens_human"]) }}</td>
<td>{{ "{:,}".format(x["unique_clicks_human"]) }}</td><td>{{ "{:,}".format(x["unsubscribed"]) }}</td>
<td>{{ "{:,}".format(x["attributed_orders"]) }}</td><td>{{ pct(x.open_rate_human) }}</td><td>{{ pct(x.click_rate) }}</td></tr>
{% endfor %}</table>
<p class="note">Conversions: orders attributed to the step's emails (a human click, then an order within the
attribution window).</p>
<div class="chart">{{ per_step }}</div>
<h2>Feedback answers</h2>
{% if feedback %}<table id="feedback"><tr><th>journey.step</th><th>sent</th><th>answers</th><th>of sent</th>
<th>answer</th><th>count</th><th>share of answers</th></tr>
{% for name, f in feedback %}{% for answer, n in f.answers.items() %}<tr>{% if loop.first %}
<td rowspan="{{ f.answers|length }}">{{ name }}.{{ f.step }}</td><td rowspan="{{ f.answers|length }}">{{ "{:,}".format(f.sent) }}</td>
<td rowspan="{{ f.answers|length }}">{{ "{:,}".format(f.total) }}</td><td rowspan="{{ f.answers|length }}">{{ pct(f.answer_rate) }}</td>{% endif %}
<td>{{ answer }}</td><td>{{ "{:,}".format(n) }}</td><td>{{ pct(n / f.total, 0) }}</td></tr>
{% endfor %}{% endfor %}</table>
<p class="note">One-click answers: a person's first answer per email counts (a repeated click does not); link
scanners' clicks are left out.</p>{% else %}<p>No answers yet.</p>{% endif %}
{% if nps %}<h2>Net Promoter Score</h2>
<table id="nps"><tr><th>journey.step</th><th>scores</th><th>promoters (9-10)</th><th>passives (7-8)</th>
<th>detractors (0-6)</th><th>NPS</th><th>95 % interval</th></tr>
{% for name, step, s in nps %}<tr><td>{{ name }}.{{ step }}</td><td>{{ "{:,}".format(s.total) }}</td>
<td>{{ "{:,}".format(s.promoters) }} ({{ pct(s.promoters / s.total, 0) }})</td>
<td>{{ "{:,}".format(s.passives) }} ({{ pct(s.passives / s.total, 0) }})</td>
<td>{{ "{:,}".format(s.detractors) }} ({{ pct(s.detractors / s.total, 0) }})</td>
<td>{{ "{:+.0f}".format(s.score) }}{% if s.total < min_nps %} <em>({{ too_few_text }})</em>{% endif %}</td>
<td>{{ "{:+.0f}".format(s.interval[0]) }} to {{ "{:+.0f}".format(s.interval[1]) }}</td></tr>
{% endfor %}</table>
<p class="note">NPS = % promoters − % detractors (−100 to +100), from a person's first score per email; the
interval is 95 %; below {{ min_nps }} scores it is {{ too_few_text }}.</p>{% endif %}
{% if paths %}<h2>Branches</h2>
<table id="branches"><tr><th>journey.step</th><th>checked</th><th>path</th><th>customers</th><th>share</th></tr>
{% for name, b in paths %}{% for target, n in b.paths.items() %}<tr>{% if loop.first %}
<td rowspan="{{ b.paths|length }}">{{ name }}.{{ b.step }}</td><td rowspan="{{ b.paths|length }}">{{ "{:,}".format(b.checked) }}</td>{% endif %}
<td>→ {{ target }}</td><td>{{ "{:,}".format(n) }}</td><td>{{ pct(n / b.checked, 0) }}</td></tr>
{% endfor %}{% endfor %}</table>
<p class="note">Where each step's branch check sent its customers (journeys.yaml <code>branches</code>); "otherwise":
no branch matched, the journey went on the default way.</p>{% endif %}
{% if tests %}<h2>A/B variants</h2>
<table id="ab"><tr><th>journey.step</th><th>variants (human click rate)</th><th>p-value</th><th>verdict</th></tr>
{% for name, t in tests %}<tr><td>{{ name }}.{{ t.step }}</td>
<td>{% for v, x in t.variants.items() %}{{ v }}: {{ pct(x.click_rate) }} of {{ x.base }}{% if not loop.last %}; {% endif %}{% endfor %}</td>
<td>{% if t.test %}{{ "%.3f"|format(t.test.p_value) }}{% else %}—{% endif %}</td>
<td>{% if t.test and t.test.significant %}{{ t.leader }} wins{% else %}no significant difference yet{% endif %}</td></tr>
{% endfor %}</table>{% endif %}
</body></html>"""


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def _pp(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f} pp"


def _rate(figures: object) -> str:
    rate = getattr(figures, "rate", None)
    return "—" if rate is None else f"{rate:.1f} %"


def _svg(figure: object) -> Markup:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt

    plt.close(figure)  # type: ignore[arg-type]
    text = buffer.getvalue()
    return Markup(text[text.index("<svg") :])  # noqa: S704 - SVG written by matplotlib, not by users


def _weekly(report: Report) -> tuple[list[date], list[Rates]]:
    weeks: dict[date, Counter[str]] = defaultdict(Counter)
    for journey in report.journeys:
        for day, rates in journey.days.items():
            d = date.fromisoformat(day)
            weeks[date.fromisocalendar(*d.isocalendar()[:2], 1)].update(rates.counts)
    ordered = sorted(weeks)
    return ordered, [Rates(weeks[w]) for w in ordered]


def _over_time(report: Report) -> Markup:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weeks, rates = _weekly(report)
    figure, (axis, volume) = plt.subplots(
        2, 1, figsize=(10, 4.8), sharex=True, gridspec_kw={"height_ratios": [3, 1.2], "hspace": 0.08}
    )
    series = (
        ("human open rate", [r.open_rate_human for r in rates], "#7a4b2a"),
        ("all opens (with machines)", [r.open_rate_all for r in rates], "#c9a27e"),
        ("human click rate", [r.click_rate for r in rates], "#2a6f7a"),
    )
    enough = [r.base >= MIN_WEEK_VOLUME for r in rates]
    for label, values, colour in series:
        shown = [(v or 0) * 100 if ok else math.nan for v, ok in zip(values, enough, strict=True)]
        axis.plot(weeks, shown, label=label, color=colour, linewidth=1.8, marker="o", markersize=3)
    axis.set_ylabel("% of delivered emails (weekly)")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper right", frameon=False)
    axis.set_ylim(0, 100 if not any(enough) else None)
    volume.bar(
        weeks, [r["sent"] for r in rates], width=6, align="edge", color=["#888" if ok else "#ccc" for ok in enough]
    )
    volume.set_ylabel("emails sent")
    volume.grid(axis="y", alpha=0.3)
    if weeks:
        volume.set_xlim(weeks[0] - timedelta(days=3), weeks[-1] + timedelta(days=10))
    figure.autofmt_xdate()
    return _svg(figure)


def _per_step(report: Report) -> Markup:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, opens, clicks = [], [], []
    for journey in report.journeys:
        for step, rates in journey.steps.items():
            labels.append(f"{journey.name}.{step}")
            opens.append((rates.open_rate_human or 0) * 100)
            clicks.append((rates.click_rate or 0) * 100)
    figure, axis = plt.subplots(figsize=(10, max(2.5, 0.32 * len(labels) + 1)))
    positions = list(range(len(labels)))
    axis.barh([p + 0.2 for p in positions], opens, height=0.4, label="human open rate", color="#7a4b2a")
    axis.barh([p - 0.2 for p in positions], clicks, height=0.4, label="human click rate", color="#2a6f7a")
    axis.set_yticks(positions, labels)
    axis.invert_yaxis()
    axis.set_xlabel("% of delivered emails")
    axis.grid(axis="x", alpha=0.3)
    axis.legend(loc="lower right", frameon=False)
    return _svg(figure)


def format_html(report: Report) -> str:
    environment = SandboxedEnvironment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = environment.from_string(PAGE)
    rows = [(j.name, j.totals) for j in report.journeys] + [("all", report.overall)]
    weeks, weekly = _weekly(report)
    checks = [v.check for v in report.journeys[0].verdicts] if report.journeys else []
    return template.render(
        r=report,
        rows=rows,
        warnings=[(j.name, w) for j in report.journeys for w in j.warnings],
        too_few=[(j.name, note) for j in report.journeys for note in j.too_few],
        checks=checks,
        min_sent=report.health.min_sent,
        min_events=MIN_EVENTS,
        min_group=MIN_LIFT_GROUP,
        min_week=MIN_WEEK_VOLUME,
        weeks=list(zip(weeks, weekly, strict=True)),
        steps=step_rows(report),
        feedback=feedback_rows(report),
        nps=nps_rows(report),
        min_nps=MIN_NPS_ANSWERS,
        too_few_text=TOO_FEW,
        paths=path_rows(report),
        tests=[(j.name, t) for j in report.journeys for t in j.variants],
        over_time=_over_time(report),
        per_step=_per_step(report),
        pct=_pct,
        pp=_pp,
        rate=_rate,
    )
