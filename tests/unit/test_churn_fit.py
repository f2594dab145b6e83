"""The churn weights refitted on the shop's own history (retention.churn_fit, retention.daily_stats)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from factories import T0
from shop_history import ordered_between, profile_as_of, profiles_as_of, reorder_shop

from retention import churn, churn_fit, daily_stats
from retention.segments import load_definitions

DEFINITIONS = load_definitions()
HORIZON = timedelta(days=DEFINITIONS.churn_model.horizon_days)


def _with_refit(**refit: int):
    model = DEFINITIONS.churn_model
    return DEFINITIONS.model_copy(
        update={"churn_model": model.model_copy(update={"refit": model.refit.model_copy(update=refit)})}
    )


def _daily(profiles, as_of=T0, definitions=DEFINITIONS):
    return daily_stats.compute(daily_stats.collect(profiles, as_of, definitions), as_of, definitions)


def _every_ten_days(count: int, first_days_ago: float, last_days_ago: float = 0, prefix: str = "B"):
    """``count`` buyers who ordered every 10 days from ``first_days_ago`` until ``last_days_ago``."""
    start, stop = T0 - timedelta(days=first_days_ago), T0 - timedelta(days=last_days_ago)
    dates = [d for d in (start + timedelta(days=10 * k) for k in range(400)) if d <= stop]
    return profiles_as_of({f"{prefix}{n:04d}": dates for n in range(count)}, T0)


def _steady_buyers(count: int, first_order_days_ago: float, prefix: str = "B"):
    """Half keep ordering every 10 days; half stopped 120 days ago (before the cut-off)."""
    kept = _every_ten_days(count - count // 2, first_order_days_ago, 0, prefix=f"{prefix}K")
    stopped = _every_ten_days(count // 2, first_order_days_ago, min(120, first_order_days_ago), prefix=f"{prefix}S")
    return kept + stopped


def test_refit_on_a_ten_day_reorder_shop_ranks_better_than_the_shipped_weights():
    # Given a shop whose customers reorder every ~10 days until some stop, observed up to T0
    history = reorder_shop(1200, end=T0 + HORIZON, gap_days=10)
    profiles = profiles_as_of(history, T0)
    # When the daily job refits on it (features at T0 - 90 days, label = ordered by T0)
    stats, refit = _daily(profiles)
    assert stats.churn_model is not None and refit.model == stats.churn_model
    # Then on a later cut-off (features at T0, label = orders in the 90 days after T0) the fitted
    # weights rank who comes back better than the weights fitted on CDNOW
    labels = [ordered_between(history, p.customer_id, T0, T0 + HORIZON) for p in profiles]
    gaps = [churn.expected_gap_days(p, stats.median_gap_days) for p in profiles]

    def auc_of(model):
        risks = [
            churn.churn_risk(p, T0, model, gap, stats.median_order_value) for p, gap in zip(profiles, gaps, strict=True)
        ]
        return churn_fit.auc([-risk for risk in risks], labels)

    fitted, shipped = auc_of(stats.churn_model), auc_of(DEFINITIONS.churn_model)
    assert 0.2 < sum(labels) / len(labels) < 0.8  # a real mix of buyers who come back and who do not
    assert fitted > shipped + 0.05, (fitted, shipped)
    assert fitted > 0.9
    # and the fitted weights say what a ten-day shop means: being overdue is what predicts leaving
    assert stats.churn_model.weights["overdue_ratio"] < DEFINITIONS.churn_model.weights["overdue_ratio"]


def test_below_the_history_threshold_the_shipped_weights_are_used():
    # Given 499 buyers whose first order is 200 days old (500 needed) and 400 newer ones
    profiles = _steady_buyers(499, first_order_days_ago=200) + _steady_buyers(400, 120, prefix="N")
    stats, refit = _daily(profiles)
    # Then nothing is fitted, the reason is given, and classification keeps the shipped weights
    assert stats.churn_model is None and stats.churn_training_rows == 0
    assert refit.reason == "499 buyers with 180 days of history, 500 needed"
    # One more seasoned buyer and the shop gets its own weights
    stats, refit = _daily([*profiles, *_steady_buyers(1, 200, prefix="X")])
    assert stats.churn_model is not None
    assert stats.churn_training_rows == refit.rows == 900  # everyone who had ordered by the cut-off


def test_a_young_shop_keeps_the_shipped_weights_however_many_buyers():
    stats, refit = _daily(_steady_buyers(2000, first_order_days_ago=150))
    assert stats.churn_model is None
    assert refit.reason.startswith("0 buyers with 180 days of history")


def test_a_shop_where_everyone_came_back_is_not_fitted():
    history = {f"R{n:04d}": [T0 - timedelta(days=d) for d in range(300, -1, -10)] for n in range(600)}
    stats, refit = _daily(profiles_as_of(history, T0))
    assert stats.churn_model is None
    assert "too few of one kind" in refit.reason


def test_the_fit_respects_its_sample_cap_and_merges_across_scan_segments():
    # Given 2,500 buyers who had ordered by the cut-off and a sample cap of 1,000
    definitions = _with_refit(sample_size=1000, min_buyers=100)
    profiles = profiles_as_of(reorder_shop(2500, end=T0, joined_within_days=200, seed=3), T0)
    eligible = [p for p in profiles if p.first_order_at <= T0 - HORIZON]
    # When one pass reads them all, or four segments read a quarter each
    whole = daily_stats.collect(profiles, T0, definitions)
    parts = [daily_stats.collect(profiles[k::4], T0, definitions) for k in range(4)]
    merged = parts[0].merge(parts[1]).merge(parts[2].merge(parts[3]))
    # Then the training sample holds exactly the cap, out of every eligible buyer offered
    assert whole.churn.training.offered == len(eligible) > 1000
    assert len(whole.churn.training) == 1000 and len(whole.churn.current) == 1000
    # and it is the same sample however the scan was split
    assert merged.churn.training.customer_ids() == whole.churn.training.customer_ids()
    assert merged.churn.current.customer_ids() == whole.churn.current.customer_ids()
    stats, refit = daily_stats.compute(merged, T0, definitions)
    assert refit.rows == stats.churn_training_rows == 1000


def test_the_sample_is_uniform_not_the_first_rows_read():
    sample = churn_fit.BottomKSample(1000, salt="s")
    for n in range(10_000):
        sample.offer(f"C{n:05d}", lambda n=n: n)
    picked = np.array(sample.items())
    assert len(picked) == 1000
    assert 4000 < picked.mean() < 6000  # the first 1,000 read would average 500
    assert (picked >= 9000).sum() > 50


def test_features_at_the_cut_off_ignore_later_orders_and_the_label_sees_them():
    dates = [T0 - timedelta(days=d) for d in (200, 150, 100, 30)]
    profile = profile_as_of("C1", dates, T0)
    cutoff = T0 - HORIZON
    past = churn_fit.history_at(profile, cutoff)
    assert past == churn_fit.History(
        order_count=3,
        days_since_last=10.0,
        days_since_first=110.0,
        span_days=100.0,
        intervals=2,
        average_order_value=20.0,
    )
    inputs = churn_fit.ChurnInputs(T0, DEFINITIONS.churn_model)
    inputs.add(profile)
    assert inputs.training.items() == [(past, True)]
    assert churn_fit.history_at(profile_as_of("C2", dates[-1:], T0), cutoff) is None  # first order after it


def test_the_average_order_value_at_the_cut_off_counts_only_the_orders_before_it():
    # Given orders of 10 and 30 before the cut-off and one of 200 after it
    dates = [T0 - timedelta(days=d) for d in (150, 120, 30)]
    profile = profile_as_of("C1", dates, T0).model_copy(
        update={"total_spent": Decimal(240), "order_totals": [Decimal(10), Decimal(30), Decimal(200)]}
    )
    # Then the row's average is 20: today's 80 would tell the fit that this buyer came back
    assert churn_fit.history_at(profile, T0 - HORIZON).average_order_value == 20.0
    assert churn_fit.history_now(profile, T0).average_order_value == 80.0


def _spending(profiles, per_order: int):
    return [
        p.model_copy(
            update={
                "total_spent": Decimal(per_order * p.order_count),
                "order_totals": [Decimal(per_order)] * len(p.order_dates),
            }
        )
        for p in profiles
    ]


def test_the_fit_learns_that_bigger_baskets_come_back_when_the_rest_is_alike():
    # Given a ten-day shop of 600 buyers with the same orders up to the cut-off (T0 - 90 days):
    # those spending 40 per order kept ordering after it, those spending 10 stopped there
    kept = _spending(_every_ten_days(300, 200, 0, prefix="K"), per_order=40)
    stopped = _spending(_every_ten_days(300, 200, 90, prefix="S"), per_order=10)
    assert churn_fit.history_at(kept[0], T0 - HORIZON).days_since_last == 0.0
    assert churn_fit.history_at(stopped[0], T0 - HORIZON).days_since_last == 0.0
    stats, _ = _daily([*kept, *stopped])
    # Then the fitted weights say that spending more per order than the typical buyer lowers the risk
    assert stats.churn_model is not None
    assert stats.churn_model.weights["log_relative_order_value"] > 0.5
    assert stats.median_order_value == 25.0  # between the two kinds of buyer


def test_percentiles_rank_the_buyers_who_have_not_lapsed_under_the_model_in_force():
    # Given a ten-day shop: buyers on schedule, buyers 2 gaps late, and buyers gone for 12 gaps
    on_time = _every_ten_days(300, 200, 2, prefix="A")
    late = _every_ten_days(300, 200, 20, prefix="L")
    gone = _every_ten_days(300, 200, 120, prefix="G")
    stats, _ = _daily([*on_time, *late, *gone])
    # Then 99 ascending percentiles of the risk under the weights fitted on this shop
    assert stats.churn_model is not None
    assert len(stats.churn_risk_percentiles) == 99
    assert stats.churn_risk_percentiles == sorted(stats.churn_risk_percentiles)

    def risk(profile):
        gap = churn.expected_gap_days(profile, stats.median_gap_days)
        return churn.churn_risk(profile, T0, stats.churn_model, gap, stats.median_order_value)

    # ranking only the buyers not yet lapsed (overdue < 3): the late half are the riskiest
    assert stats.risk_percentile(40) == risk(on_time[0]) < stats.risk_percentile(70) == risk(late[0])
    assert risk(gone[0]) > stats.risk_percentile(99)  # had the gone been ranked, p70 would be theirs


def test_too_few_ranked_buyers_give_no_percentiles():
    fewest = churn_fit.MIN_RANKED_BUYERS
    stats, _ = _daily(_every_ten_days(fewest - 1, 200) + _every_ten_days(50, 200, 120, prefix="G"))
    assert stats.churn_risk_percentiles == []
    assert stats.risk_percentile(70) is None
    stats, _ = _daily(_every_ten_days(fewest, 200))
    assert len(stats.churn_risk_percentiles) == 99


def test_logistic_fit_recovers_the_weights_it_was_generated_with():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(20_000, 4))
    truth = np.array([0.5, 1.5, -2.0, 0.0, 0.7])
    y = rng.random(20_000) < 1 / (1 + np.exp(-(truth[0] + x @ truth[1:])))
    assert churn_fit.fit_logistic(x, y, l2=0.0) == pytest.approx(truth, abs=0.1)


def test_logistic_fit_stays_finite_on_separable_rows():
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    weights = churn_fit.fit_logistic(x, np.array([0, 0, 1, 1]))
    assert np.all(np.isfinite(weights)) and weights[1] > 0


def test_auc_counts_ties_as_half():
    assert churn_fit.auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert churn_fit.auc([1, 1, 1, 1], [0, 1, 0, 1]) == pytest.approx(0.5)
