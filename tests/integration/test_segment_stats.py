"""The daily statistics job on the embedded AWS: the churn refit is stored and every event uses it."""

from __future__ import annotations

from datetime import timedelta

from conftest import load_event
from factories import T0, order
from shop_history import profiles_as_of, reorder_shop

from retention import churn, clock
from retention.ingest import apply_shop_event
from retention.models.events import OrderPlacedEvent
from retention.models.segments import ChurnModel, PopulationStats
from retention.segments import load_definitions
from retention.settings import settings
from retention.store import dynamo
from retention.store.customers import CustomerStore, ProfileWrite, write_profile
from retention.store.stats import StatsStore
from retention_tools.local.runtime import load_function


def _store_profiles(profiles) -> None:
    table = settings().customers_table
    for start in range(0, len(profiles), 100):
        batch = [write_profile(ProfileWrite(p, 0)).request(table) for p in profiles[start : start + 100]]
        dynamo.client().transact_write_items(TransactItems=batch)


def test_fitted_weights_and_percentiles_round_trip_through_the_stats_item(aws):
    # Given statistics carrying weights fitted on the shop and its risk percentiles
    fitted = ChurnModel(
        horizon_days=90,
        intercept=5.120024,
        weights={
            "log_order_count": 0.873177,
            "log_days_since_last_order": -0.691727,
            "overdue_ratio": -1.177472,
            "log_days_since_first_order": -0.632577,
        },
    )
    stats = PopulationStats(
        computed_at=T0,
        buyers=1038,
        median_gap_days=9.81,
        churn_model=fitted,
        churn_training_rows=828,
        churn_risk_percentiles=[round(n / 100, 4) for n in range(1, 100)],
    )
    store = StatsStore(settings().customers_table)
    # When they are stored and read back by a fresh container
    store.put(stats)
    StatsStore.forget_cache()
    # Then every number comes back as it went in
    assert store.get() == stats
    assert store.get().risk_percentile(70) == 0.7


def test_the_daily_job_refits_on_a_shop_with_enough_history_and_events_score_with_it(aws, lambda_context):
    # Given a ten-day reorder shop of 900 customers, 500+ of them with 180 days of history
    profiles = profiles_as_of(reorder_shop(900, end=T0, gap_days=10), T0)
    _store_profiles(profiles)
    # When the statistics job runs
    with clock.frozen_at(T0):
        result = load_function("segment_stats").handler(load_event("segment_stats.scheduled"), lambda_context)
    # Then it stored weights fitted on this shop, and its own risk percentiles
    assert result["churn_model"] == "fitted"
    stats = StatsStore(settings().customers_table).get()
    assert stats.churn_model is not None
    assert stats.churn_model != load_definitions().churn_model.shipped()
    assert stats.churn_training_rows == result["churn_training_rows"] > 500
    assert len(stats.churn_risk_percentiles) == 99
    # and the next order of a customer is scored with the fitted weights (plain Python)
    customer = profiles[0]
    at = T0 + timedelta(days=1)
    event = OrderPlacedEvent.model_validate(
        {
            "id": "e-next",
            "source": "shop.orders",
            "time": at,
            "detail-type": "OrderPlaced",
            "detail": order(order_id="NEXT", customer_id=customer.customer_id, placed_at=at).model_dump(),
        }
    )
    with clock.frozen_at(at):
        apply_shop_event(event, CustomerStore(settings().customers_table))
    stored = CustomerStore(settings().customers_table).get_profile(customer.customer_id)
    gap = churn.expected_gap_days(stored, stats.median_gap_days)
    assert stored.segment.churn_risk == churn.churn_risk(stored, at, stats.churn_model, gap, stats.median_order_value)
