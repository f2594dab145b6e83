"""The report a marketer reads: per journey, what the emails did and whether the journey works.

Built from the write-sharded counters (one Query per shard per journey) and, for the retention
rate, one Scan of orders and journey states (store/history.py). Rendered as a text
table, JSON, or HTML with charts (reporting/html.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from retention import nps
from retention.models.tracking import HealthRules
from retention.nps import NpsSummary
from retention.reporting.rates import Rates
from retention.reporting.retention import Participants, RetentionFigures, figures, orders_and_participants
from retention.reporting.stats import ProportionTest, difference_interval, two_proportion_test
from retention.store.counters import ANSWER_COUNTER, JOURNEY_LEVEL, CounterStore
from retention.store.history import HistoryStore

CountsByKey = dict[tuple[str, str, str], Counter[str]]

TOO_FEW = "too few to tell"
NO_HOLDOUT = "no hold-out"
MIN_LIFT_GROUP = 30
"""Customers in the treated and in the hold-out group before the lift gets a verdict: a
"+74.1 pp" against a hold-out of 2 people is chance, not a result."""
MIN_EVENTS = 5
"""Events a "pushing too hard" verdict rests on: a rate above a ceiling needs this many
unsubscribes (or complaints); a rate below a floor needs enough emails that this many opens
(or clicks) were expected at the floor. One unsubscribe in 157 emails says nothing yet."""
MIN_NPS_ANSWERS = 30
"""Below this many scores an NPS is shown with its interval but called :data:`TOO_FEW`: at 10
scores the interval is about ±50 points wide (and zero-width when every score is alike)."""


@dataclass(frozen=True)
class Lift:
    """Customers who ordered after entering, treated against hold-out (once per journey entry)."""

    treated: int
    treated_converted: int
    holdout: int
    holdout_converted: int

    @property
    def treated_rate(self) -> float | None:
        return self.treated_converted / self.treated if self.treated else None

    @property
    def holdout_rate(self) -> float | None:
        return self.holdout_converted / self.holdout if self.holdout else None

    @property
    def difference(self) -> float | None:
        if self.treated_rate is None or self.holdout_rate is None:
            return None
        return self.treated_rate - self.holdout_rate

    @property
    def interval(self) -> tuple[float, float] | None:
        return difference_interval(self.treated_converted, self.treated, self.holdout_converted, self.holdout)

    @property
    def relative(self) -> float | None:
        if self.difference is None or not self.holdout_rate:
            return None
        return self.difference / self.holdout_rate

    @property
    def verdict(self) -> str:
        """What the lift says, or :data:`TOO_FEW` below :data:`MIN_LIFT_GROUP` customers in a group;
        a journey without a hold-out (``holdout_share: 0``, the NPS survey) has nothing to compare."""
        interval = self.interval
        if self.treated and not self.holdout:
            return NO_HOLDOUT
        if min(self.treated, self.holdout) < MIN_LIFT_GROUP or interval is None:
            return TOO_FEW
        if interval[0] > 0:
            return "better than the hold-out"
        if interval[1] < 0:
            return "worse than the hold-out"
        return "no clear difference"

    def as_dict(self) -> dict[str, Any]:
        return {
            "treated": self.treated,
            "treated_converted": self.treated_converted,
            "holdout": self.holdout,
            "holdout_converted": self.holdout_converted,
            "treated_rate": self.treated_rate,
            "holdout_rate": self.holdout_rate,
            "difference": self.difference,
            "difference_95ci": list(self.interval) if self.interval else None,
            "relative_lift": self.relative,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class Verdict:
    """One "pushing too hard" check of a journey: ``ok``, ``warning`` or :data:`TOO_FEW`."""

    check: str
    value: float | None
    limit: float
    side: str
    events: int
    status: str
    crossed: bool = False
    """The rate is on the wrong side of its limit (a warning with enough mail)."""

    @property
    def message(self) -> str:
        bound = "floor" if self.side == "below" else "ceiling"
        shown = "—" if self.value is None else f"{self.value:.1%}"
        text = f"{self.check} {shown} is {self.side} the {bound} {self.limit:.1%}"
        if self.status == TOO_FEW:
            text += f" — {TOO_FEW} ({_EVENT_NAMES[self.check]}: {self.events:,}; a verdict needs more mail)"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "value": self.value,
            "limit": self.limit,
            "side": self.side,
            "events": self.events,
            "status": self.status,
            "crossed": self.crossed,
        }


_EVENT_NAMES = {
    "human open rate": "human opens",
    "human click rate": "human clicks",
    "unsubscribe rate": "unsubscribes",
    "complaint rate": "complaints",
}


def health_verdicts(rates: Rates, rules: HealthRules) -> list[Verdict]:
    """Every health check with its verdict: a warning only on enough evidence (:data:`MIN_EVENTS`,
    and ``rules.min_sent`` emails), :data:`TOO_FEW` when the rate crosses its limit on too little."""
    checks = (
        (rates.open_rate_human, rules.min_human_open_rate, "human open rate", "below", "unique_opens_human"),
        (rates.click_rate, rules.min_click_rate, "human click rate", "below", "unique_clicks_human"),
        (rates.unsubscribe_rate, rules.max_unsubscribe_rate, "unsubscribe rate", "above", "unsubscribed"),
        (rates.complaint_rate, rules.max_complaint_rate, "complaint rate", "above", "complained"),
    )
    found = []
    for value, limit, label, side, counted in checks:
        events = int(rates[counted])
        crossed = value is not None and (value < limit if side == "below" else value > limit)
        evidence = events if side == "above" else rates.base * limit
        enough = evidence >= MIN_EVENTS
        if rates["sent"] < rules.min_sent:
            status = TOO_FEW
        else:
            status = "ok" if not crossed else "warning" if enough else TOO_FEW
        found.append(Verdict(label, value, limit, side, events, status, crossed))
    return found


@dataclass(frozen=True)
class VariantTest:
    step: str
    variants: dict[str, Rates]
    metric: str
    test: ProportionTest | None
    leader: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "metric": self.metric,
            "variants": {name: rates.as_dict() for name, rates in self.variants.items()},
            "leader": self.leader,
            "z": self.test.z if self.test else None,
            "p_value": self.test.p_value if self.test else None,
            "significant": self.test.significant if self.test else False,
        }


@dataclass(frozen=True)
class StepFeedback:
    """The one-click answers to one journey step's emails: a person's first answer per email."""

    step: str
    sent: int
    answers: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.answers.values())

    @property
    def answer_rate(self) -> float | None:
        return self.total / self.sent if self.sent else None

    @property
    def nps(self) -> NpsSummary | None:
        """The Net Promoter Score of an NPS survey step (every answer a score), else None."""
        if not all(nps.score_of(answer) is not None for answer in self.answers):
            return None
        return nps.summarise(self.answers)

    def as_dict(self) -> dict[str, Any]:
        found = self.nps
        return {
            "sent": self.sent,
            "answers": self.total,
            "answer_rate": self.answer_rate,
            "by_answer": self.answers,
            **({"nps": found.as_dict() | {"too_few_to_tell": found.total < MIN_NPS_ANSWERS}} if found else {}),
        }


def step_feedback(step: str, counts: Counter[str]) -> StepFeedback | None:
    """The step's answer counters (``answer_<id>``), most answered first; None when it had none."""
    found = {
        name[len(ANSWER_COUNTER) :]: int(value) for name, value in counts.items() if name.startswith(ANSWER_COUNTER)
    }
    if not any(found.values()):
        return None
    ordered = dict(sorted(found.items(), key=lambda item: (-item[1], item[0])))
    return StepFeedback(step, int(counts["sent"]), ordered)


