"""Refund and cancellation arithmetic on a profile, customer updates, and the consent rule: pure, no AWS."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from factories import T0, order

from retention import profiles
from retention.models.consent import (
    ConsentEvidence,
    ConsentPolicy,
    ConsentState,
    Purpose,
    allows,
    marketing_refusal,
)
from retention.models.events import CustomerUpdated
from retention.models.profile import CustomerProfile, OrderRecord


def _two_orders() -> tuple[CustomerProfile, OrderRecord, OrderRecord]:
    first, second = (
        order(order_id="O1", total="40.00"),
        order(order_id="O2", placed_at=T0 + timedelta(days=9), total="60.00", category="tea"),
    )
    profile = profiles.apply_order(profiles.apply_order(profiles.new_profile("C1", T0), first, T0), second, T0)
    return profile, profiles.order_record(first, T0), profiles.order_record(second, T0)


def test_a_partial_refund_lowers_spend_and_average_but_the_order_still_counts():
    profile, _, second = _two_orders()
    refunded, record, taken = profiles.apply_refund(profile, second, Decimal("15.00"), T0)
    assert taken == Decimal("15.00")
    assert (refunded.total_spent, refunded.average_order_value, refunded.order_count) == (
        Decimal("85.00"),
        Decimal("42.50"),
        2,
    )
    assert (record.refunded, record.remaining, record.counts) == (Decimal("15.00"), Decimal("45.00"), True)


def test_refunds_and_cancellations_keep_each_order_total_what_the_order_is_still_worth():
    profile, first, second = _two_orders()
    assert profile.order_totals == [Decimal("40.00"), Decimal("60.00")]
    profile, second, _ = profiles.apply_refund(profile, second, Decimal("15.00"), T0)
    assert profile.order_totals == [Decimal("40.00"), Decimal("45.00")]
    profile, _, _ = profiles.apply_cancellation(profile, first, T0 + timedelta(days=1), T0)
    assert (profile.order_dates, profile.order_totals) == ([T0 + timedelta(days=9)], [Decimal("45.00")])
    profile, _, _ = profiles.apply_refund(profile, second, Decimal("45.00"), T0)
    assert profile.order_dates == profile.order_totals == []


def test_of_two_orders_placed_in_the_same_second_the_cancelled_one_leaves_with_its_own_total():
    cheap, dear = order(order_id="O1", total="10.00"), order(order_id="O2", total="90.00")
    profile = profiles.apply_order(profiles.apply_order(profiles.new_profile("C1", T0), cheap, T0), dear, T0)
    cancelled, _, _ = profiles.apply_cancellation(profile, profiles.order_record(dear, T0), T0 + timedelta(hours=1), T0)
    assert (cancelled.order_dates, cancelled.order_totals) == ([T0], [Decimal("10.00")])


def test_a_refund_is_capped_at_what_the_order_is_still_worth_and_the_emptied_order_stops_counting():
    profile, _, second = _two_orders()
    profile, second, _ = profiles.apply_refund(profile, second, Decimal("15.00"), T0)
    refunded, record, taken = profiles.apply_refund(profile, second, Decimal("100.00"), T0)
    assert taken == Decimal("45.00")
    assert (refunded.total_spent, refunded.order_count, refunded.refunded_total) == (
        Decimal("40.00"),
        1,
        Decimal("60.00"),
    )
    assert refunded.last_order_at == T0 and refunded.order_dates == [T0]
    assert refunded.categories == {"coffee-beans": 1}
    assert not record.counts
    # a further refund of an emptied order takes nothing
    assert profiles.apply_refund(refunded, record, Decimal("1.00"), T0)[2] == Decimal(0)


def test_cancelling_a_partly_refunded_order_takes_off_only_what_is_left():
    profile, first, _ = _two_orders()
    profile, first, _ = profiles.apply_refund(profile, first, Decimal("10.00"), T0)
    cancelled, record, taken = profiles.apply_cancellation(profile, first, T0 + timedelta(days=1), T0)
    assert taken == Decimal("30.00")
    assert (cancelled.total_spent, cancelled.order_count, cancelled.cancelled_orders) == (Decimal("60.00"), 1, 1)
    assert cancelled.first_order_at == T0 + timedelta(days=9)
    assert profiles.apply_cancellation(cancelled, record, T0 + timedelta(days=2), T0)[2] == Decimal(0)


def test_an_update_older_than_the_last_applied_changes_nothing():
    profile = profiles.new_profile("C1", T0)
    newer = CustomerUpdated(customer_id="C1", updated_at=T0 + timedelta(hours=2), email="new@example.com")
    older = CustomerUpdated(
        customer_id="C1", updated_at=T0 + timedelta(hours=1), email="old@example.com", locale="de-DE"
    )
    profile = profiles.apply_update(profiles.apply_update(profile, newer, T0), older, T0)
    assert (profile.email, profile.locale) == ("new@example.com", None)


def test_consent_evidence_is_newest_first_whatever_order_it_arrives_in():
    profile = profiles.new_profile("C1", T0)
    withdrawal = CustomerUpdated(customer_id="C1", updated_at=T0 + timedelta(days=2), marketing_consent=False)
    opt_in = CustomerUpdated(
        customer_id="C1", updated_at=T0, marketing_consent=True, consent_source="checkout checkbox"
    )
    late = profiles.consent_evidence(opt_in, "CustomerUpdated:u1", opt_in.updated_at, ConsentPolicy.EXPLICIT)
    first = profiles.consent_evidence(withdrawal, "CustomerUpdated:u2", withdrawal.updated_at, ConsentPolicy.EXPLICIT)
    profile = profiles.record_consent(profiles.record_consent(profile, first), late)
    assert profile.consent.state is ConsentState.WITHDRAWN
    assert profile.consent.source_event == "CustomerUpdated:u2"
    assert profiles.consent_evidence(order(marketing_consent=None), "x", T0, ConsentPolicy.EXPLICIT) is None


def test_a_consent_dated_after_its_event_is_dated_at_the_event():
    update = CustomerUpdated(
        customer_id="C1", updated_at=T0, marketing_consent=True, consent_at=T0 + timedelta(days=300)
    )
    assert profiles.consent_evidence(update, "u", T0, ConsentPolicy.EXPLICIT).at == T0


def test_a_new_profile_has_unknown_consent_never_a_yes():
    assert profiles.new_profile("C1", T0).consent.state is ConsentState.UNKNOWN
    assert profiles.new_profile("C1", T0).marketing_consent is None


GRANTED, WITHDRAWN, UNKNOWN = (ConsentEvidence(state=s) for s in ConsentState)


@pytest.mark.parametrize(
    ("evidence", "policy", "bought", "refusal"),
    [
        (GRANTED, ConsentPolicy.EXPLICIT, False, None),
        (UNKNOWN, ConsentPolicy.EXPLICIT, True, "no_consent"),
        (WITHDRAWN, ConsentPolicy.EXPLICIT, True, "consent_withdrawn"),
        (UNKNOWN, ConsentPolicy.SOFT_OPT_IN, True, None),
        (UNKNOWN, ConsentPolicy.SOFT_OPT_IN, False, "no_consent"),
        (WITHDRAWN, ConsentPolicy.SOFT_OPT_IN, True, "consent_withdrawn"),
        (GRANTED, ConsentPolicy.SOFT_OPT_IN, False, None),
    ],
)
def test_the_consent_rule(evidence, policy, bought, refusal):
    assert marketing_refusal(evidence, policy, bought) == refusal
    assert allows(Purpose.MARKETING, evidence, policy, bought) == refusal
    assert allows(Purpose.SERVICE, evidence, policy, bought) is None
