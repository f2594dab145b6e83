"""Journey definitions: the shipped file is valid, mistakes are named, hold-out and A/B are deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest
from mail_helpers import profile, template_root

from retention.journeys.definitions import JourneyError, parse_journeys
from retention.journeys.rules import choose_variant, in_holdout, matches_entry, step_template
from retention.models.consent import ConsentEvidence
from retention.models.segments import Classification


def test_shipped_journeys_are_valid_and_cover_every_trigger() -> None:
    journeys = parse_journeys().journeys
    assert {"winback", "post_purchase", "referral", "birthday", "coupon_reminder", "welcome"} <= set(journeys)
    winback = journeys["winback"]
    assert [step.delay_days for step in winback.steps] == [0, 7, 18, 0]
    feedback = winback.steps[1]
    assert [(b.when.answered, b.go_to) for b in feedback.branches] == [("price", "incentive"), ("delivery", "apology")]
    assert [winback.following(i) for i in range(4)] == [1, 2, 4, 4]  # incentive then: end; apology last


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("template: winback_feedback", "template: winback_feedbak", "'winback_feedbak' is not listed in emails.yaml"),
        ("segments: [at_risk, lapsed]", "segments: [at_risk, lost]", "segment 'lost' is not defined"),
        ("{id: miss_you, delay_days: 0", "{id: miss_you, delay_days: -1", "delay_days"),
        ("trigger: {event: CustomerInactive}", "trigger: {event: CustomerGone}", "winback.trigger.event"),
        ("trigger: {event: TimerFired, timer: birthday}", "trigger: {event: TimerFired}", "needs timer"),
        ("coupon: {percent_off: 10, valid_days: 30", "coupon: {percent_off: 10, valid_days: 5", "remind_days_before"),
        ("      - id: feedback\n", "      - id: miss_you\n", "unique"),
        (
            "go_to: apology}",
            "go_to: apolgy}",
            r"go_to 'apolgy' is not a step of this journey \(did you mean 'apology'\?\)",
        ),
        ("go_to: incentive}", "go_to: miss_you}", "go_to 'miss_you' goes back; a journey only moves forward"),
        (
            "{answered: price}",
            "{answered: prise}",
            r"answer 'prise' is not an answer of winback_feedback \(price, taste",
        ),
        ("{answered: price}", "{answered: price, opened: true}", "names exactly one reaction"),
        ("{answered: price}", "{}", "names exactly one reaction"),
        ("        check_after_days: 3", "", "a step with branches needs check_after_days"),
        (
            "{when: {answered: delivery}, go_to: apology}",
            "{when: {answered: delivery}, go_to: end}",
            "step apology is never reached",
        ),
        ("        then: end\n", "", r"step apology \(day 0\) comes after incentive \(day 18\)"),
        ("{id: apology, purpose", "{id: end, purpose", "'end' ends a journey"),
        (
            "entry: {segments: [loyal, vip, advocate, promoter]",
            "entry: {segments: [loyal, vip, advocate]",
            "the NpsAnswered trigger for 'promoter' can never enter: add promoter to entry.segments",
        ),
        (
            "trigger: {event: SegmentChanged, into_segment: loyal}",
            "trigger: {event: SegmentChanged, into_segment: promoter}",
            "segment 'promoter' is not defined in segments.yaml",
        ),
        (
            "entry: {segments: [at_risk, lapsed]}",
            "entry: {segments: [at_risk, detractor]}",
            r"segment 'detractor' is not defined in segments.yaml \(an NPS group: add an NpsAnswered trigger",
        ),
        ("also_on: [{event: NpsAnswered, nps_group: promoter}]", "also_on: [{event: NpsAnswered}]", "needs nps_group"),
        (
            "also_on: [{event: NpsAnswered, nps_group: promoter}]",
            "also_on: [{event: TimerFired, timer: birthday}]",
            "a journey started by a timer has that one trigger",
        ),
        ("entry: {min_orders: 3}", "entry: {min_orders: 0}", "min_orders"),
        ("exclude_nps: [detractor]", "exclude_nps: [grumpy]", "exclude_nps"),
    ],
)
def test_a_mistake_in_journeys_yaml_is_named(tmp_path: Path, replace: str, by: str, message: str) -> None:
    root = template_root(tmp_path)
    path = root / "journeys.yaml"
    text = path.read_text(encoding="utf-8")
    assert replace in text
    path.write_text(text.replace(replace, by, 1), encoding="utf-8")
    with pytest.raises(JourneyError, match=message):
        parse_journeys(root)


def test_holdout_is_deterministic_about_the_configured_share_and_independent_per_journey() -> None:
    customers = [f"C{n}" for n in range(20_000)]
    winback = [in_holdout(c, "winback", 0.10) for c in customers]
    assert winback == [in_holdout(c, "winback", 0.10) for c in customers]
    assert 0.09 < sum(winback) / len(customers) < 0.11
    both = sum(a and in_holdout(c, "birthday", 0.10) for c, a in zip(customers, winback, strict=True))
    assert both / len(customers) < 0.02  # about 1 %: not the same people held out everywhere


def test_ab_split_is_deterministic_and_follows_the_weights() -> None:
    step = parse_journeys().journeys["winback"].steps[2]
    names = [choose_variant(f"C{n}", "winback", step).name for n in range(10_000)]  # type: ignore[union-attr]
    assert names == [step_template(f"C{n}", "winback", step)[1] for n in range(10_000)]
    assert 0.47 < names.count("A") / len(names) < 0.53


def test_entry_filter_checks_consent_segment_and_locale() -> None:
    winback = parse_journeys().journeys["winback"]
    at_risk = profile(segment=Classification(lifecycle="at_risk", customer_type="satisfied"))
    assert matches_entry(winback, at_risk)
    assert not matches_entry(winback, profile(marketing_consent=False))
    assert not matches_entry(winback, profile(consent=ConsentEvidence()))  # unknown is no yes
    post_purchase = parse_journeys().journeys["post_purchase"]  # its thanks is a service email
    assert matches_entry(post_purchase, profile(consent=ConsentEvidence()))
    assert not matches_entry(winback, profile(segment=Classification(lifecycle="vip", customer_type="satisfied")))
    referral = parse_journeys().journeys["referral"]
    advocate = profile(segment=Classification(lifecycle="active", customer_type="satisfied", tags=["advocate"]))
    assert matches_entry(referral, advocate)
