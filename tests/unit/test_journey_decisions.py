"""The journeys' specification, read off the pure decisions (no moto, no store, no clock).

Each test builds the snapshot a dispatcher would have read (profile, contact, journey state,
coupon) and asks what happens: enter, hold out, ignore (why), exit (why), defer (until when,
why), skip or send. The dispatcher only applies these answers, so these tests are the rules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from retention.journeys import decisions, rules
from retention.journeys.decisions import Defer, Enter, Exit, HoldOut, Ignore, Send, SkipStep
from retention.models.consent import ConsentEvidence, ConsentPolicy
from retention.models.emails import TemplateKind
from retention.models.journeys import Journey, JourneyFile
from retention.models.messaging import (
    ContactState,
    Coupon,
    CouponStatus,
    JourneyState,
    JourneyStatus,
    LastClick,
    NpsAnswer,
    SentEntry,
    Suppression,
)
from retention.models.profile import CustomerProfile
from retention.models.segments import Classification

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 13:00 in Berlin (CET): outside quiet hours
KINDS = {
    "helpful": TemplateKind.CONTENT,
    "ask": TemplateKind.FEEDBACK,
    "offer": TemplateKind.PROMOTION,
    "offer_short": TemplateKind.PROMOTION,
}
WINDOW, LIMIT = 10, 0.2  # at most 2 promotions in any 10 emails


def service_journey() -> Journey:
    """A journey of service steps (an order's thanks): exempt from the cap and the sunset."""
    return journey(
        steps=[
            {"id": "first", "delay_days": 0, "template": "helpful", "purpose": "service"},
            {"id": "second", "delay_days": 7, "template": "offer", "purpose": "service"},
        ]
    )


def journey(**overrides: object) -> Journey:
    spec: dict[str, object] = {
        "description": "test journey",
        "trigger": {"event": "CustomerInactive"},
        "entry": {"segments": ["at_risk"]},
        "steps": [
            {"id": "first", "delay_days": 0, "template": "helpful"},
            {"id": "second", "delay_days": 7, "template": "offer"},
        ],
        "exit_on": ["ordered", "unsubscribed", "bounced"],
        "holdout_share": 0,
        "reentry_days": 90,
    }
    spec.update(overrides)
    return Journey.model_validate(spec)


def definitions(winback: Journey | None = None, **frequency: object) -> JourneyFile:
    return JourneyFile.model_validate({"frequency": frequency, "journeys": {"winback": winback or journey()}})


def profile(customer_id: str = "C1", **overrides: object) -> CustomerProfile:
    fields: dict[str, object] = {
        "customer_id": customer_id,
        "email": f"{customer_id.lower()}@example.com",
        "name": "Ada Lovelace",
        "marketing_consent": True,
        "segment": Classification(lifecycle="at_risk", customer_type="regular"),
        "last_order_at": NOW - timedelta(days=60),
        "order_count": 3,
    }
    fields.update(overrides)
    return CustomerProfile(**fields)


def active(next_step: int = 0, entered_at: datetime = NOW - timedelta(days=7), **overrides: object) -> JourneyState:
    fields: dict[str, object] = {
        "customer_id": "C1",
        "journey": "winback",
        "cycle": 1,
        "status": JourneyStatus.ACTIVE,
        "entered_at": entered_at,
        "trigger_key": "inactive:1",
        "recent_triggers": ["inactive:1"],
        "next_step": next_step,
    }
    fields.update(overrides)
    return JourneyState(**fields)


def sent(*ages_and_kinds: tuple[timedelta, TemplateKind]) -> list[SentEntry]:
    return [
        SentEntry(message_id=f"m{i}", at=NOW - age, kind=kind)
        for i, (age, kind) in enumerate(sorted(ages_and_kinds, key=lambda pair: pair[0], reverse=True))
    ]


def contact(**overrides: object) -> ContactState:
    return ContactState(customer_id="C1", **overrides)


def step(
    state: JourneyState | None = None,
    customer: CustomerProfile | None = None,
    person: ContactState | None = None,
    winback: Journey | None = None,
    now: datetime = NOW,
    **frequency: object,
) -> decisions.StepDecision:
    winback = winback or journey()
    return decisions.decide_step(
        winback,
        state or active(),
        customer if customer is not None else profile(),
        person or contact(),
        now,
        definitions(winback, **frequency),
        KINDS,
        WINDOW,
        LIMIT,
    )


def enter(
    state: JourneyState | None = None,
    customer: CustomerProfile | None = None,
    winback: Journey | None = None,
    trigger_key: str = "inactive:2",
    labels: set[str] | None = None,
    coupon: Coupon | None = None,
    now: datetime = NOW,
    score: NpsAnswer | None = None,
) -> decisions.Entry:
    winback = winback or journey()
    return decisions.decide_entry(
        "winback",
        winback,
        state or JourneyState(customer_id="C1", journey="winback"),
        customer if customer is not None else profile(),
        coupon,
        trigger_key,
        labels,
        now,
        definitions(winback),
        score=score,
    )


# --------------------------------------------------------------------------------- entering


def test_an_eligible_customer_enters_a_new_cycle_with_the_first_step_due_after_its_delay():
    decision = enter(winback=journey(steps=[{"id": "first", "delay_days": 2, "template": "helpful"}]))

    assert isinstance(decision, Enter)
    assert decision.first_due == NOW + timedelta(days=2)
    assert decision.state.status is JourneyStatus.ACTIVE
    assert decision.state.cycle == 1
    assert decision.state.recent_triggers == ["inactive:2"]


def test_the_same_trigger_delivered_twice_is_ignored_as_a_duplicate():
    assert enter(state=active(), trigger_key="inactive:1") == Ignore("duplicate_trigger")


def test_a_customer_already_in_the_journey_is_not_entered_again():
    assert enter(state=active(entered_at=NOW - timedelta(days=3))) == Ignore("already_in_journey")


def test_a_cycle_stuck_long_past_its_last_step_no_longer_blocks_a_new_one():
    stuck = active(entered_at=NOW - timedelta(days=7 + 61), recent_triggers=["inactive:0"])

    assert isinstance(enter(state=stuck, winback=journey(reentry_days=0)), Enter)


def test_re_entry_waits_for_the_journeys_reentry_days():
    finished = active(status=JourneyStatus.COMPLETED, entered_at=NOW - timedelta(days=30))

    assert enter(state=finished) == Ignore("reentry_too_soon")
    assert isinstance(enter(state=finished, now=finished.entered_at + timedelta(days=90)), Enter)


@pytest.mark.parametrize(
    ("customer", "labels"),
    [
        (profile(segment=Classification(lifecycle="active", customer_type="regular")), None),
        (profile(marketing_consent=False), None),
        (profile(segment=None), None),  # a prospect: not in at_risk
        (profile(), {"active"}),  # the event's segment wins over the stored one
    ],
    ids=["other_segment", "no_consent", "prospect", "event_labels"],
)
def test_a_customer_outside_the_entry_filter_is_not_eligible(customer, labels):
    assert enter(customer=customer, labels=labels) == Ignore("not_eligible")


def test_the_locale_filter_compares_the_language_of_the_customers_locale():
    german_only = journey(entry={"segments": [], "locales": ["de"]})

    assert isinstance(enter(customer=profile(locale="de-AT"), winback=german_only), Enter)
    assert enter(customer=profile(locale="en_GB"), winback=german_only) == Ignore("not_eligible")


def test_a_deleted_customer_is_not_eligible():
    assert decisions.decide_entry(
        "winback",
        journey(),
        JourneyState(customer_id="C1", journey="winback"),
        None,
        None,
        "k",
        None,
        NOW,
        definitions(),
    ) == Ignore("not_eligible")


def test_a_coupon_reminder_enters_only_while_the_coupon_is_issued_and_unexpired():
    reminder = journey(
        trigger={"event": "TimerFired", "timer": "coupon_expiry"},
        entry={"segments": []},
        steps=[{"id": "reminder", "template": "offer"}],
    )
    coupon = Coupon(
        customer_id="C1",
        code="ABCDE-FGHJK",
        percent_off=15,
        issued_at=NOW - timedelta(days=14),
        expires_at=NOW + timedelta(days=7),
        journey="winback",
        message_id="m1",
    )

    entered = enter(winback=reminder, coupon=coupon)
    assert isinstance(entered, Enter)
    assert entered.state.coupon is not None and entered.state.coupon.code == "ABCDE-FGHJK"
    redeemed = coupon.model_copy(update={"status": CouponStatus.REDEEMED})
    assert enter(winback=reminder, coupon=redeemed) == Ignore("coupon_not_open")
    assert enter(winback=reminder, coupon=coupon, now=coupon.expires_at) == Ignore("coupon_not_open")
    assert enter(winback=reminder, coupon=None) == Ignore("coupon_not_open")


def test_the_hold_out_gets_a_cycle_of_its_own_and_no_email():
    customers = [f"C{i}" for i in range(2000)]
    winback = journey(holdout_share=0.1)
    entries = [enter(customer=profile(customer_id), winback=winback) for customer_id in customers]

    held = [entry for entry in entries if isinstance(entry, HoldOut)]
    assert all(entry.state.status is JourneyStatus.HOLDOUT and entry.state.cycle == 1 for entry in held)
    assert 0.08 < len(held) / len(customers) < 0.12
    assert {entry.state.customer_id for entry in held} == {c for c in customers if rules.in_holdout(c, "winback", 0.1)}


def test_hold_out_membership_is_stable_across_retries_and_independent_between_journeys():
    customers = [f"C{i}" for i in range(2000)]
    winback = {c for c in customers if rules.in_holdout(c, "winback", 0.1)}
    again = {c for c in customers if rules.in_holdout(c, "winback", 0.1)}
    referral = {c for c in customers if rules.in_holdout(c, "referral", 0.1)}

    assert winback == again
    assert len(winback & referral) < len(winback) / 3  # ~1 % of customers, not the same 10 %


def test_the_journeys_own_hold_out_share_overrides_the_default():
    customers = [f"C{i}" for i in range(300)]

    assert not any(isinstance(enter(customer=profile(c)), HoldOut) for c in customers)  # holdout_share: 0


# --------------------------------------------------------------------------------- steps: exits


def test_a_step_for_a_deleted_customer_exits_the_journey():
    decision = decisions.decide_step(journey(), active(), None, contact(), NOW, definitions(), KINDS, WINDOW, LIMIT)

    assert decision == Exit("customer_deleted", {"exited_customer_deleted": 1})


def test_an_order_after_entry_ends_a_journey_that_exits_on_order():
    ordered = profile(last_order_at=NOW - timedelta(days=1))

    assert step(customer=ordered) == Exit("ordered", {"exited_ordered": 1})


def test_an_order_after_entry_does_not_end_a_journey_that_continues_after_orders():
    ordered = profile(last_order_at=NOW - timedelta(days=1))

    assert isinstance(step(customer=ordered, winback=journey(exit_on=["unsubscribed"])), Send)


def test_an_order_before_entry_does_not_end_the_journey():
    assert isinstance(step(customer=profile(last_order_at=NOW - timedelta(days=30))), Send)


@pytest.mark.parametrize("suppression", [Suppression.UNSUBSCRIBED, Suppression.BOUNCED, Suppression.COMPLAINED])
def test_a_suppressed_contact_exits_with_the_suppression_as_reason(suppression):
    decision = step(person=contact(suppressed=suppression, suppressed_at=NOW - timedelta(days=1)))

    assert decision == Exit(suppression.value, {"suppressed": 1, f"suppressed_{suppression.value}": 1})


@pytest.mark.parametrize(
    ("customer", "reason"),
    [
        (profile(email=None), "no_address"),
        (profile(email="zoë@example.com"), "undeliverable_address"),  # SES cannot send to a UTF-8 local part
        (profile(email="no-at-sign"), "undeliverable_address"),
    ],
)
def test_the_address_is_checked_again_at_send_time(customer, reason):
    assert step(customer=customer) == Exit(reason, {"suppressed": 1, f"suppressed_{reason}": 1})


def test_a_marketing_step_without_consent_is_skipped_with_the_reason_counted():
    # Given a customer who withdrew consent, and another the shop never asked
    withdrawn, unknown = profile(marketing_consent=False), profile(consent=ConsentEvidence())
    # Then a marketing step is skipped (the journey moves on), each with its reason
    assert step(customer=withdrawn) == SkipStep("skipped_consent_withdrawn")
    assert step(customer=unknown) == SkipStep("skipped_no_consent")


def test_soft_opt_in_lets_buyers_get_marketing_until_they_object_but_not_prospects():
    def under_soft_opt_in(customer: CustomerProfile) -> decisions.StepDecision:
        winback = journey()
        return decisions.decide_step(
            winback,
            active(),
            customer,
            contact(),
            NOW,
            definitions(winback),
            KINDS,
            WINDOW,
            LIMIT,
            ConsentPolicy.SOFT_OPT_IN,
        )

    buyer = profile(consent=ConsentEvidence())
    prospect = profile(consent=ConsentEvidence(), order_count=0, last_order_at=None)
    assert isinstance(under_soft_opt_in(buyer), Send)
    assert under_soft_opt_in(prospect) == SkipStep("skipped_no_consent")
    assert under_soft_opt_in(profile(marketing_consent=False)) == SkipStep("skipped_consent_withdrawn")
    assert step(customer=buyer) == SkipStep("skipped_no_consent")  # explicit: a purchase is no opt-in


def test_a_service_step_goes_out_without_marketing_consent_but_still_needs_an_address():
    service = journey(
        entry={"segments": ["at_risk"], "requires_consent": False},
        steps=[{"id": "thanks", "delay_days": 0, "template": "helpful", "purpose": "service"}],
    )
    assert isinstance(step(customer=profile(marketing_consent=False), winback=service), Send)
    assert step(customer=profile(marketing_consent=False, email=None), winback=service) == Exit(
        "no_address", {"suppressed": 1, "suppressed_no_address": 1}
    )


def test_after_eight_unopened_emails_in_a_row_the_customer_is_sunset_for_good():
    unopened = sent(*[(timedelta(days=10 * (i + 1)), TemplateKind.CONTENT) for i in range(8)])

    decision = step(person=contact(sends=unopened), customer=profile(last_order_at=NOW - timedelta(days=100)))

    assert decision == Exit("sunset", {"suppressed": 1, "suppressed_sunset": 1, "sunset": 1}, sunset=True)


def test_an_open_resets_the_unopened_streak():
    unopened = sent(*[(timedelta(days=10 * (i + 1)), TemplateKind.CONTENT) for i in range(8)])

    assert isinstance(step(person=contact(sends=unopened, last_engaged_at=NOW - timedelta(days=25))), Send)


def test_an_order_resets_the_unopened_streak():
    unopened = sent(*[(timedelta(days=10 * (i + 1)), TemplateKind.CONTENT) for i in range(8)])

    assert isinstance(
        step(customer=profile(last_order_at=NOW - timedelta(days=25)), person=contact(sends=unopened)), Send
    )


def test_service_emails_neither_sunset_nor_count_towards_the_streak():
    service = service_journey()
    receipts = [
        SentEntry(message_id=f"r{i}", at=NOW - timedelta(days=i + 1), kind=TemplateKind.CONTENT, counts_for_cap=False)
        for i in range(8)
    ]
    seven_unopened = sent(*[(timedelta(days=10 * (i + 1)), TemplateKind.CONTENT) for i in range(7)])
    eight_unopened = sent(*[(timedelta(days=10 * (i + 1)), TemplateKind.CONTENT) for i in range(8)])

    assert isinstance(step(person=contact(sends=[*seven_unopened, *receipts])), Send)  # 7 marketing, 8 receipts
    assert isinstance(step(person=contact(sends=eight_unopened), winback=service), Send)
    sunset = contact(suppressed=Suppression.SUNSET, suppressed_at=NOW - timedelta(days=5))
    assert isinstance(step(person=sunset, winback=service), Send)
    assert step(person=sunset) == Exit("sunset", {"suppressed": 1, "suppressed_sunset": 1})


def test_a_sunset_customer_who_orders_again_gets_marketing_email_again():
    sunset = contact(suppressed=Suppression.SUNSET, suppressed_at=NOW - timedelta(days=30))

    reordered, since = profile(last_order_at=NOW - timedelta(days=2)), active(entered_at=NOW - timedelta(days=1))
    assert isinstance(step(state=since, person=sunset, customer=reordered), Send)
    unsubscribed = contact(suppressed=Suppression.UNSUBSCRIBED, suppressed_at=NOW - timedelta(days=30))
    assert step(state=since, person=unsubscribed, customer=reordered).reason == "unsubscribed"


@pytest.mark.parametrize("service_first", [True, False])
def test_two_emails_due_together_after_an_order_both_go_out_in_either_order(service_first):
    """The soak's finding: a VIP entry and an order thanks from one order, due at the same tick,
    to a customer seven unopened emails from the sunset. Whichever is handled first, both go."""
    ordered = profile(last_order_at=NOW - timedelta(days=1))
    history = sent(*[(timedelta(days=10 * (i + 2)), TemplateKind.CONTENT) for i in range(7)])
    service, marketing = service_journey(), journey()
    kinds = [(service, False), (marketing, True)] if service_first else [(marketing, True), (service, False)]
    person = contact(sends=history)
    for chosen, counts in kinds:
        decision = step(active(entered_at=NOW - timedelta(hours=12)), ordered, person, chosen)
        assert isinstance(decision, Send)
        entry = SentEntry(
            message_id=decision.message_id + chosen.description, at=NOW, kind=decision.kind, counts_for_cap=counts
        )
        person = contact(sends=person.with_send(entry, NOW))


# --------------------------------------------------------------------------------- steps: deferral


def test_a_paused_contact_defers_the_step_to_the_end_of_the_pause():
    until = NOW + timedelta(days=20)

    assert step(person=contact(paused_until=until)) == Defer(until, "deferred_paused")


def test_a_pause_that_has_ended_no_longer_defers():
    assert isinstance(step(person=contact(paused_until=NOW - timedelta(minutes=1))), Send)


def test_a_step_due_in_the_customers_quiet_hours_waits_until_eight_in_the_morning_local_time():
    late = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)  # 22:30 in Berlin

    assert step(now=late) == Defer(datetime(2026, 3, 11, 7, 0, tzinfo=UTC), "deferred_quiet_hours")


