"""Segment rules from templates/segments.yaml, each with its boundary."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from factories import T0

from retention import churn, segments
from retention.models.profile import CustomerProfile
from retention.models.segments import PopulationStats
from retention.segments import DefinitionError, classify, compute_stats, load_definitions, parse_definitions

STATS = PopulationStats(computed_at=T0, vip_spend=Decimal("500"), median_gap_days=30.0)


def customer(orders: int = 1, spent: str = "50", gap_days: float = 30, **extra: object) -> CustomerProfile:
    """A customer with ``orders`` orders ``gap_days`` apart, the last one at T0."""
    dates = [T0 - timedelta(days=gap_days * n) for n in reversed(range(orders))]
    return CustomerProfile(
        customer_id="C1",
        order_count=orders,
        total_spent=Decimal(spent) if orders else Decimal(0),
        first_order_at=dates[0] if orders else None,
        last_order_at=dates[-1] if orders else None,
        order_dates=dates,
        categories={"coffee-beans": orders} if orders else {},
        **extra,
    )


def lifecycle(profile: CustomerProfile, days_after_last_order: float = 1) -> str:
    return classify(profile, T0 + timedelta(days=days_after_last_order), STATS).lifecycle


def test_registered_without_orders_is_a_prospect():
    assert lifecycle(customer(orders=0)) == "prospect"


def test_one_recent_order_is_new():
    assert lifecycle(customer(orders=1)) == "new"


def test_two_orders_is_active_and_four_is_loyal():
    assert lifecycle(customer(orders=3)) == "active"
    assert lifecycle(customer(orders=4)) == "loyal"


def test_vip_starts_exactly_at_the_top_fifth_spend_threshold():
    assert lifecycle(customer(orders=2, spent="500")) == "vip"
    assert lifecycle(customer(orders=2, spent="499.99")) == "active"


def test_a_single_big_order_is_not_vip_yet():
    assert lifecycle(customer(orders=1, spent="5000")) == "new"


def test_lapsed_starts_at_three_expected_gaps():
    profile = customer(orders=4, gap_days=30)  # expected gap = (90 + 30) / (3 + 1) = 30 days
    assert churn.expected_gap_days(profile, STATS.median_gap_days) == pytest.approx(30)
    assert lifecycle(profile, days_after_last_order=90) == "lapsed"
    assert lifecycle(profile, days_after_last_order=89.9) != "lapsed"


def test_at_risk_needs_both_overdue_and_risky():
    profile = customer(orders=4, gap_days=30)
    assert lifecycle(profile, days_after_last_order=45) == "at_risk"  # 1.5 gaps overdue
    assert lifecycle(profile, days_after_last_order=44) == "loyal"


def test_churned_after_a_year_without_orders():
    profile = customer(orders=1)
    assert lifecycle(profile, days_after_last_order=366) == "churned"
    # At exactly 365 days the (earlier) churned rule does not hold yet; lapsed does.
    assert lifecycle(profile, days_after_last_order=365) == "lapsed"


def test_referrer_is_an_advocate_even_with_little_spend():
    result = classify(customer(orders=1, spent="5", referrals=["C2"]), T0, STATS)
    assert "advocate" in result.tags


def test_referrer_with_three_orders_is_truly_loyal():
    assert classify(customer(orders=3, referrals=["C2"]), T0, STATS).customer_type == "truly_loyal"
    assert classify(customer(orders=2, referrals=["C2"]), T0, STATS).customer_type != "truly_loyal"


def test_mostly_coupon_orders_is_program_loyal():
    profile = customer(orders=2, coupons_used=["SAVE10"])
    assert classify(profile, T0, STATS).customer_type == "program_loyal"
    assert classify(customer(orders=3, gap_days=17, coupons_used=["ABC"]), T0, STATS).customer_type != "program_loyal"


def test_regular_reorders_of_few_categories_is_convenience_loyal():
    assert classify(customer(orders=3, gap_days=30), T0, STATS).customer_type == "convenience_loyal"
    irregular = customer(orders=3).model_copy(
        update={"order_dates": [T0 - timedelta(days=100), T0 - timedelta(days=95), T0]}
    )
    assert classify(irregular, T0, STATS).customer_type == "satisfied"


def test_one_time_buyer_tag_after_sixty_days():
    assert "one_time_buyer" in classify(customer(orders=1), T0 + timedelta(days=60), STATS).tags
    assert "one_time_buyer" not in classify(customer(orders=1), T0 + timedelta(days=59), STATS).tags


def test_rfm_scores_use_the_quintile_cut_points():
    stats = STATS.model_copy(
        update={"recency_cuts": [10, 20, 30, 40], "frequency_cuts": [1, 2, 3, 5], "monetary_cuts": [50, 100, 200, 400]}
    )
    assert classify(customer(orders=6, spent="401"), T0 + timedelta(days=5), stats).rfm == "555"
    assert classify(customer(orders=1, spent="50"), T0 + timedelta(days=41), stats).rfm == "111"
    assert (
        classify(customer(orders=3, spent="100"), T0 + timedelta(days=20), stats).rfm == "432"
    )  # on a cut point = the lower quintile


def test_without_statistics_rfm_is_neutral():
    assert classify(customer(orders=2), T0, STATS).rfm == "333"


def test_churn_risk_grows_with_recency_and_falls_with_frequency():
    model = load_definitions().churn_model
    one = customer(orders=1)
    many = customer(orders=8, gap_days=20)
    assert churn.churn_risk(one, T0 + timedelta(days=200), model, 30, None) > churn.churn_risk(
        one, T0 + timedelta(days=10), model, 30, None
    )
    assert churn.churn_risk(many, T0 + timedelta(days=10), model, 20, None) < churn.churn_risk(
        one, T0 + timedelta(days=10), model, 30, None
    )
    assert churn.churn_risk(customer(orders=0), T0, model, 30, None) == 0


def _percentiles(p70: float) -> list[float]:
    """99 ascending percentiles whose 70th is ``p70``."""
    return [round(p70 * n / 70, 4) if n <= 70 else round(p70 + (1 - p70) * (n - 70) / 30, 4) for n in range(1, 100)]


def test_at_risk_uses_the_shops_own_risk_percentile():
    # Given a loyal customer 1.5 gaps overdue, whose churn risk under the shipped weights is ~0.54
    profile = customer(orders=4, gap_days=30)
    at = T0 + timedelta(days=45)
    risk = classify(profile, at, STATS).churn_risk
    assert 0.5 < risk < 0.6
    # Before any statistics the fallback threshold (0.5) applies: at risk
    assert load_definitions().churn_model.fallback_risk_threshold == 0.5
    assert classify(profile, at, STATS).lifecycle == "at_risk"
    # In a shop where 30 % of the buyers are riskier still, the same customer is not at risk
    restless_shop = STATS.model_copy(update={"churn_risk_percentiles": _percentiles(p70=risk + 0.01)})
    assert classify(profile, at, restless_shop).lifecycle == "loyal"
    # and in a shop where 70 % are calmer, they are
    calm_shop = STATS.model_copy(update={"churn_risk_percentiles": _percentiles(p70=risk - 0.01)})
    assert classify(profile, at, calm_shop).lifecycle == "at_risk"
    # exactly at the percentile counts (gte)
    on_the_line = STATS.model_copy(update={"churn_risk_percentiles": _percentiles(p70=risk)})
    assert classify(profile, at, on_the_line).lifecycle == "at_risk"


def test_weights_fitted_on_the_shop_replace_the_shipped_ones():
    shipped = load_definitions().churn_model
    weights = {**shipped.weights, "overdue_ratio": -3.0}
    fitted = shipped.shipped().model_copy(update={"intercept": 4.0, "weights": weights})
    profile = customer(orders=4, gap_days=30)
    at = T0 + timedelta(days=45)
    own = classify(profile, at, STATS.model_copy(update={"churn_model": fitted})).churn_risk
    gap = churn.expected_gap_days(profile, STATS.median_gap_days)
    assert (
        own
        == churn.churn_risk(profile, at, fitted, gap, STATS.median_order_value)
        != classify(profile, at, STATS).churn_risk
    )


def test_spend_per_order_counts_against_the_shops_typical_order_whatever_the_currency():
    # A buyer at the shop's typical order scores as if spend were unknown; one spending twice as
    # much per order scores the same in a shop pricing in euros as in one pricing in yen
    assert churn.relative_order_value(50, 50) == churn.relative_order_value(50, None) == 0
    assert churn.relative_order_value(100, 50) == pytest.approx(churn.relative_order_value(10_000, 5_000), abs=0.02)
    model, at = load_definitions().churn_model, T0 + timedelta(days=30)
    euro, yen = customer(orders=3, spent="150"), customer(orders=3, spent="15000")
    assert churn.churn_risk(euro, at, model, 30, 25.0) == pytest.approx(
        churn.churn_risk(yen, at, model, 30, 2500.0), abs=0.01
    )
    assert churn.churn_risk(euro, at, model, 30, 25.0) < churn.churn_risk(euro, at, model, 30, 100.0)


def test_the_typical_order_is_the_median_buyers_average_order_value():
    buyers = [customer(orders=n, spent=str(s)) for n, s in ((1, 10), (2, 60), (4, 400))]
    assert compute_stats(buyers, T0).median_order_value == 30.0
    assert compute_stats([customer(orders=0)], T0).median_order_value is None


def test_expected_gap_is_shrunk_towards_the_population():
    two_orders = customer(orders=2, gap_days=10)
    assert churn.expected_gap_days(two_orders, 50) == pytest.approx(30)
    assert churn.expected_gap_days(customer(orders=1), 50) == 50


def test_statistics_put_the_vip_threshold_at_the_top_fifth():
    buyers = [customer(orders=2, spent=str(amount)) for amount in range(10, 110, 10)]  # 10..100
    stats = compute_stats([*buyers, customer(orders=0)], T0)
    assert stats.buyers == 10
    assert stats.vip_spend == Decimal("90.0")
    assert len(stats.monetary_cuts) == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("lifecycle:\n  - name: x\n    when: {shoe_size: {gt: 1}}", "unknown fact 'shoe_size'"),
        ("lifecycle:\n  - name: x\n    when: {total_spent: {gt: $whales}}", "$vip_spend"),
        ("lifecycle:\n  - name: x\n    when: {total_spent: {about: 3}}", "about"),
        ("lifecycle:\n  - name: a\n  - name: a", "duplicate names"),
        ("inactivity: {floor_days: 30}", "floor_days no longer apply"),
        ("lifecycle: [", "not valid YAML"),
        (
            "lifecycle:\n  - name: x\n    when: {churn_risk: {gte: $churn_risk_p100}}",
            "$churn_risk_p1 … $churn_risk_p99",
        ),
        ("lifecycle:\n  - name: x\n    when: {churn_risk: {gte: churn_risk_p7}}", "$churn_risk_p1 … $churn_risk_p99"),
        (
            "lifecycle:\n  - name: x\n    when: {total_spent: {gte: $churn_risk_p70}}",
            "total_spent: $churn_risk_p70 is a percentile of churn risk; compare churn_risk with it",
        ),
        (
            "churn_model: {intercept: 0, weights: {}, horizon_days: 200}",
            "refit.min_history_days must exceed horizon_days",
        ),
        ("churn_model: {intercept: 0, weights: {}, refit: {sample_size: 10000000}}", "sample_size"),
        ("churn_model: {intercept: 0, weights: {}, fallback_risk_threshold: 2}", "fallback_risk_threshold"),
    ],
)
def test_invalid_definitions_are_refused_with_a_clear_message(change, message):
    base = (segments.templates_dir() / "segments.yaml").read_text()
    key = change.split(":", 1)[0]
    lines = base.splitlines()
    # Replace the whole top-level block for ``key`` with the broken one.
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith((" ", "#"))), len(lines)
    )
    broken = "\n".join([*lines[:start], change, *lines[end:]])
    with pytest.raises(DefinitionError, match=None) as caught:
        parse_definitions(broken)
    assert message in str(caught.value)


def test_the_shipped_definitions_are_valid():
    definitions = load_definitions()
    assert definitions.lifecycle[0].name == "prospect"
    assert definitions.lifecycle[-1].name == "new"
