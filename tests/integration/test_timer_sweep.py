"""The sweep: timers fire once, at the right time, with work proportional to what is due."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest
from conftest import load_event
from factories import T0, order

from retention import clock
from retention.ingest import apply_shop_event
from retention.lifecycle import INACTIVITY, default_stats
from retention.models.events import OrderPlacedEvent
from retention.models.timers import Timer
from retention.segments import load_definitions
from retention.settings import settings
from retention.store import dynamo
from retention.store.customers import CustomerStore
from retention.store.timers import CLAIM_TTL, TimerStore
from retention.sweep import run_sweep
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.metering import RequestCounter
from retention_tools.local.runtime import invoke, load_function


def _place(customer_id: str, order_id: str, at) -> None:
    event = OrderPlacedEvent.model_validate(
        {
            "id": order_id,
            "source": "shop.orders",
            "time": at,
            "detail-type": "OrderPlaced",
            "detail": order(order_id=order_id, customer_id=customer_id, placed_at=at).model_dump(),
        }
    )
    with clock.frozen_at(at):
        apply_shop_event(event, CustomerStore(settings().customers_table))


class Published(list):
    def __call__(self, events):
        self.extend(events)

    def of(self, detail_type: str) -> list:
        return [e for e in self if e.detail_type == detail_type]


def _sweep(at, token=None, published=None):
    table = settings().customers_table
    published = published if published is not None else Published()
    result = run_sweep(
        now=at,
        customers=CustomerStore(table),
        timers=TimerStore(table),
        stats=default_stats(at, load_definitions()),
        definitions=load_definitions(),
        publish=published,
        token=token,
    )
    return result, published


_stages = itertools.count()


@pytest.fixture
def aws(moto_account):
    """Day-wide buckets and two shards: these tests step through months of simulated time, and
    the emulator's GSI Query is slow, so hour buckets would cost thousands of queries per test.
    ``hourly`` gives the production layout where the test is about hours."""
    env = {"TIMER_BUCKET_HOURS": "24", "TIMER_SHARDS": "2"}
    with EmbeddedAws(stage=f"sweep{next(_stages)}", shared=True, env=env) as embedded:
        yield embedded


@pytest.fixture
def hourly(moto_account):
    with EmbeddedAws(stage=f"hourly{next(_stages)}", shared=True) as embedded:
        yield embedded


def _timer(customer_id: str = "C1"):
    return TimerStore(settings().customers_table).get(customer_id, INACTIVITY)


def test_order_arms_inactivity_timer_at_the_first_boundary_which_fires_once_when_due(aws):
    # Given one order at T0 (expected gap = default 60 days): the first boundary is the
    # one-time-buyer tag, 60 days on
    _place("C1", "O1", T0)
    due = _timer().due_at
    assert due == T0 + timedelta(days=60)
    # When sweeps run before and after the due time
    _sweep(T0 + timedelta(days=1))
    _, early_events = _sweep(due - timedelta(minutes=1))  # same day-bucket, not yet due
    _, late_events = _sweep(due + timedelta(minutes=5))
    _, again_events = _sweep(due + timedelta(minutes=20))
    # Then it fired exactly once, after it was due, announcing the tag entered
    assert early_events.of("CustomerInactive") == []
    (inactive,) = late_events.of("CustomerInactive")
    assert inactive.detail.customer_id == "C1" and inactive.detail.firing == 1
    assert inactive.detail.entered == ["one_time_buyer"] and inactive.detail.boundary_at == due
    assert again_events.of("CustomerInactive") == []
    # and re-armed itself at the next boundary: at_risk at 1.5 expected gaps
    assert _timer().firing == 2
    assert _timer().due_at == T0 + timedelta(days=90)


def test_missed_runs_are_caught_up_by_the_next_sweep(hourly):
    # Given hourly buckets and a last sweep two days before the timer is due
    _place("C1", "O1", T0)
    due = _timer().due_at
    TimerStore(settings().customers_table).advance_cursor((due - timedelta(days=2)).replace(minute=0, second=0))
    # When no sweep runs for three days around the due time
    result, published = _sweep(due + timedelta(days=1))
    # Then the next sweep reads every hour since its cursor and fires the overdue timer
    assert result.buckets_swept == 73
    assert len(published.of("CustomerInactive")) == 1


class StaleReader(TimerStore):
    """A sweep's timer store that, between reading the index and its first claim, lets
    ``meanwhile`` run: the interleaving two overlapping sweeps can produce, driven explicitly."""

    def __init__(self, table: str, meanwhile) -> None:
        super().__init__(table)
        self.meanwhile = meanwhile

    def due(self, start, now):
        read = list(super().due(start, now))  # the index as this sweep saw it
        if read and self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        yield from read


def _stale_sweep(at, meanwhile):
    table = settings().customers_table
    published = Published()
    run_sweep(
        now=at,
        customers=CustomerStore(table),
        timers=StaleReader(table, meanwhile),
        stats=default_stats(at, load_definitions()),
        definitions=load_definitions(),
        publish=published,
        token="stale-sweep",
    )
    return published


def test_a_sweep_that_read_the_index_before_another_fired_cannot_fire_the_successor(aws):
    # Given a journey step timer due now, and a second sweep that fires it, after which the
    # dispatcher arms the next step with the same generation (the journey's cycle)
    table = settings().customers_table
    store = TimerStore(table)
    at = T0 + timedelta(days=10)
    step = Timer(customer_id="C1", kind="journey:winback", due_at=at - timedelta(hours=1), generation=1)
    store.arm(step, at - timedelta(days=1))
    fired_meanwhile = Published()

    def another_sweep_fires_and_the_next_step_is_armed() -> None:
        _sweep(at, token="other-sweep", published=fired_meanwhile)
        successor = step.model_copy(update={"due_at": at + timedelta(days=3), "firing": 2})
        store.arm(successor, at)

    # When a sweep that read the index before all that claims what it read
    published = _stale_sweep(at, another_sweep_fires_and_the_next_step_is_armed)
    # Then the step fired once (by the other sweep) and the successor, not yet due, did not fire
    assert len(fired_meanwhile.of("TimerFired")) == 1
    assert published.of("TimerFired") == []
    assert store.get("C1", "journey:winback").firing == 2


def test_a_sweep_that_read_the_index_before_another_re_armed_inactivity_cannot_fire_it_again(aws):
    # Given six customers whose inactivity timers are due
    for n in range(6):
        _place(f"C{n}", f"O{n}", T0)
    at = T0 + timedelta(days=61)
    first = Published()
    # When one sweep reads the index, a second sweep fires and re-arms every timer, and the
    # first then claims, and a third sweep runs after both
    stale = _stale_sweep(at, lambda: _sweep(at, token="second", published=first))
    _, third = _sweep(at + timedelta(minutes=15), token="third")
    # Then each customer was announced inactive exactly once
    fired = sorted(e.detail.customer_id for e in first.of("CustomerInactive"))
    assert fired == [f"C{n}" for n in range(6)]
    assert stale.of("CustomerInactive") == [] and third.of("CustomerInactive") == []


def test_a_timer_cannot_be_claimed_before_it_is_due(aws):
    _place("C1", "O1", T0)
    timer = _timer()
    store = TimerStore(settings().customers_table)
    assert not store.claim(timer, "early", timer.due_at - timedelta(seconds=1))
    assert store.claim(timer, "on-time", timer.due_at)


def test_a_sweep_mid_flight_keeps_its_claim_from_a_second_sweep(aws):
    _place("C1", "O1", T0)
    _sweep(T0 + timedelta(days=59))
    timer, at = _timer(), T0 + timedelta(days=61)
    store = TimerStore(settings().customers_table)
    assert store.claim(timer, "first-sweep", at)
    _, published = _sweep(at + timedelta(minutes=1), token="second-sweep")
    assert published.of("CustomerInactive") == []
    # A claim abandoned by a crashed sweep is taken over once it is older than CLAIM_TTL.
    _, published = _sweep(at + CLAIM_TTL + timedelta(minutes=1), token="third-sweep")
    assert len(published.of("CustomerInactive")) == 1


def test_new_order_moves_the_timer_and_the_old_one_cannot_fire(aws):
    _place("C1", "O1", T0)
    stale = _timer()
    # When the customer orders again before the timer is due
    _place("C1", "O2", T0 + timedelta(days=40))
    moved = _timer()
    # Then the timer is re-armed later, with a new generation, and the stale one is unclaimable
    assert moved.due_at > stale.due_at
    assert moved.generation > stale.generation
    assert not TimerStore(settings().customers_table).claim(stale, "sweep", T0 + timedelta(days=61))
    _, published = _sweep(stale.due_at + timedelta(minutes=1))
    assert published.of("CustomerInactive") == []


def test_each_firing_is_a_segment_boundary_down_to_churned(aws):
    # Given one order, and a sweep a minute after each time the inactivity timer falls due
    _place("C1", "O1", T0)
    published = Published()
    while (timer := _timer()) is not None:
        _sweep(timer.due_at + timedelta(minutes=1), published=published)
    # Then each firing announced the segment entered, at its boundary: the one-time-buyer tag at
    # 60 days, at_risk at 1.5 expected gaps, lapsed at 3, churned after a year; then no timer
    inactive = [e.detail for e in published.of("CustomerInactive")]
    assert [d.entered for d in inactive] == [["one_time_buyer"], ["at_risk"], ["lapsed"], ["churned"]]
    assert [d.boundary_at - T0 for d in inactive] == [
        timedelta(days=60),
        timedelta(days=90),
        timedelta(days=180),
        timedelta(days=365, seconds=1),
    ]
    assert [d.firing for d in inactive] == [1, 2, 3, 4]
    assert [d.from_lifecycle for d in inactive] == ["new", "new", "at_risk", "lapsed"]
    changes = published.of("SegmentChanged")
    assert [e.detail.to_lifecycle for e in changes] == ["new", "at_risk", "lapsed", "churned"]
    profile = CustomerStore(settings().customers_table).get_profile("C1")
    assert profile.segment.lifecycle == "churned" and profile.inactivity_firings == 4


def test_a_sweep_fires_an_inactivity_timer_with_as_many_requests_as_before(aws):
    # Given two customers whose first boundaries are due
    _place("C1", "O1", T0)
    _place("C2", "O2", T0)
    _sweep(T0 + timedelta(days=60) - timedelta(minutes=1))  # the cursor reaches the due day
    counter = RequestCounter()
    # When one sweep fires both and re-arms them at their next boundaries
    with counter.watching(dynamo.client()):
        result, published = _sweep(T0 + timedelta(days=60, minutes=1))
    # Then the work is the sweep's usual: the cursor read and write, one Query per shard, a
    # claim and a retiring transaction per timer, one BatchGet for the profiles; no Scan
    assert sum(result.fired.values()) == 2 and len(published.of("CustomerInactive")) == 2
    assert dict(counter.calls) == {
        "GetItem": 1,  # the cursor
        "Query": 2,  # one day-wide bucket, two shards
        "UpdateItem": 2,  # a claim per timer
        "BatchGetItem": 1,  # the profiles
        "TransactWriteItems": 2,  # per timer: re-armed at its next boundary with the new profile
        "PutItem": 1,  # the cursor moves on
    }


def test_sweep_and_ingest_never_scan(aws):
    counter = RequestCounter()
    with counter.watching(dynamo.client()):
        _place("C1", "O1", T0)
        _sweep(T0 + timedelta(days=61))
    assert counter.calls["Scan"] == 0
    assert counter.calls["Query"] > 0


def test_scheduled_handlers_run_on_their_sample_events(aws, lambda_context):
    _place("C1", "O1", T0)
    _place("C2", "O2", T0 + timedelta(days=3))
    with clock.frozen_at(T0 + timedelta(days=10)):
        stats = load_function("segment_stats").handler(load_event("segment_stats.scheduled"), lambda_context)
        swept = invoke(load_function("timer_sweep").handler, load_event("timer_sweep.scheduled"))
    assert stats["buyers"] == 2
    assert swept["buckets_swept"] >= 1


def _inactive_customers(*published: Published) -> list[str]:
    return sorted(e.detail.customer_id for p in published for e in p.of("CustomerInactive"))


def test_overlapping_sweeps_never_fire_a_timer_twice(aws):
    """Why the sweep needs no reserved concurrency of 1 (template.yaml): two sweeps that overlap
    (a slow run and the next schedule, a retry) each claim a timer before firing it, so every due
    timer fires exactly once between them. Here: both sweeps run at once, in two threads."""
    customers = [f"C{n}" for n in range(12)]
    for number, customer_id in enumerate(customers):
        _place(customer_id, f"O{number}", T0)
    at = T0 + timedelta(days=61)
    start = threading.Barrier(2)
    outcomes: dict[str, tuple] = {}
    errors: list[BaseException] = []

    def sweep(token: str) -> None:
        try:
            start.wait(timeout=30)
            outcomes[token] = _sweep(at, token=token)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=sweep, args=(token,)) for token in ("sweep-a", "sweep-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and set(outcomes) == {"sweep-a", "sweep-b"}
    assert _inactive_customers(*(published for _, published in outcomes.values())) == sorted(customers)
    # and a third sweep afterwards finds nothing left to fire
    _, later = _sweep(at + timedelta(minutes=15), token="sweep-c")
    assert later.of("CustomerInactive") == []


def test_a_sweep_that_read_every_due_timer_before_another_fired_them_fires_none(aws):
    """The worst overlap, driven explicitly: sweep A reads the due timers, sweep B then fires all
    of them, then A goes on with what it read."""
    customers = [f"C{n}" for n in range(5)]
    for number, customer_id in enumerate(customers):
        _place(customer_id, f"O{number}", T0)
    at = T0 + timedelta(days=61)
    fired_by_b = Published()
    fired_by_a = _stale_sweep(at, lambda: _sweep(at, token="sweep-b", published=fired_by_b))
    assert _inactive_customers(fired_by_b) == sorted(customers)
    assert fired_by_a.of("CustomerInactive") == []