def test_quiet_hours_follow_the_customers_own_time_zone():
    late_in_berlin = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)  # 16:30 in New York
    new_yorker = profile(time_zone="America/New_York")

    assert isinstance(step(customer=new_yorker, now=late_in_berlin), Send)
    early_in_new_york = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # 07:00 EDT
    assert step(customer=new_yorker, now=early_in_new_york) == Defer(
        datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "deferred_quiet_hours"
    )


def test_the_minimum_gap_since_the_last_email_defers_the_step():
    recent = sent((timedelta(hours=26), TemplateKind.CONTENT))

    assert step(person=contact(sends=recent)) == Defer(NOW + timedelta(hours=22), "deferred_frequency_cap")


def test_the_rolling_seven_day_cap_defers_until_the_oldest_email_leaves_the_window():
    two_this_week = sent(
        (timedelta(days=5, hours=22), TemplateKind.CONTENT), (timedelta(days=3, hours=22), TemplateKind.CONTENT)
    )

    decision = step(person=contact(sends=two_this_week, last_engaged_at=NOW))

    assert decision == Defer(NOW - timedelta(days=5, hours=22) + timedelta(days=7), "deferred_frequency_cap")


def test_after_three_unopened_emails_the_minimum_gap_doubles():
    three_unopened = sent(
        (timedelta(days=18), TemplateKind.CONTENT),
        (timedelta(days=13), TemplateKind.CONTENT),
        (timedelta(days=3), TemplateKind.CONTENT),
    )

    assert step(person=contact(sends=three_unopened)) == Defer(NOW + timedelta(days=1), "deferred_frequency_cap")
    opened = contact(sends=three_unopened, last_engaged_at=NOW - timedelta(days=2))
    assert isinstance(step(person=opened), Send)  # 72 h since the last email is past the normal 48 h


