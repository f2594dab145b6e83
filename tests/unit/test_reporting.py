"""Report arithmetic on hand-computed examples: retention rate, A/B test, lift interval, warnings."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from retention.models.tracking import HealthRules
from retention.reporting.rates import Rates, pushing_too_hard
from retention.reporting.report import Lift, journey_report
from retention.reporting.retention import CustomerOrders, figures
from retention.reporting.stats import difference_interval, retention_rate, two_proportion_test, wilson

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)


def test_retention_rate_formula_on_the_textbook_example() -> None:
    # 100 customers at the start, 120 at the end, 30 of them new: (120 - 30) / 100 = 90 %
    assert retention_rate(at_end=120, new=30, at_start=100) == pytest.approx(90.0)
    assert retention_rate(at_end=5, new=0, at_start=0) is None


def test_retention_figures_from_orders_by_hand() -> None:
    def orders(*days: int) -> CustomerOrders:
        times = [START + timedelta(days=d) for d in days]
        return CustomerOrders(first=min(times), times=times)

    history = {
        "kept": orders(-100, 60),  # a customer at the start (ordered in the last year) and at the end
        "lapsed": orders(-400, -340),  # a customer at the start (ordered 340 days before), gone by the end
        "new": orders(30),  # new in the period: counted in A and in B
        "old": orders(-500),  # not a customer at either moment
    }
    found = figures(history.keys(), history, START, END, active_days=365)
    assert (found.at_start, found.at_end, found.new) == (2, 2, 1)
    assert found.rate == pytest.approx((2 - 1) / 2 * 100)


def test_two_proportion_test_matches_a_hand_computation() -> None:
    # 60/1000 against 40/1000: pooled p = 0.05, se = sqrt(0.05*0.95*(2/1000)) = 0.009747, z = 2.052
    test = two_proportion_test(60, 1000, 40, 1000)
    assert test is not None
    assert test.z == pytest.approx(2.0519, abs=1e-3)
    assert test.p_value == pytest.approx(0.0402, abs=1e-3)
    assert test.significant
    assert not two_proportion_test(10, 200, 9, 200).significant
    assert two_proportion_test(1, 0, 1, 10) is None


def test_wilson_and_newcombe_intervals() -> None:
    low, high = wilson(10, 100)
    assert (round(low, 4), round(high, 4)) == (0.0552, 0.1744)
    interval = difference_interval(30, 100, 10, 100)
    assert interval is not None
    assert interval[0] < 0.2 < interval[1]
    assert interval[0] == pytest.approx(0.0900, abs=1e-3)  # Newcombe (1998) method 10, by hand


def test_lift_counts_customers_per_entry() -> None:
    lift = Lift(treated=200, treated_converted=50, holdout=20, holdout_converted=2)
    assert lift.treated_rate == 0.25 and lift.holdout_rate == 0.1
    assert lift.difference == pytest.approx(0.15)
    assert lift.relative == pytest.approx(1.5)


def test_rates_use_delivered_emails_and_leave_machines_out() -> None:
    rates = Rates(Counter(sent=100, delivered=95, unique_opens=60, unique_opens_human=38, unique_clicks_human=5))
    assert rates.open_rate_human == pytest.approx(38 / 95)
    assert rates.open_rate_all == pytest.approx(60 / 95)
    assert rates.click_to_open == pytest.approx(5 / 38)
    assert Rates(Counter(sent=10, unique_opens_human=2)).open_rate_human == 0.2  # no delivery events yet


def test_pushing_too_hard_warns_below_floors_only_with_enough_mail() -> None:
    rules = HealthRules(min_sent=50, min_human_open_rate=0.15, min_click_rate=0.015, max_unsubscribe_rate=0.005)
    weak = Rates(Counter(sent=200, delivered=200, unique_opens_human=20, unique_clicks_human=1, unsubscribed=3))
    warnings = pushing_too_hard(weak, rules)
    assert len(warnings) == 3 and "human open rate 10.0%" in warnings[0]
    assert pushing_too_hard(Rates(Counter(sent=20, delivered=20)), rules) == []


def test_journey_report_splits_steps_variants_and_journey_level_counts() -> None:
    counts = {
        ("2026-02-01", "-", "-"): Counter(
            entered=90, holdout=10, customers_converted=18, customers_converted_holdout=1
        ),
        ("2026-02-01", "hello", "a"): Counter(sent=500, delivered=500, unique_clicks_human=40),
        ("2026-02-01", "hello", "b"): Counter(sent=500, delivered=500, unique_clicks_human=15),
        ("2026-02-02", "hello", "a"): Counter(sent=10, delivered=10),
    }
    report = journey_report("welcome", counts, HealthRules())
    assert report.totals["sent"] == 1010
    assert set(report.days) == {"2026-02-01", "2026-02-02"}
    (test,) = report.variants
    assert test.leader == "a" and test.test is not None and test.test.significant
    assert (report.lift.treated, report.lift.holdout) == (90, 10)
