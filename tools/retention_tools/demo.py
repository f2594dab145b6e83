"""``make demo``: the whole engine on an embedded AWS, from a year of orders to the journeys' emails."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retention.journeys.definitions import load_journeys
from retention.mail.catalog import catalog
from retention.models.emails import TemplateKind
from retention.reporting.report import Report, build_report, format_table
from retention.settings import settings
from retention.store.counters import CounterStore
from retention.store.customers import CustomerStore
from retention.store.history import HistoryStore
from retention.tracking.machine import tracking_rules
from retention_tools.local.audience import Audience
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.history import HISTORY_END, HISTORY_START, ShopEventRecord, generate_history
from retention_tools.local.http_api import LocalHttpApi
from retention_tools.local.outbox import OutboxMail, sent_count, sent_mail, write_outbox
from retention_tools.local.replay import ReplayStats, queue_depth, replay
from retention_tools.local.runtime import load_function
from retention_tools.local.simulation import SIMULATION_TIMERS, ScheduledJobs
from retention_tools.summary import ProfileSummary, feedback_answers, format_answers, format_nps, summarise

OUTBOX = Path("outbox")
REPORT = Path("reports/demo-report.html")
JOURNEY_COLUMNS = (
    ("entered", "entered"),
    ("holdout", "hold-out"),
    ("sent", "sent"),
    ("suppressed", "suppressed"),
    ("deferred_frequency_cap", "capped"),
    ("deferred_quiet_hours", "quiet hrs"),
    ("skipped_stream_rule", "80/20 skip"),
    ("skipped_no_consent", "no consent"),
    ("skipped_consent_withdrawn", "withdrawn"),
    ("exited_ordered", "exit order"),
    ("converted", "orders after"),
    ("converted_holdout", "ctrl orders"),
)


@dataclass
class DemoResult:
    replay: ReplayStats
    summary: ProfileSummary
    jobs: ScheduledJobs
    segments: dict[str, int]
    customer_types: dict[str, int]
    seconds: float
    journeys: dict[str, Counter[str]] = field(default_factory=dict)
    emails: int = 0
    promotion_emails: int = 0
    opened: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)
    outbox: Path | None = None
    journey_dead_letters: int = 0
    ses_dead_letters: int = 0
    mails: list[OutboxMail] = field(default_factory=list)
    audience: dict[str, int] = field(default_factory=dict)
    report: Report | None = None
    report_path: Path | None = None
    tracking_url: str = ""
    shop_events: Counter[str] = field(default_factory=Counter)
    """What the shop sent besides orders and registrations: refunds, cancellations, updates."""


def run_demo(
    customers: int = 500,
    seed: int = 7,
    malformed: int = 12,
    redeliver_share: float = 0.03,
    outbox: Path | None = OUTBOX,
    days: int | None = None,
    report_path: Path | None = None,
    port: int = 0,
    hold: Callable[[DemoResult], None] | None = None,
    progress: bool = False,
) -> DemoResult:
    """``days`` cuts the history after that many days (tests that need a run, not a year);
    ``hold`` is called with the result while the embedded AWS and the tracking API still run
    (``retention demo --serve`` keeps them up so the outbox's links work in a browser);
    ``progress`` shows a progress bar (or lines, off a terminal) while the year is replayed."""
    started = time.perf_counter()
    events = generate_history(customers=customers, seed=seed, malformed=malformed)
    if days is not None:
        events = [e for e in events if e.time < HISTORY_START + _days(days)]
    api = LocalHttpApi(load_function("tracking").handler, port=port).start()
    try:
        with EmbeddedAws(env={**SIMULATION_TIMERS, "TRACKING_BASE_URL": api.url}) as aws:
            first_mail = sent_count()
            table = settings().customers_table
            audience = Audience(aws, api.url, table, seed=seed)
            jobs = ScheduledJobs(aws=aws, after_drain=audience.react)
            stats = replay(
                aws,
                events,
                jobs=jobs,
                redeliver_share=redeliver_share,
                seed=seed,
                extra_events=audience.orders_due,
                progress="demo" if progress else None,
            )
            profiles = list(CustomerStore(table).scan_profiles())
            counters = CounterStore(table)
            names = list(load_journeys().journeys)
            until = HISTORY_END.date() + _days(60)
            journeys = {
                name: sum(counters.read(name, HISTORY_START.date(), until).values(), Counter()) for name in names
            }
            report = build_report(
                counters,
                names,
                HISTORY_START.date(),
                until,
                tracking_rules().health,
                history=HistoryStore(table),
                retention_since=HISTORY_START.date() + _days(182),  # the second half: customers to keep
            )
            mails = list(sent_mail(first_mail))
            result = _result(stats, jobs, profiles, journeys, mails, outbox, started)
            result.journey_dead_letters = queue_depth(aws, "JourneyDeadLetterQueue")
            result.ses_dead_letters = queue_depth(aws, "SesEventsDeadLetterQueue")
            result.audience = dict(audience.did)
            result.opened = audience.did.get("human_opens", 0)
            result.report = report
            result.tracking_url = api.url
            result.shop_events = shop_changes(events)
            if report_path is not None:
                from retention_tools.report_html import format_html

                report_path.parent.mkdir(parents=True, exist_ok=True)
                report_path.write_text(format_html(report), encoding="utf-8")
                result.report_path = report_path
            result.seconds = time.perf_counter() - started
            if hold is not None:
                hold(result)
    finally:
        api.stop()
    return result


def _result(
    stats: ReplayStats,
    jobs: ScheduledJobs,
    profiles: list,
    journeys: dict[str, Counter[str]],
    mails: list[OutboxMail],
    outbox: Path | None,
    started: float,
) -> DemoResult:
    kinds = catalog().templates
    promotion = sum(1 for m in mails if m.template in kinds and kinds[m.template].kind is TemplateKind.PROMOTION)
    suppressed: Counter[str] = Counter()
    for counts in journeys.values():
        for key, value in counts.items():
            if key.startswith("suppressed_"):
                suppressed[key.removeprefix("suppressed_")] += value
    if outbox is not None:
        write_outbox(outbox, mails)
    return DemoResult(
        replay=stats,
        summary=summarise(profiles),
        jobs=jobs,
        segments=dict(Counter(p.segment.lifecycle for p in profiles if p.segment)),
        customer_types=dict(Counter(p.segment.customer_type for p in profiles if p.segment)),
        seconds=time.perf_counter() - started,
        journeys=journeys,
        emails=len(mails),
        promotion_emails=promotion,
        suppressed=suppressed,
        outbox=outbox,
        mails=mails,
    )


def _days(n: int):
    from datetime import timedelta

    return timedelta(days=n)


def shop_changes(events: list[ShopEventRecord]) -> Counter[str]:
    """Refunds (full / partial), cancellations, consent withdrawals and e-mail changes in a history."""
    # .get: the history includes the malformed events the ingest must dead-letter (no order_id...)
    totals = {e.detail.get("order_id"): e.detail.get("total") for e in events if e.detail_type == "OrderPlaced"}
    found: Counter[str] = Counter()
    for event in events:
        detail = event.detail
        if event.detail_type == "OrderRefunded":
            full = totals.get(detail.get("order_id")) == detail.get("amount")
            found["full refunds" if full else "partial refunds"] += 1
        elif event.detail_type == "OrderCancelled":
            found["cancellations"] += 1
        elif event.detail_type == "CustomerUpdated":
            if detail.get("marketing_consent") is False:
                found["consent withdrawals"] += 1
            if "email" in detail:
                found["e-mail changes"] += 1
    return found


def format_result(result: DemoResult) -> str:
    s, r = result.summary, result.replay
    rows = [
        ("history", f"{HISTORY_START:%Y-%m-%d} → {HISTORY_END:%Y-%m-%d}, {r.days} days replayed"),
        ("events published", f"{r.published:,} ({r.redelivered:,} re-sent duplicates)"),
        (
            "handler invocations",
            f"{r.handler_invocations:,} ingest + {result.jobs.dispatcher_invocations:,} dispatcher",
        ),
        ("dead-lettered", f"{r.dead_lettered} malformed shop events (reasons in the log)"),
        ("customers", f"{s.customers:,} ({s.buyers:,} buyers, {s.prospects:,} prospects)"),
        ("orders", f"{s.orders:,}"),
        ("revenue", f"EUR {s.revenue:,.2f}"),
        ("average order value", f"EUR {s.average_order_value:,.2f}"),
        ("repeat-purchase rate", f"{s.repeat_purchase_rate} %"),
        ("top 20 % of buyers", f"{s.top_fifth_revenue_share} % of revenue"),
        ("referrers", f"{s.referrers:,}"),
        ("shop changes", ", ".join(f"{n:,} {what}" for what, n in sorted(result.shop_events.items())) or "none"),
        (
            "refunds applied",
            f"{s.refunds:,} (EUR {s.refunded:,.2f} off the revenue), {s.cancelled_orders:,} orders cancelled",
        ),
        ("marketing consent", ", ".join(f"{s.consent.get(k, 0):,} {k}" for k in ("granted", "withdrawn", "unknown"))),
    ]
    fired = result.jobs.fired
    rows += [
        (
            "scheduled runs",
            f"{result.jobs.sweeps:,} sweeps (the 15-minute ticks with a timer due), "
            f"{result.jobs.stats_runs} statistics runs (simulated clock)",
        ),
        (
            "inactivity events",
            f"{fired.get('inactivity', 0):,} CustomerInactive fired at segment boundaries (into at_risk, lapsed, …)",
        ),
        ("birthday timers", f"{fired.get('birthday', 0):,} TimerFired (birthday)"),
        (
            "journey step timers",
            f"{fired.get('journey', 0):,} fired, {fired.get('coupon_expiry', 0):,} coupon reminders",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    lines = ["", "Retention Engine demo", "=" * 21]
    lines += [f"{label:<{width}}  {value}" for label, value in rows]
    lines += ["", "Segments at the end of the year (lifecycle)"]
    lines += [f"  {name:<12} {count:>6,}" for name, count in sorted(result.segments.items(), key=lambda kv: -kv[1])]
    lines += ["", "Customer types"]
    lines += [
        f"  {name:<18} {count:>6,}" for name, count in sorted(result.customer_types.items(), key=lambda kv: -kv[1])
    ]
    lines += ["", *journey_table(result)]
    if result.report is not None:
        lines += ["", format_table(result.report)]
    if result.report_path is not None:
        lines.append(f"\nHTML report            {result.report_path} (charts; open it in a browser)")
    lines.append(f"\n(finished in {result.seconds:.1f} s)")
    return "\n".join(lines)


def journey_table(result: DemoResult) -> list[str]:
    header = f"  {'journey':<16}" + "".join(f"{label:>13}" for _, label in JOURNEY_COLUMNS)
    lines = ["Journeys (emails through the embedded SES; counts from the journey counters)", header]
    total: Counter[str] = Counter()
    for name, counts in result.journeys.items():
        total.update(counts)
        lines.append(f"  {name:<16}" + "".join(f"{counts.get(key, 0):>13,}" for key, _ in JOURNEY_COLUMNS))
    lines.append(f"  {'all':<16}" + "".join(f"{total.get(key, 0):>13,}" for key, _ in JOURNEY_COLUMNS))
    share = result.promotion_emails / result.emails * 100 if result.emails else 0.0
    rules = load_journeys().frequency
    reasons = ", ".join(f"{k} {v:,}" for k, v in result.suppressed.most_common()) or "none"
    lines += [
        "",
        f"emails sent            {result.emails:,} ({result.promotion_emails:,} promotional = {share:.1f} %)",
        f"simulated audience     {_audience(result.audience)}",
        f"feedback answers       {format_answers(feedback_answers(result.journeys))}",
        f"net promoter score     {format_nps(result.journeys)}",
        f"suppressed at send     {reasons}",
        f"skipped at send        review requests {total.get('skipped_review_recently', 0):,} (one per "
        f"{rules.review_every_days} days), promotions to detractors {total.get('skipped_detractor', 0):,} "
        f"(NPS 0-6: none for {rules.detractor_quiet_days} days)",
        f"dead letters           journey {result.journey_dead_letters}, SES events {result.ses_dead_letters}",
    ]
    if result.outbox is not None:
        lines.append(
            f"outbox                 {result.outbox}/ ({result.emails:,} .eml + .html, open the .html in a browser)"
        )
    return lines


def _audience(did: dict[str, int]) -> str:
    shown = (
        ("human_opens", "human opens"),
        ("proxy_opens", "privacy-proxy opens"),
        ("scanner_visits", "link-scanner visits"),
        ("human_clicks", "human clicks"),
        ("feedback_answers", "answer clicks"),
        ("feedback_answers_repeated", "repeated answer clicks"),
        ("nps_scores", "NPS score clicks"),
        ("orders_after_click", "orders after a click"),
        ("unsubscribes", "unsubscribes"),
        ("pauses", "pauses"),
        ("hard_bounces", "hard bounces"),
    )
    return ", ".join(f"{did.get(key, 0):,} {label}" for key, label in shown)