def test_a_deferral_landing_in_quiet_hours_is_a_frequency_deferral_moved_to_the_morning():
    recent = sent((timedelta(hours=40), TemplateKind.CONTENT))  # the gap ends at 20:00 UTC = 21:00 Berlin

    assert step(person=contact(sends=recent)) == Defer(
        datetime(2026, 3, 11, 7, 0, tzinfo=UTC), "deferred_frequency_cap"
    )


def test_a_service_step_is_exempt_from_the_cap_but_not_from_quiet_hours():
    service = service_journey()
    two_today = sent((timedelta(hours=3), TemplateKind.CONTENT), (timedelta(hours=1), TemplateKind.CONTENT))

    assert isinstance(step(person=contact(sends=two_today), winback=service), Send)
    late = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)
    assert step(person=contact(sends=two_today), winback=service, now=late) == Defer(
        datetime(2026, 3, 11, 7, 0, tzinfo=UTC), "deferred_quiet_hours"
    )


def asking() -> Journey:
    return journey(steps=[{"id": "review", "delay_days": 0, "template": "ask"}])


def test_at_most_one_review_request_per_customer_in_ninety_days():
    # Given a customer asked for a review 89 days ago (by any journey)
    asked = contact(last_review_request_at=NOW - timedelta(days=89))
    # When another review request is due, Then it is skipped and counted, not sent
    assert step(person=asked, winback=asking(), review_templates=["ask"]) == SkipStep("skipped_review_recently")
    # And after 90 days it goes out, marked as a review request (the send restarts the clock)
    later = contact(last_review_request_at=NOW - timedelta(days=90))
    decision = step(person=later, winback=asking(), review_templates=["ask"])
    assert isinstance(decision, Send) and decision.asks_review
    # And the limit is configurable (0 = none) and applies only to the templates that ask
    assert isinstance(step(person=asked, winback=asking(), review_templates=["ask"], review_every_days=0), Send)
    assert not step(person=later, winback=asking(), review_templates=["other"]).asks_review


