"""Which imported customers wait in the win-back backlog, and how a release spreads them."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from factories import T0

from retention.lifecycle import BACKLOG_PAYLOAD, INACTIVITY, overdue_timer, refresh
from retention.models.timers import Timer
from retention.segments import load_definitions
from retention_tools.importer import ImportRefused, release_plan, stack_target
from unit.test_segments import STATS, customer

GAP = timedelta(days=41.25)  # the expected gap of customer(orders=4, gap_days=45), last order at T0


def _imported(days_after_last_order: float):
    at = T0 + timedelta(days=days_after_last_order)
    profile = refresh(customer(orders=4, gap_days=45), at, STATS, load_definitions(), 2, True).profile
    return overdue_timer(profile, at, STATS, load_definitions(), generation=2)


def test_a_customer_not_yet_due_to_reorder_is_not_held():
    assert _imported(20) is None


def test_a_customer_past_the_expected_reorder_date_is_held_at_the_coming_boundary():
    held = _imported(45)  # expected order at 41.25 days passed; at_risk starts at 1.5 gaps
    assert held is not None
    assert held.kind == INACTIVITY and held.due_at == T0 + 1.5 * GAP
    assert held.payload == {BACKLOG_PAYLOAD: True} and held.generation == 2


def test_a_customer_who_crossed_a_boundary_unseen_is_held_at_that_boundary():
    held = _imported(100)  # at_risk since 61.9 days: a live engine would have started a win-back then
    assert held is not None and held.due_at == T0 + 1.5 * GAP


def _timers(count: int) -> list[Timer]:
    return [Timer(customer_id=f"C{n}", kind=INACTIVITY, due_at=T0) for n in range(count)]


def test_a_release_gives_each_day_the_same_share_spread_over_the_working_hours():
    plan = release_plan(_timers(10), date(2026, 7, 1), 3)
    per_day = Counter(due.date() for _, due in plan)
    assert sorted(per_day) == [date(2026, 7, 1), date(2026, 7, 2), date(2026, 7, 3)]
    assert sorted(per_day.values()) == [3, 3, 4]
    assert {t.customer_id for t, _ in plan} == {f"C{n}" for n in range(10)}
    for day in per_day:
        times = sorted(due for _, due in plan if due.date() == day)
        assert times[0] == datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
        assert all(due.hour < 17 for due in times)
        gaps = {b - a for a, b in itertools.pairwise(times)}
        assert len(gaps) == 1  # evenly spaced


def test_a_release_plan_does_not_depend_on_the_order_the_backlog_is_read_in():
    timers = _timers(25)
    shuffled = random.Random(4).sample(timers, len(timers))
    assert release_plan(shuffled, date(2026, 7, 1), 5) == release_plan(timers, date(2026, 7, 1), 5)


class _CloudFormation:
    def __init__(self, outputs: dict[str, str], parameters: dict[str, str]) -> None:
        self.stack = {
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        }

    def describe_stacks(self, StackName: str) -> dict:  # noqa: N803 - boto3's name
        return {"Stacks": [self.stack]}


def test_a_stack_gives_its_bus_table_and_shop_source():
    outputs = {"EventBusName": "retention-prod", "CustomersTableName": "customers-prod"}
    target = stack_target("prod", _CloudFormation(outputs, {"ShopEventSource": "acme.shop"}))
    assert (target.bus, target.table, target.source) == ("retention-prod", "customers-prod", "acme.shop")
    assert (target.layout.shards, target.layout.bucket_hours) == (8, 1)  # the template's defaults


def test_a_stack_without_the_engine_outputs_is_refused():
    with pytest.raises(ImportRefused, match="no EventBusName"):
        stack_target("other", _CloudFormation({"Foo": "x"}, {}))


def test_a_backlog_shorter_than_the_days_starts_on_the_first_day():
    plan = release_plan(_timers(2), date(2026, 7, 1), 5)
    assert sorted(due.date() for _, due in plan) == [date(2026, 7, 1), date(2026, 7, 3)]