BRANCHED = "branched_to_"
DEFAULT_PATH = "branch_default"


@dataclass(frozen=True)
class StepPaths:
    """Where one step's branch check sent its customers: each branch's target, and the default path."""

    step: str
    paths: dict[str, int]
    """Target step (or ``end``) -> customers; ``otherwise`` for those no branch matched."""

    @property
    def checked(self) -> int:
        return sum(self.paths.values())

    def as_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "paths": self.paths}


def step_paths(step: str, counts: Counter[str]) -> StepPaths | None:
    """The step's branch counters (``branched_to_<step>``, ``branch_default``); None without a check."""
    found = {name[len(BRANCHED) :]: int(value) for name, value in counts.items() if name.startswith(BRANCHED)}
    if counts[DEFAULT_PATH]:
        found["otherwise"] = int(counts[DEFAULT_PATH])
    if not any(found.values()):
        return None
    return StepPaths(step, dict(sorted(found.items(), key=lambda item: (-item[1], item[0]))))


@dataclass
class JourneyReport:
    name: str
    totals: Rates
    steps: dict[str, Rates]
    days: dict[str, Rates]
    variants: list[VariantTest]
    lift: Lift
    retention_treated: RetentionFigures | None = None
    retention_holdout: RetentionFigures | None = None
    warnings: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    feedback: list[StepFeedback] = field(default_factory=list)
    paths: list[StepPaths] = field(default_factory=list)

    @property
    def too_few(self) -> list[str]:
        """Checks whose rate crossed a limit on too little mail to call it (shown, not warned)."""
        return [v.message for v in self.verdicts if v.status == TOO_FEW and v.crossed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "journey": self.name,
            "totals": self.totals.as_dict(),
            "steps": {step: rates.as_dict() for step, rates in self.steps.items()},
            "ab_tests": [test.as_dict() for test in self.variants],
            "lift": self.lift.as_dict(),
            "retention_rate": {
                "treated": self.retention_treated.as_dict() if self.retention_treated else None,
                "holdout": self.retention_holdout.as_dict() if self.retention_holdout else None,
            },
            "warnings": self.warnings,
            "too_few_to_tell": self.too_few,
            "health": [verdict.as_dict() for verdict in self.verdicts],
            "feedback": {answers.step: answers.as_dict() for answers in self.feedback},
            "branches": {taken.step: taken.as_dict() for taken in self.paths},
            "days": {day: rates.as_dict()["rates"] | {"sent": rates["sent"]} for day, rates in self.days.items()},
        }