def test_a_review_request_counts_against_the_cap_even_after_an_order():
    # Given two emails this week and an order yesterday (its thanks is service, its review is not)
    two_this_week = sent((timedelta(hours=30), TemplateKind.CONTENT), (timedelta(hours=60), TemplateKind.CONTENT))
    ordered = profile(last_order_at=NOW - timedelta(days=1))
    review = journey(steps=[{"id": "review", "delay_days": 0, "template": "ask", "purpose": "marketing"}])
    # When the review request is due, Then the cap defers it; the service thanks is not capped
    decision = step(active(entered_at=NOW - timedelta(hours=2)), ordered, contact(sends=two_this_week), review)
    assert isinstance(decision, Defer) and decision.cause == "deferred_frequency_cap"
    thanks = step(active(entered_at=NOW - timedelta(hours=2)), ordered, contact(sends=two_this_week), service_journey())
    assert isinstance(thanks, Send)


def test_deferral_is_bounded_and_every_arming_gets_its_own_firing_number():
    state = active(next_step=1)
    firings = set()
    for _ in range(decisions.MAX_DEFERRALS):
        moved = decisions.deferred(state, NOW + timedelta(hours=1))
        assert moved is not None
        state, timer = moved
        firings.add(timer.firing)

    assert decisions.deferred(state, NOW + timedelta(hours=1)) is None
    assert len(firings) == decisions.MAX_DEFERRALS
    next_step_timer = decisions.step_timer(state.model_copy(update={"deferrals": 0}), 2, NOW)
    assert next_step_timer.firing not in firings


