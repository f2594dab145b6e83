"""``make demo``: the whole engine on an embedded AWS, from a year of orders to the journeys' emails."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from retention.journeys import load_journeys
from retention.local.embedded import EmbeddedAws
from retention.local.engagement import Readers
from retention.local.history import HISTORY_END, HISTORY_START, generate_history
from retention.local.outbox import OutboxMail, sent_count, sent_mail, write_outbox
from retention.local.replay import ReplayStats, queue_depth, replay
from retention.local.simulation import DAY_STEPPED_TIMERS, ScheduledJobs
from retention.mail.catalog import TemplateKind, catalog
from retention.settings import settings
from retention.store.counters import CounterStore
from retention.store.customers import CustomerStore
from retention.store.messaging import MessagingStore
from retention.summary import ProfileSummary, summarise

OUTBOX = Path("outbox")
JOURNEY_COLUMNS = (
    ("entered", "entered"),
    ("holdout", "hold-out"),
    ("sent", "sent"),
    ("suppressed", "suppressed"),
    ("deferred_frequency_cap", "capped"),
    ("deferred_quiet_hours", "quiet hrs"),
    ("skipped_stream_rule", "80/20 skip"),
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
    mails: list[OutboxMail] = field(default_factory=list)


def run_demo(
    customers: int = 500,
    seed: int = 7,
    malformed: int = 12,
    redeliver_share: float = 0.03,
    outbox: Path | None = OUTBOX,
    days: int | None = None,
) -> DemoResult:
    """``days`` cuts the history after that many days (tests that need a run, not a year)."""
    started = time.perf_counter()
    events = generate_history(customers=customers, seed=seed, malformed=malformed)
    if days is not None:
        events = [e for e in events if e.time < HISTORY_START + _days(days)]
    with EmbeddedAws(env=DAY_STEPPED_TIMERS) as aws:
        first_mail = sent_count()
        table = settings().customers_table
        readers = Readers(MessagingStore(table), seed=seed)
        jobs = ScheduledJobs(aws=aws, after_drain=readers.read_new_mail)
        stats = replay(
            aws, events, redeliver_share=redeliver_share, seed=seed, on_day_end=jobs, on_day_start=jobs.day_start
        )
        profiles = list(CustomerStore(table).scan_profiles())
        counters = CounterStore(table)
        journeys = {
            name: sum(counters.read(name, HISTORY_START.date(), HISTORY_END.date() + _days(60)).values(), Counter())
            for name in load_journeys().journeys
        }
        mails = list(sent_mail(first_mail))
        journey_dead_letters = queue_depth(aws, "JourneyDeadLetterQueue")
    kinds = catalog().templates
    promotion = sum(1 for m in mails if m.template in kinds and kinds[m.template].kind is TemplateKind.PROMOTION)
    suppressed: Counter[str] = Counter()
    for counts in journeys.values():
        for key, value in counts.items():
            if key.startswith("suppressed_"):
                suppressed[key.removeprefix("suppressed_")] += value
    if outbox is not None:
        write_outbox(outbox, mails)
    summary = summarise(profiles)
    segments = Counter(p.segment.lifecycle for p in profiles if p.segment)
    types = Counter(p.segment.customer_type for p in profiles if p.segment)
    return DemoResult(
        replay=stats,
        summary=summary,
        jobs=jobs,
        segments=dict(segments),
        customer_types=dict(types),
        seconds=time.perf_counter() - started,
        journeys=journeys,
        emails=len(mails),
        promotion_emails=promotion,
        opened=readers.opened,
        suppressed=suppressed,
        outbox=outbox,
        journey_dead_letters=journey_dead_letters,
        mails=mails,
    )


def _days(n: int):
    from datetime import timedelta

    return timedelta(days=n)


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
    ]
    fired = result.jobs.fired
    rows += [
        ("scheduled runs", f"{result.jobs.sweeps} sweeps, {result.jobs.stats_runs} statistics runs (simulated clock)"),
        (
            "inactivity events",
            f"{fired.get('inactivity', 0):,} CustomerInactive fired at each customer's own reorder date",
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
    reasons = ", ".join(f"{k} {v:,}" for k, v in result.suppressed.most_common()) or "none"
    lines += [
        "",
        f"emails sent            {result.emails:,} ({result.promotion_emails:,} promotional = {share:.1f} %, "
        f"simulated readers opened {result.opened:,})",
        f"suppressed at send     {reasons}",
        f"journey dead letters   {result.journey_dead_letters}",
    ]
    if result.outbox is not None:
        lines.append(
            f"outbox                 {result.outbox}/ ({result.emails:,} .eml + .html, open the .html in a browser)"
        )
    return lines
