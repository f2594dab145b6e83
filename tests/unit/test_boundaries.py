"""The inactivity timer fires at segment boundaries: when the rules move a customer who has not ordered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from factories import T0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention import boundaries, sweep
from retention.lifecycle import INACTIVITY, refresh
from retention.models.engine_events import InactiveDetail, JourneyEventAdapter
from retention.models.profile import CustomerProfile
from retention.models.segments import ChurnModel, PopulationStats, Rule, SegmentDefinitions
from retention.models.timers import Timer
from retention.segments import classify, load_definitions

DEFINITIONS = load_definitions()
SWEEP_EVERY = timedelta(minutes=15)
WATCH_AFTER_LAST_ORDER = timedelta(days=420)
EXTRA_TAGS = [
    Rule(name="slipping", when={"rfm_r": {"lte": 2}}),
    Rule(name="veteran", when={"days_since_first_order": {"gte": 200}}),
    Rule(name="risky", when={"churn_risk": {"gt": 0.6}}),
    Rule(name="twice_overdue", when={"overdue_ratio": {"gt": 2}}),
    Rule(name="long_registered", when={"days_since_registered": {"gte": 300}}),
]


def _profile(dates: list[datetime], previous: CustomerProfile | None) -> CustomerProfile:
    return CustomerProfile(
        customer_id="C1",
        order_count=len(dates),
        total_spent=Decimal(40 * len(dates)),
        first_order_at=dates[0],
        last_order_at=dates[-1],
        order_dates=dates[-50:],
        categories={"coffee-beans": len(dates)},
        registered_at=dates[0] - timedelta(days=20),
        segment=previous.segment if previous else None,
        version=previous.version + 1 if previous else 1,
    )


def _next_tick(at: datetime) -> datetime:
    """The first 15-minute sweep at or after ``at`` (sweeps run on the quarter hours)."""
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + -(-(at - midnight) // SWEEP_EVERY) * SWEEP_EVERY


@dataclass
class Moment:
    """An order or a firing: when it happened and the classification it left."""

    at: datetime
    labels: boundaries.Labels
    kind: str
    due_at: datetime | None = None


def _play(
    order_dates: list[datetime], stats: PopulationStats, definitions: SegmentDefinitions
) -> tuple[list[Moment], datetime]:
    """Orders and the sweeps that fire between them, on the production 15-minute cadence."""
    moments: list[Moment] = []
    profile: CustomerProfile | None = None
    timer: Timer | None = None
    end = order_dates[-1] + WATCH_AFTER_LAST_ORDER
    for index, placed_at in enumerate(order_dates):
        profile = _profile(order_dates[: index + 1], profile)
        result = refresh(profile, placed_at, stats, definitions, new_version=profile.version, rearm_inactivity=True)
        profile = result.profile
        timer = next((t for t in result.timers if t.kind == INACTIVITY), None)
        moments.append(Moment(placed_at, boundaries.labels_at(profile, placed_at, stats, definitions), "order"))
        until = order_dates[index + 1] if index + 1 < len(order_dates) else end
        while timer is not None and _next_tick(timer.due_at) < until:
            now = _next_tick(timer.due_at)
            fired = sweep._fire(timer, profile, now, stats, definitions)
            inactive = [e.detail for e in fired.events if e.detail_type == "CustomerInactive"]
            # No firing leaves the segment unchanged: each one announces what was entered
            assert len(inactive) == 1, (timer.due_at, now, fired.events)
            detail = inactive[0]
            assert isinstance(detail, InactiveDetail)
            assert detail.boundary_at == timer.due_at and detail.firing == timer.firing
            assert detail.lifecycle == fired.profile.segment.lifecycle
            profile = fired.profile.model_copy(update={"version": profile.version + 1})
            moments.append(Moment(now, boundaries.labels_at(profile, now, stats, definitions), "firing", timer.due_at))
            assert moments[-1].labels != moments[-2].labels
            timer = fired.successor
    return moments, end


def _assert_every_change_is_announced(
    profile_at: Callable[[datetime], CustomerProfile],
    moments: list[Moment],
    end: datetime,
    stats: PopulationStats,
    definitions: SegmentDefinitions,
) -> None:
    for moment, following in zip(moments, [*moments[1:], None], strict=True):
        stop = following.at if following is not None else end
        profile = profile_at(moment.at)
        if following is not None and following.kind == "firing":
            # The firing's due time is a boundary to the second, and the sweep is within one interval of it
            due = following.due_at
            assert due is not None and timedelta(0) <= following.at - due < SWEEP_EVERY
            assert boundaries.labels_at(profile, due - timedelta(seconds=1), stats, definitions) == moment.labels
            assert boundaries.labels_at(profile, due, stats, definitions) != moment.labels
            stop = due
        # Until then nothing changes unannounced (sampled densely: 400 points or every hour)
        step = max(timedelta(hours=1), (stop - moment.at) / 400)
        at = moment.at + step
        while at < stop - timedelta(seconds=1):
            assert boundaries.labels_at(profile, at, stats, definitions) == moment.labels, (moment, at)
            at += step


weights = st.floats(min_value=-2.5, max_value=2.5, allow_nan=False)
fitted_models = st.builds(
    lambda intercept, w_count, w_last, w_overdue, w_first, w_value: ChurnModel(
        intercept=intercept,
        weights={
            "log_order_count": w_count,
            "log_days_since_last_order": w_last,
            "overdue_ratio": w_overdue,
            "log_days_since_first_order": w_first,
            "log_relative_order_value": w_value,
        },
    ),
    st.floats(min_value=-3, max_value=3, allow_nan=False),
    weights,
    weights,
    weights,
    weights,
    weights,
)


@st.composite
def shops(draw):
    percentile = draw(st.none() | st.floats(min_value=0.05, max_value=0.98))
    stats = PopulationStats(
        computed_at=T0,
        vip_spend=Decimal(draw(st.sampled_from(["120", "1e12"]))),
        median_gap_days=draw(st.floats(min_value=5, max_value=120)),
        median_order_value=draw(st.none() | st.floats(min_value=5, max_value=400)),
        recency_cuts=sorted(draw(st.lists(st.floats(min_value=1, max_value=300), min_size=4, max_size=4))),
        churn_model=draw(st.none() | fitted_models),
        churn_risk_percentiles=[] if percentile is None else [percentile] * 99,
    )
    extra = draw(st.booleans())
    definitions = DEFINITIONS.model_copy(update={"tags": [*DEFINITIONS.tags, *EXTRA_TAGS]}) if extra else DEFINITIONS
    return stats, definitions


histories = st.lists(st.floats(min_value=0.5, max_value=250, allow_nan=False), min_size=0, max_size=7).map(
    lambda gaps: [T0 + timedelta(days=sum(gaps[:k]), minutes=7) for k in range(len(gaps) + 1)]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dates=histories, shop=shops())
def test_every_segment_change_without_an_order_is_announced_at_its_boundary(dates, shop):
    # Given a random order history, a shop's statistics (fitted churn weights or the shipped
    # ones, risk percentiles or none) and its rules (the shipped ones, or more tags on every fact)
    stats, definitions = shop
    # When the orders are applied and the sweep runs every 15 minutes until 420 days after the last
    moments, end = _play(dates, stats, definitions)

    # Then every firing changed the segment, its due time is that boundary to the second, and
    # between orders and firings the segment never changes unannounced
    def profile_at(at: datetime) -> CustomerProfile:
        return _profile([d for d in dates if d <= at], None)

    _assert_every_change_is_announced(profile_at, moments, end, stats, definitions)


def test_the_brief_s_33_day_customer_gets_a_winback_at_1_5_gaps_not_2():
    # Given a customer ordering every 33 days (the shop's median gap 33 days too)
    dates = [T0 + timedelta(days=33 * k) for k in range(4)]
    stats = PopulationStats(computed_at=T0, median_gap_days=33.0)
    moments, _ = _play(dates, stats, DEFINITIONS)
    firings = [m for m in moments if m.kind == "firing"]
    # Then the first firing is at 1.5 gaps after the last order, into at_risk (the win-back's entry)
    assert firings[0].due_at == dates[-1] + timedelta(days=1.5 * 33)
    assert firings[0].labels[0] == "at_risk"
    assert [m.labels[0] for m in firings] == ["at_risk", "lapsed", "churned"]


def test_a_fitted_model_whose_risk_falls_again_opens_and_closes_the_at_risk_window():
    # Given weights fitted on a shop where risk peaks 2.2 gaps after the last order and then
    # falls (the customer's age counts for them), and the riskiest 30 % start at a risk of 0.7003:
    # at risk only between days 62 and 71, between the one-time-buyer and lapsed boundaries (60, 90)
    model = ChurnModel(
        intercept=17.62,
        weights={
            "log_order_count": 0.0,
            "log_days_since_last_order": 0.0,
            "overdue_ratio": 1.0,
            "log_days_since_first_order": -4.267,
        },
    )
    stats = PopulationStats(
        computed_at=T0, median_gap_days=30.0, churn_model=model, churn_risk_percentiles=[0.7003] * 99
    )
    profile = _profile([T0 - timedelta(days=60), T0 - timedelta(days=30), T0], None)  # expected gap 30 days
    # When the boundaries are followed from the order on
    seen, at = [], T0
    while (at := boundaries.next_change_at(profile, at, stats, DEFINITIONS)) is not None:
        seen.append((at, classify(profile, at, stats)))
    # Then the customer enters at_risk when risk reaches the threshold (after 1.5 gaps), leaves it
    # when risk falls back (before lapsing), lapses at three gaps and churns after a year
    assert [c.lifecycle for _, c in seen] == ["at_risk", "active", "lapsed", "churned"]
    (entered, into), (left, out) = seen[0], seen[1]
    assert T0 + timedelta(days=60) < entered < left < T0 + timedelta(days=75)
    assert into.churn_risk >= 0.7003 > classify(profile, entered - timedelta(seconds=1), stats).churn_risk
    assert out.churn_risk < 0.7003 <= classify(profile, left - timedelta(seconds=1), stats).churn_risk
    assert seen[2][0] == T0 + timedelta(days=90)


def test_a_journey_sees_the_lifecycle_and_the_tags_just_entered():
    # Given a one-time buyer whose first boundary is the one_time_buyer tag at 60 days
    dates = [T0]
    moments, _ = _play(dates, PopulationStats(computed_at=T0, median_gap_days=60.0), DEFINITIONS)
    first = next(m for m in moments if m.kind == "firing")
    profile = _profile(dates, None)
    fired = sweep._fire(
        Timer(customer_id="C1", kind=INACTIVITY, due_at=first.due_at),
        profile.model_copy(update={"segment": classify(profile, T0, PopulationStats(computed_at=T0))}),
        first.at,
        PopulationStats(computed_at=T0, median_gap_days=60.0),
        DEFINITIONS,
    )
    (inactive,) = [e for e in fired.events if e.detail_type == "CustomerInactive"]
    event = JourneyEventAdapter.validate_python(
        {
            "id": "e-1",
            "source": "retention.engine",
            "time": first.at.isoformat(),
            "detail-type": "CustomerInactive",
            "detail": inactive.detail_json(),
        }
    )
    # Then the event names the tag entered, and a journey's entry segments can match it
    assert event.detail.entered == ["one_time_buyer"] and event.detail.from_lifecycle == "new"
    assert event.labels == {"new", "one_time_buyer"}