# --------------------------------------------------------------------------------- steps: 80/20


def test_a_promotion_that_would_make_three_in_ten_is_skipped_not_deferred():
    two_promotions = sent(
        (timedelta(days=40), TemplateKind.PROMOTION),
        (timedelta(days=30), TemplateKind.CONTENT),
        (timedelta(days=20), TemplateKind.PROMOTION),
        (timedelta(days=10), TemplateKind.CONTENT),
    )

    decision = step(state=active(next_step=1), person=contact(sends=two_promotions, last_engaged_at=NOW))

    assert decision == SkipStep()


def test_helpful_content_is_never_held_back_by_the_promotion_limit():
    all_promotions = sent(*[(timedelta(days=10 * (i + 1)), TemplateKind.PROMOTION) for i in range(5)])

    assert isinstance(step(state=active(next_step=0), person=contact(sends=all_promotions, last_engaged_at=NOW)), Send)


def test_a_promotion_is_allowed_once_earlier_promotions_leave_the_window_of_ten():
    old_promotions_then_content = sent(
        *[(timedelta(days=100 + i), TemplateKind.PROMOTION) for i in range(2)],
        *[(timedelta(days=10 * (i + 1)), TemplateKind.CONTENT) for i in range(8)],
    )

    decision = step(state=active(next_step=1), person=contact(sends=old_promotions_then_content, last_engaged_at=NOW))

    assert isinstance(decision, Send) and decision.kind is TemplateKind.PROMOTION


def test_skipping_a_step_moves_to_the_next_one_or_completes_the_cycle():
    winback = journey()
    moved, timer = decisions.advanced(winback, active(next_step=0, entered_at=NOW - timedelta(days=1)), NOW)
    assert moved.next_step == 1 and timer is not None
    assert timer.due_at == NOW + timedelta(days=6)

    done, no_timer = decisions.advanced(winback, active(next_step=1), NOW)
    assert done.status is JourneyStatus.COMPLETED and done.finished_at == NOW and no_timer is None


# --------------------------------------------------------------------------------- steps: sending, A/B


def test_a_send_names_the_template_its_kind_and_a_message_id_that_is_the_same_on_every_retry():
    decision = step(state=active(next_step=0))

    assert isinstance(decision, Send)
    assert (decision.template, decision.variant, decision.kind) == ("helpful", "-", TemplateKind.CONTENT)
    assert decision.message_id == rules.message_id_for("C1", "winback", 1, "first")
    assert step(state=active(next_step=0)).message_id == decision.message_id


