"""``make demo``: the whole engine on an embedded AWS, from a year of orders to the summary."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from retention.local.embedded import EmbeddedAws
from retention.local.history import HISTORY_END, HISTORY_START, generate_history
from retention.local.replay import ReplayStats, replay
from retention.local.simulation import DAY_STEPPED_TIMERS, ScheduledJobs
from retention.settings import settings
from retention.store.customers import CustomerStore
from retention.summary import ProfileSummary, summarise


@dataclass
class DemoResult:
    replay: ReplayStats
    summary: ProfileSummary
    jobs: ScheduledJobs
    segments: dict[str, int]
    customer_types: dict[str, int]
    seconds: float


def run_demo(customers: int = 500, seed: int = 7, malformed: int = 12, redeliver_share: float = 0.03) -> DemoResult:
    started = time.perf_counter()
    events = generate_history(customers=customers, seed=seed, malformed=malformed)
    jobs = ScheduledJobs()
    with EmbeddedAws(env=DAY_STEPPED_TIMERS) as aws:
        stats = replay(aws, events, redeliver_share=redeliver_share, seed=seed, on_day_end=jobs)
        profiles = list(CustomerStore(settings().customers_table).scan_profiles())
    summary = summarise(profiles)
    segments = Counter(p.segment.lifecycle for p in profiles if p.segment)
    types = Counter(p.segment.customer_type for p in profiles if p.segment)
    return DemoResult(stats, summary, jobs, dict(segments), dict(types), time.perf_counter() - started)


def format_result(result: DemoResult) -> str:
    s, r = result.summary, result.replay
    rows = [
        ("history", f"{HISTORY_START:%Y-%m-%d} → {HISTORY_END:%Y-%m-%d}, {r.days} days replayed"),
        ("events published", f"{r.published:,} ({r.redelivered:,} re-sent duplicates)"),
        ("handler invocations", f"{r.handler_invocations:,} SQS batches"),
        ("dead-lettered", f"{r.dead_lettered} malformed events (reasons in the log)"),
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
    lines.append(f"\n(finished in {result.seconds:.1f} s)")
    return "\n".join(lines)
