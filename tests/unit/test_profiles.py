"""Profile rules: how each shop event changes what the engine knows about a customer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from factories import T0, order, shop_event

from retention import profiles
from retention.models.consent import ConsentPolicy
from retention.models.events import CustomerReferred, CustomerRegistered


def _fresh(customer_id: str = "C1") -> profiles.CustomerProfile:
    return profiles.new_profile(customer_id, T0)


def test_first_order_sets_counts_spend_categories_and_last_items():
    # Given a new customer, When their first order is applied
    profile = profiles.apply_order(_fresh(), order(total="20.00"), T0)
    # Then the profile reflects exactly that order
    assert profile.order_count == 1
    assert profile.total_spent == Decimal("20.00")
    assert profile.average_order_value == Decimal("20.00")
    assert profile.first_order_at == profile.last_order_at == T0
    assert profile.categories == {"coffee-beans": 1}
    assert [item.sku for item in profile.last_items] == ["SKU-1"]
    assert profile.email == "c1@example.com"
    assert profile.first_name == "Leyla"


def test_average_order_value_is_total_over_orders_in_decimal():
    profile = _fresh()
    for n, total in enumerate(("10.00", "20.00", "0.01"), start=1):
        profile = profiles.apply_order(
            profile, order(order_id=f"O{n}", total=total, placed_at=T0 + timedelta(days=n)), T0
        )
    assert profile.total_spent == Decimal("30.01")
    assert profile.average_order_value == Decimal("10.00")


def test_late_older_order_counts_but_does_not_replace_latest_facts():
    # Given a profile whose latest order is on day 10
    newer = order(order_id="O2", placed_at=T0 + timedelta(days=10), category="tea", name="Leyla New")
    profile = profiles.apply_order(_fresh(), newer, T0)
    # When an older order arrives late
    older = order(order_id="O1", placed_at=T0, category="coffee-beans", name="Old Name")
    profile = profiles.apply_order(profile, older, T0)
    # Then counts include it, but last items and name stay from the newest order
    assert profile.order_count == 2
    assert profile.first_order_at == T0
    assert profile.last_order_at == T0 + timedelta(days=10)
    assert profile.last_items[0].category == "tea"
    assert profile.name == "Leyla New"
    assert profile.order_dates == [T0, T0 + timedelta(days=10)]


def test_order_in_another_currency_is_refused():
    profile = profiles.apply_order(_fresh(), order(), T0)
    with pytest.raises(profiles.CurrencyMismatch, match="USD"):
        profiles.apply_order(profile, order(order_id="O2", currency="USD"), T0)


def test_order_history_is_bounded():
    profile = _fresh()
    for n in range(60):
        profile = profiles.apply_order(profile, order(order_id=f"O{n}", placed_at=T0 + timedelta(days=n)), T0)
    assert profile.order_count == 60
    assert len(profile.order_dates) == profiles.MAX_ORDER_DATES
    assert profile.order_dates[-1] == T0 + timedelta(days=59)


def test_each_kept_order_date_has_its_order_total_even_when_orders_arrive_late():
    # Given orders of 10 (day 0) and 30 (day 20), then a late one of 20 placed on day 10
    profile = _fresh()
    for order_id, day, total in (("O1", 0, "10.00"), ("O3", 20, "30.00"), ("O2", 10, "20.00")):
        profile = profiles.apply_order(
            profile, order(order_id=order_id, total=total, placed_at=T0 + timedelta(days=day)), T0
        )
    # Then dates and totals stay in step, in date order
    assert profile.order_dates == [T0, T0 + timedelta(days=10), T0 + timedelta(days=20)]
    assert profile.order_totals == [Decimal("10.00"), Decimal("20.00"), Decimal("30.00")]


def test_order_totals_are_bounded_with_the_dates():
    profile = _fresh()
    for n in range(60):
        profile = profiles.apply_order(
            profile, order(order_id=f"O{n}", total=f"{n}.00", placed_at=T0 + timedelta(days=n)), T0
        )
    assert len(profile.order_totals) == profiles.MAX_ORDER_DATES
    assert profile.order_totals[0] == Decimal("10.00") and profile.order_totals[-1] == Decimal("59.00")


def test_a_profile_stored_before_totals_were_kept_fills_them_with_its_average_on_the_next_order():
    # Given a stored profile with two order dates, 100 spent, and no totals
    stored = _fresh().model_copy(
        update={
            "order_count": 2,
            "total_spent": Decimal("100.00"),
            "first_order_at": T0,
            "last_order_at": T0 + timedelta(days=5),
            "order_dates": [T0, T0 + timedelta(days=5)],
        }
    )
    assert profiles.aligned_totals(stored) == [Decimal("50.00"), Decimal("50.00")]
    # When it orders again, the older orders count at its average: nothing from after them
    profile = profiles.apply_order(stored, order(order_id="O3", total="80.00", placed_at=T0 + timedelta(days=9)), T0)
    assert profile.order_totals == [Decimal("50.00"), Decimal("50.00"), Decimal("80.00")]


def test_registration_after_orders_does_not_overwrite_newer_email():
    profile = profiles.apply_order(_fresh(), order(placed_at=T0 + timedelta(days=5)), T0)
    registration = CustomerRegistered(customer_id="C1", email="old@example.com", name="X", registered_at=T0)
    profile = profiles.apply_registration(profile, registration, T0)
    assert profile.email == "c1@example.com"
    assert profile.registered_at == T0


def test_registration_sets_optional_facts_without_erasing_known_ones():
    profile = _fresh().model_copy(update={"time_zone": "Europe/Kyiv"})
    registration = CustomerRegistered(
        customer_id="C1", email="a@example.com", registered_at=T0, locale="uk-UA", marketing_consent=False
    )
    profile = profiles.apply_registration(profile, registration, T0)
    evidence = profiles.consent_evidence(registration, "CustomerRegistered:C1", T0, ConsentPolicy.EXPLICIT)
    profile = profiles.record_consent(profile, evidence)
    assert profile.time_zone == "Europe/Kyiv"
    assert profile.locale == "uk_UA"
    assert profile.marketing_consent is False


def test_referral_is_recorded_once_on_both_sides():
    referral = CustomerReferred(referrer_id="C1", referred_id="C2", referred_at=T0)
    referrer = profiles.apply_referral_to_referrer(_fresh("C1"), referral, T0)
    referrer = profiles.apply_referral_to_referrer(referrer, referral, T0)
    referred = profiles.apply_referral_to_referred(_fresh("C2"), referral, T0)
    assert referrer.referrals == ["C2"]
    assert referrer.referral_count == 1
    assert referred.referred_by == "C1"


def test_repeat_purchase_rate_ignores_prospects():
    assert profiles.repeat_purchase_rate([0, 0, 1, 2, 3, 1]) == Decimal("50.0")
    assert profiles.repeat_purchase_rate([0, 0]) == Decimal("0")


def test_shop_event_factory_builds_each_type():
    assert shop_event("CustomerReferred", {"referrer_id": "A", "referred_id": "B", "referred_at": T0.isoformat()})