def test_the_ab_split_follows_the_weights_and_keeps_each_customer_on_one_variant():
    split = journey(
        steps=[
            {
                "id": "first",
                "template": None,
                "variants": [
                    {"name": "A", "template": "offer", "weight": 3},
                    {"name": "B", "template": "offer_short", "weight": 1},
                ],
            }
        ]
    )
    variants = {}
    for i in range(2000):
        customer = profile(f"C{i}")
        decision = decisions.decide_step(
            split, active(customer_id=f"C{i}"), customer, contact(), NOW, definitions(split), KINDS, WINDOW, LIMIT
        )
        assert isinstance(decision, Send)
        assert decision.template == {"A": "offer", "B": "offer_short"}[decision.variant]
        variants[f"C{i}"] = decision.variant

    share_a = sum(v == "A" for v in variants.values()) / len(variants)
    assert 0.71 < share_a < 0.79
    again = rules.step_template("C7", "winback", split.steps[0])
    assert again[1] == variants["C7"]


def test_a_step_issuing_a_coupon_gets_a_new_code_unless_the_cycle_already_carries_one():
    coupon_step = journey(
        steps=[{"id": "first", "template": "offer", "coupon": {"percent_off": 15, "valid_days": 21}}]
    ).steps[0]

    offer = decisions.offer_for(active(), coupon_step, NOW)
    assert offer is not None and offer.percent_off == 15 and offer.expires_at == NOW + timedelta(days=21)
    carried = active(coupon=offer)
    assert decisions.offer_for(carried, coupon_step, NOW) is offer
    assert decisions.offer_for(active(), journey().steps[0], NOW) is None


# --------------------------------------------------------------------------------- orders


def test_an_order_after_entry_converts_the_cycle_once_and_exits_a_journey_that_ends_on_order():
    state = active(entered_at=NOW - timedelta(days=5))

    found = decisions.conversions({"winback": state}, "O9", Decimal("40.00"), NOW, definitions(), None)

    assert len(found) == 1
    conversion = found[0]
    assert conversion.exits and conversion.state.status is JourneyStatus.EXITED
    assert conversion.state.converted_orders == ["O9"] and conversion.state.converted_revenue == Decimal("40.00")
    assert conversion.counts == {"converted": 1, "exited_ordered": 1, "customers_converted": 1}
    again = decisions.conversions({"winback": conversion.state}, "O9", Decimal("40.00"), NOW, definitions(), None)
    assert again == []


def test_a_hold_out_customers_order_counts_for_the_lift_and_is_never_attributed():
    held = active(status=JourneyStatus.HOLDOUT, entered_at=NOW - timedelta(days=5))
    click = LastClick(message_id="m1", journey="winback", step="first", variant="-", sent_day=NOW.date(), at=NOW)

    (conversion,) = decisions.conversions({"winback": held}, "O9", Decimal("40.00"), NOW, definitions(), click)

    assert not conversion.exits and not conversion.attributed
    assert conversion.counts == {"converted_holdout": 1, "customers_converted_holdout": 1}


def test_an_order_before_entry_converts_nothing():
    state = active(entered_at=NOW)

    assert (
        decisions.conversions({"winback": state}, "O9", Decimal(1), NOW - timedelta(hours=1), definitions(), None) == []
    )


def test_an_order_is_attributed_to_the_journey_whose_email_was_clicked_within_the_window():
    clicked = LastClick(
        message_id="m1", journey="winback", step="first", variant="-", sent_day=NOW.date(), at=NOW - timedelta(days=3)
    )
    person = contact(last_click=clicked)

    assert decisions.credited_click(person, NOW, window_days=5) == clicked
    assert decisions.credited_click(person, NOW, window_days=2) is None
    assert decisions.credited_click(person, NOW - timedelta(days=4), window_days=5) is None  # clicked after the order
    (conversion,) = decisions.conversions(
        {"winback": active(entered_at=NOW - timedelta(days=5))}, "O9", Decimal(1), NOW, definitions(), clicked
    )
    assert conversion.attributed and conversion.counts["attributed_orders"] == 1


def test_an_order_redeems_only_an_open_coupon_of_the_engine():
    coupon = Coupon(
        customer_id="C1",
        code="ABCDE-FGHJK",
        percent_off=15,
        issued_at=NOW - timedelta(days=3),
        expires_at=NOW + timedelta(days=18),
        journey="winback",
        message_id="m1",
    )
    coupons = {coupon.code: coupon}

    redeemed = decisions.redeemed_coupon(coupons, "ABCDE-FGHJK", "O9", NOW)
    assert redeemed is not None and redeemed.status is CouponStatus.REDEEMED and redeemed.order_id == "O9"
    assert decisions.redeemed_coupon({coupon.code: redeemed}, "ABCDE-FGHJK", "O10", NOW) is None
    assert decisions.redeemed_coupon(coupons, "SHOP-OWN-CODE", "O9", NOW) is None
    assert decisions.redeemed_coupon(coupons, None, "O9", NOW) is None


# --------------------------------------------------------------------------------- branches