@dataclass
class Report:
    since: date
    until: date
    journeys: list[JourneyReport]
    overall: Rates
    retention: RetentionFigures | None = None
    active_days: int = 365
    retention_since: date | None = None
    health: HealthRules = field(default_factory=HealthRules)
    """The floors and ceilings the verdicts were checked against (tracking.yaml)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "overall": self.overall.as_dict(),
            "shop_retention_rate": self.retention.as_dict() if self.retention else None,
            "active_days": self.active_days,
            "journeys": [j.as_dict() for j in self.journeys],
        }


def journey_report(name: str, counts: CountsByKey, health: HealthRules) -> JourneyReport:
    totals: Counter[str] = Counter()
    journey_level: Counter[str] = Counter()
    steps: dict[str, Counter[str]] = defaultdict(Counter)
    days: dict[str, Counter[str]] = defaultdict(Counter)
    by_variant: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for (day, step, variant), values in sorted(counts.items()):
        if step == JOURNEY_LEVEL:
            journey_level.update(values)
            continue
        totals.update(values)
        steps[step].update(values)
        days[day].update(values)
        by_variant[step][variant].update(values)
    variants = [_variant_test(step, found) for step, found in by_variant.items() if len(found) > 1]
    lift = Lift(
        treated=journey_level["entered"],
        treated_converted=journey_level["customers_converted"],
        holdout=journey_level["holdout"],
        holdout_converted=journey_level["customers_converted_holdout"],
    )
    rates = Rates(totals)
    verdicts = health_verdicts(rates, health)
    return JourneyReport(
        name=name,
        totals=rates,
        steps={step: Rates(c) for step, c in steps.items()},
        days={day: Rates(c) for day, c in sorted(days.items())},
        variants=variants,
        lift=lift,
        warnings=[verdict.message for verdict in verdicts if verdict.status == "warning"],
        verdicts=verdicts,
        feedback=[found for step, c in steps.items() if (found := step_feedback(step, c)) is not None],
        paths=[found for step, c in steps.items() if (found := step_paths(step, c)) is not None],
    )


def _variant_test(step: str, found: dict[str, Counter[str]]) -> VariantTest:
    """Human click rate per delivered email, the two busiest variants against each other."""
    rates = {variant: Rates(c) for variant, c in sorted(found.items())}
    busiest = sorted(rates, key=lambda v: -rates[v].base)[:2]
    a, b = (rates[v] for v in busiest)
    test = two_proportion_test(a["unique_clicks_human"], a.base, b["unique_clicks_human"], b.base)
    leader = max(rates, key=lambda v: rates[v].click_rate or 0.0)
    return VariantTest(step, rates, "human click rate", test, leader)


def build_report(
    counters: CounterStore,
    journeys: list[str],
    since: date,
    until: date,
    health: HealthRules,
    history: HistoryStore | None = None,
    active_days: int = 365,
    retention_since: date | None = None,
) -> Report:
    """Rates for emails sent ``since``..``until``, read from the journey counters; with a
    ``history`` (a full-table read: reports only), the retention rate over ``retention_since``
    (default ``since``)..``until``: a period must start when there were customers to keep."""
    reports = [journey_report(name, counters.read(name, since, until), health) for name in journeys]
    overall: Counter[str] = Counter()
    for report in reports:
        overall.update(report.totals.counts)
    shop = None
    if history is not None:
        start = datetime.combine(retention_since or since, time.min, tzinfo=UTC)
        end = datetime.combine(until, time.max, tzinfo=UTC)
        orders, participants = orders_and_participants(history.orders_and_entries())
        shop = figures(orders.keys(), orders, start, end, active_days)
        for report in reports:
            group = participants.get(report.name, Participants())
            report.retention_treated = figures(group.treated, orders, start, end, active_days)
            report.retention_holdout = figures(group.holdout, orders, start, end, active_days)
    return Report(since, until, reports, Rates(overall), shop, active_days, retention_since or since, health)


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def _pp(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f} pp"


def format_table(report: Report) -> str:
    lines = [f"Email report {report.since} → {report.until} (by send day; human = machines excluded)", ""]
    header = (
        f"  {'journey':<16}{'sent':>7}{'deliv.':>8}{'open hum.':>10}{'open all':>9}{'click':>8}{'CTOR':>8}"
        f"{'unsub':>8}{'compl.':>8}{'promo':>7}{'orders':>7}{'revenue':>11}"
    )
    lines.append(header)
    for journey in [*report.journeys, None]:
        rates = journey.totals if journey else report.overall
        name = journey.name if journey else "all"
        lines.append(
            f"  {name:<16}{rates['sent']:>7,}{_pct(rates.delivery_rate):>8}{_pct(rates.open_rate_human):>10}"
            f"{_pct(rates.open_rate_all):>9}{_pct(rates.click_rate):>8}{_pct(rates.click_to_open):>8}"
            f"{_pct(rates.unsubscribe_rate, 2):>8}{_pct(rates.complaint_rate, 2):>8}{_pct(rates.promotion_share, 0):>7}"
            f"{rates['attributed_orders']:>7,}{rates.attributed_revenue:>11,.2f}"
        )
    machine = report.overall
    lines += [
        "",
        f"  machine opens {machine['opens_machine']:,} (privacy proxies, prefetch) and scanner clicks "
        f"{machine['clicks_machine']:,} are stored but left out of the human rates",
        "",
        "Lift over the hold-out (customers who ordered after entering; 95 % interval of the difference)",
        f"  {'journey':<16}{'treated':>14}{'hold-out':>14}{'lift':>10}{'95 % interval':>22}{'retention T/H':>18}"
        f"  verdict",
    ]
    for journey in report.journeys:
        lift = journey.lift
        interval = lift.interval
        shown = "—" if interval is None else f"{interval[0] * 100:+.1f} … {interval[1] * 100:+.1f} pp"
        retention = "—"
        if journey.retention_treated is not None and journey.retention_holdout is not None:
            treated, held = journey.retention_treated.rate, journey.retention_holdout.rate
            retention = f"{_num(treated)} / {_num(held)}"
        lines.append(
            f"  {journey.name:<16}{_pct(lift.treated_rate) + f' of {lift.treated}':>14}"
            f"{_pct(lift.holdout_rate) + f' of {lift.holdout}':>14}{_pp(lift.difference):>10}{shown:>22}{retention:>18}"
            f"  {lift.verdict}"
        )
    lines += [
        f"  ({TOO_FEW}: fewer than {MIN_LIFT_GROUP} customers in the treated or the hold-out group)",
        "",
        "Per step (counts; conversions = orders attributed to the step's emails)",
        f"  {'journey.step':<28}{'sent':>8}{'human opens':>13}{'human clicks':>14}{'unsubscribes':>14}"
        f"{'conversions':>13}",
    ]
    for name, step, rates in step_rows(report):
        lines.append(
            f"  {name + '.' + step:<28}{rates['sent']:>8,}{rates['unique_opens_human']:>13,}"
            f"{rates['unique_clicks_human']:>14,}{rates['unsubscribed']:>14,}{rates['attributed_orders']:>13,}"
        )
    tests = [(j.name, t) for j in report.journeys for t in j.variants]
    if tests:
        lines += ["", "A/B variants (human click rate per delivered email; two-proportion z-test)"]
        for name, test in tests:
            shown = ", ".join(f"{v} {_pct(r.click_rate)} of {r.base:,}" for v, r in test.variants.items())
            verdict = (
                "no test (too few)"
                if test.test is None
                else f"p = {test.test.p_value:.3f}{' significant' if test.test.significant else ' not significant'}"
            )
            lines.append(f"  {name}.{test.step}: {shown}; {verdict}")
    if report.retention is not None:
        r = report.retention
        lines += [
            "",
            f"Shop retention rate {report.retention_since} → {report.until}: (A − B) / C = "
            f"({r.at_end:,} − {r.new:,}) / {r.at_start:,} = {_num(r.rate)} (a customer = ordered within "
            f"{report.active_days} days; per journey above: treated / hold-out)",
        ]
    lines += ["", *format_feedback(report)]
    if nps_rows(report):
        lines += ["", *format_nps(report)]
    if any(journey.paths for journey in report.journeys):
        lines += ["", *format_paths(report)]
    warned = [(j.name, w) for j in report.journeys for w in j.warnings]
    lines += ["", "Pushing too hard?"]
    lines += [f"  WARNING {name}: {w}" for name, w in warned] or ["  no journey below its floors"]
    lines += [f"  {journey.name}: {note}" for journey in report.journeys for note in journey.too_few]
    return "\n".join(lines)


def feedback_rows(report: Report) -> list[tuple[str, StepFeedback]]:
    """(journey, answers) for every step whose emails were answered, in journey order."""
    return [(journey.name, answers) for journey in report.journeys for answers in journey.feedback]


def format_feedback(report: Report) -> list[str]:
    lines = ["Feedback answers (one-click; a person's first answer per email, scanner clicks excluded)"]
    rows = feedback_rows(report)
    if not rows:
        return [*lines, "  no answers yet"]
    lines.append(f"  {'journey.step':<28}{'sent':>8}{'answers':>9}{'of sent':>9}  answers (share of answers)")
    for name, answers in rows:
        shares = ", ".join(f"{a} {n:,} ({n / answers.total * 100:.0f} %)" for a, n in answers.answers.items())
        if (score := answers.nps) is not None:
            shares = f"scores 0-10: {score.promoters:,} promoters, {score.passives:,} passives, "
            shares += f"{score.detractors:,} detractors (NPS below)"
        lines.append(
            f"  {name + '.' + answers.step:<28}{answers.sent:>8,}{answers.total:>9,}"
            f"{_pct(answers.answer_rate):>9}  {shares}"
        )
    return lines


def nps_rows(report: Report) -> list[tuple[str, str, NpsSummary]]:
    """(journey, step, NPS) for every NPS survey step that has scores, in journey order."""
    return [
        (journey.name, answers.step, found)
        for journey in report.journeys
        for answers in journey.feedback
        if (found := answers.nps) is not None
    ]


def nps_verdict(summary: NpsSummary) -> str:
    """``NPS +30 (95 % interval +1 to +59)``, with :data:`TOO_FEW` below :data:`MIN_NPS_ANSWERS`."""
    if summary.score_text is None:
        return "no scores yet"
    text = f"NPS {summary.score_text}"
    if summary.total < MIN_NPS_ANSWERS:
        text += f", {TOO_FEW} ({summary.total:,} scores, {MIN_NPS_ANSWERS} needed)"
    return text


def format_nps(report: Report) -> list[str]:
    lines = ["Net Promoter Score (% promoters 9-10 − % detractors 0-6; a person's first score per email)"]
    lines.append(f"  {'journey.step':<28}{'scores':>8}{'promoters':>11}{'passives':>10}{'detractors':>12}  NPS")
    for name, step, found in nps_rows(report):
        shares = [f"{n / found.total * 100:.0f} %" for n in (found.promoters, found.passives, found.detractors)]
        lines.append(
            f"  {name + '.' + step:<28}{found.total:>8,}{shares[0]:>11}{shares[1]:>10}{shares[2]:>12}"
            f"  {nps_verdict(found)}"
        )
    return lines


def path_rows(report: Report) -> list[tuple[str, StepPaths]]:
    """(journey, paths) for every step with branches that was checked, in journey order."""
    return [(journey.name, taken) for journey in report.journeys for taken in journey.paths]


def format_paths(report: Report) -> list[str]:
    lines = ["Branches (where each step's check sent its customers; otherwise = no branch matched)"]
    for name, taken in path_rows(report):
        shares = ", ".join(f"→ {target} {n:,} ({n / taken.checked * 100:.0f} %)" for target, n in taken.paths.items())
        lines.append(f"  {name + '.' + taken.step:<28}checked {taken.checked:>6,}  {shares}")
    return lines


def step_rows(report: Report) -> list[tuple[str, str, Rates]]:
    """(journey, step, rates) for every step that sent mail, in journey order."""
    return [(journey.name, step, rates) for journey in report.journeys for step, rates in journey.steps.items()]


def _num(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f} %"