def branching(**branch: object) -> Journey:
    """ask (day 0) -> checked 3 days later: the branch given, then "delivery" -> sorry, else offer
    (day 10); then: end; sorry only through a branch."""
    return journey(
        steps=[
            {
                "id": "ask",
                "delay_days": 0,
                "template": "ask",
                "check_after_days": 3,
                "branches": [
                    branch or {"when": {"answered": "price"}, "go_to": "offer"},
                    {"when": {"answered": "delivery"}, "go_to": "sorry"},
                ],
            },
            {"id": "offer", "delay_days": 10, "template": "offer", "then": "end"},
            {"id": "sorry", "template": "helpful"},
        ]
    )


ASKED_AT = NOW - timedelta(days=3)
ASK_ID = rules.message_id_for("C1", "winback", 1, "ask")


def at_check(entered_at: datetime = ASKED_AT, **overrides: object) -> JourneyState:
    """The state a sent ``ask`` leaves: waiting for its check, the plain next step named."""
    return active(next_step=1, entered_at=entered_at, branch_check={"step": 0, "since": ASKED_AT}, **overrides)


def answered(answer: str, message_id: str = ASK_ID) -> ContactState:
    last = {
        "answer": answer,
        "template": "ask",
        "journey": "winback",
        "step": "ask",
        "message_id": message_id,
        "at": NOW,
    }
    return contact(last_answer=last, last_engaged_at=NOW - timedelta(days=1))


def clicked(url: str, message_id: str = ASK_ID) -> ContactState:
    last = LastClick(
        message_id=message_id, journey="winback", step="ask", variant="-", sent_day=ASKED_AT.date(), at=NOW, url=url
    )
    return contact(last_click=last, last_engaged_at=NOW - timedelta(days=1))


def taken(winback: Journey, person: ContactState, state: JourneyState | None = None, **customer: object):
    return decisions.branch_taken(winback, state or at_check(), profile(**customer), person, NOW)


def test_a_sent_step_with_branches_arms_its_check_not_the_next_step():
    winback = branching()
    moved, timer = decisions.advanced(winback, active(next_step=0, entered_at=NOW), NOW, sent=True)

    assert moved.branch_check is not None and moved.branch_check.step == 0 and moved.branch_check.since == NOW
    assert moved.next_step == 1 and timer is not None and timer.due_at == NOW + timedelta(days=3)
    assert timer.payload == {"cycle": 1, "step": 1, "check": 1}


def test_a_skipped_step_with_branches_goes_the_plain_way_there_was_nothing_to_react_to():
    moved, timer = decisions.advanced(branching(), active(next_step=0, entered_at=NOW), NOW)

    assert moved.branch_check is None and moved.next_step == 1
    assert timer is not None and timer.due_at == NOW + timedelta(days=10) and "check" not in timer.payload


def test_the_answer_picks_the_branch_at_once_and_no_answer_takes_the_plain_way_at_its_day():
    winback = branching()

    price = taken(winback, answered("price"))
    assert (price.target, price.due, price.counts) == (1, NOW, {"branched": 1, "branched_to_offer": 1})

    other = taken(winback, answered("taste"))
    silent = taken(winback, contact())
    assert other == silent
    assert silent.target == 1 and silent.due == ASKED_AT + timedelta(days=10) and silent.counts == {"branch_default": 1}


def test_an_answer_to_another_email_does_not_take_the_branch():
    assert taken(branching(), answered("price", message_id="another-email")).counts == {"branch_default": 1}


def test_the_first_matching_branch_wins_in_the_order_written():
    winback = branching()
    steps = [step.model_dump() for step in winback.steps]
    steps[0]["branches"] = [
        {"when": {"answered": "delivery"}, "go_to": "sorry"},
        {"when": {"opened": True}, "go_to": "offer", "after_days": 1},
    ]
    both = journey(steps=steps)

    first = taken(both, answered("delivery"))
    assert first.target == 2 and first.counts["branched_to_sorry"] == 1
    second = taken(both, answered("price"))  # opened (an answer is a click), but not the first reaction
    assert second.target == 1 and second.due == NOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("when", "person", "customer", "matched"),
    [
        ({"opened": True}, contact(last_engaged_at=ASKED_AT + timedelta(hours=5)), {}, True),
        ({"opened": True}, contact(last_engaged_at=ASKED_AT - timedelta(hours=5)), {}, False),  # before the email
        ({"opened": False}, contact(), {}, True),
        ({"clicked": "any"}, clicked("https://shop.example.com/grinders"), {}, True),
        ({"clicked": "/Grinders"}, clicked("https://shop.example.com/grinders"), {}, True),
        ({"clicked": "/tea"}, clicked("https://shop.example.com/grinders"), {}, False),
        ({"clicked": "any"}, clicked("https://shop.example.com/", message_id="older-email"), {}, False),
        ({"ordered": True}, contact(), {"last_order_at": ASKED_AT + timedelta(days=1)}, True),
        ({"ordered": True}, contact(), {}, False),  # last order 60 days ago
        ({"ordered": False}, contact(), {}, True),
    ],
)
def test_each_reaction_is_read_from_what_the_engine_keeps(when, person, customer, matched):
    winback = branching(when=when, go_to="sorry")

    assert (taken(winback, person, **customer).target == 2) is matched


def test_has_coupon_means_this_journeys_coupon_is_still_open():
    winback = branching(when={"has_coupon": True}, go_to="sorry")
    offer = {"code": "ABCDE-FGHJK", "percent_off": 15, "expires_at": NOW + timedelta(days=5)}
    expired = {**offer, "expires_at": NOW - timedelta(seconds=1)}

    assert taken(winback, contact(), at_check(coupon=offer)).target == 2
    assert taken(winback, contact(), at_check(coupon=expired)).target == 1
    assert taken(winback, contact()).target == 1


def test_a_branch_to_end_completes_the_cycle_and_a_branch_step_is_armed_as_a_new_firing():
    winback = branching(when={"answered": "elsewhere"}, go_to="end")
    state = at_check()
    check_timer = decisions.step_timer(state, 1, NOW)

    done, none = decisions.after_branch(winback, state, taken(winback, answered("elsewhere")), NOW)
    assert done.status is JourneyStatus.COMPLETED and done.branch_check is None and none is None

    moved, timer = decisions.after_branch(winback, state, taken(winback, contact()), NOW)
    assert moved.branch_check is None and moved.next_step == 1 and timer is not None
    assert timer.firing != check_timer.firing  # a sweep holding the check's arming cannot claim the step's
    assert "check" not in timer.payload


def test_a_cycle_with_branches_counts_as_abandoned_only_after_its_longest_path():
    winback = branching(when={"answered": "price"}, go_to="offer", after_days=20)
    assert winback.horizon_days == 10 + 3 + 20
    entered = NOW - timedelta(days=33) - decisions.ABANDONED_AFTER
    assert not decisions.abandoned(winback, active(entered_at=entered + timedelta(hours=1)), NOW)
    assert decisions.abandoned(winback, active(entered_at=entered - timedelta(hours=1)), NOW)


# --------------------------------------------------------------------------------- NPS


def offering() -> Journey:
    return journey(steps=[{"id": "offer", "delay_days": 0, "template": "offer"}])


def scored(score: int, days_ago: float) -> ContactState:
    at = NOW - timedelta(days=days_ago)
    return contact(nps=NpsAnswer(score=score, message_id="nps1", sent_at=at - timedelta(days=1), at=at))


def test_a_detractor_gets_no_promotion_for_ninety_days():
    # Given a customer who scored 4 (a detractor) 89 days ago
    # When a promotion is due, Then it is skipped and counted as such
    assert step(person=scored(4, 89), winback=offering()) == SkipStep("skipped_detractor")
    # And content still goes out: what follows an unhappy answer is service, not a sale
    assert isinstance(step(person=scored(4, 89)), Send)
    # And after 90 days, or with the pause switched off, the promotion goes out again
    assert isinstance(step(person=scored(4, 90), winback=offering()), Send)
    assert isinstance(step(person=scored(4, 1), winback=offering(), detractor_quiet_days=0), Send)


@pytest.mark.parametrize("score", [7, 8, 9, 10])
def test_passives_and_promoters_get_promotions_as_before(score: int):
    assert isinstance(step(person=scored(score, 1), winback=offering()), Send)


def test_an_nps_journey_enters_only_customers_with_enough_orders():
    surveying = journey(trigger={"event": "OrderPlaced"}, entry={"min_orders": 3})
    assert isinstance(enter(winback=surveying, customer=profile(order_count=3)), Enter)
    assert enter(winback=surveying, customer=profile(order_count=2)) == Ignore("not_eligible")


def test_a_promoters_score_starts_a_journey_that_lists_it_in_also_on():
    referral = journey(
        trigger={"event": "SegmentChanged", "into_segment": "loyal"},
        also_on=[{"event": "NpsAnswered", "nps_group": "promoter"}],
        entry={"segments": ["loyal", "promoter"]},
    )
    assert rules.triggered_by(referral, "NpsAnswered", None, {"promoter"})
    assert rules.triggered_by(referral, "SegmentChanged", None, {"loyal"})
    assert not rules.triggered_by(referral, "NpsAnswered", None, {"detractor"})
    # And the promoter enters although their lifecycle (active) is not in the entry segments:
    # the group the event names is what the entry filter sees
    active_customer = profile(segment=Classification(lifecycle="active", customer_type="regular"))
    assert isinstance(enter(winback=referral, customer=active_customer, labels={"promoter"}), Enter)


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ({"event": "NpsAnswered"}, "needs nps_group"),
        ({"event": "OrderPlaced", "nps_group": "promoter"}, "nps_group only applies to NpsAnswered"),
    ],
)
def test_an_nps_trigger_names_its_group(trigger: dict[str, object], message: str):
    with pytest.raises(ValueError, match=message):
        journey(trigger=trigger)


def test_a_detractor_is_kept_out_of_a_journey_that_excludes_detractors():
    referral = journey(entry={"segments": ["at_risk"], "exclude_nps": ["detractor"]})
    # the latest score stands until a better one, however old
    assert enter(winback=referral, trigger_key="segment:1", score=scored(3, 200).nps) == Ignore("not_eligible")
    assert isinstance(enter(winback=referral, trigger_key="segment:1", score=scored(9, 200).nps), Enter)


def test_only_the_latest_score_starts_a_journey():
    assert decisions.score_is_latest(scored(9, 1), "nps1")
    assert not decisions.score_is_latest(scored(9, 1), "an_older_survey")
    assert not decisions.score_is_latest(contact(), "nps1")
