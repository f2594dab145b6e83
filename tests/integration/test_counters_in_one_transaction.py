"""Two tallies for the same counter in one change (an entry and its first step's deferral) are
written as one counter update: each write picks a random shard, and a DynamoDB transaction may
not touch one item twice — with both on the same shard the whole change used to be refused."""

from __future__ import annotations

from factories import T0

from retention.models.messaging import JourneyState, JourneyStatus, Tally
from retention.settings import settings
from retention.store import counters
from retention.store.counters import CounterStore
from retention.store.journeys import JourneyStore


def test_same_counter_tallies_in_one_change_are_added_up_even_on_one_shard(aws, monkeypatch) -> None:
    # Given every counter write lands on the same shard
    monkeypatch.setattr(counters.random, "randrange", lambda _: 0)
    store, day = JourneyStore(settings().customers_table), T0.date()
    state = JourneyState(customer_id="C1", journey="winback", status=JourneyStatus.ACTIVE, entered_at=T0)
    # When a change carries two tallies for the same journey, day, step and variant
    tallies = [Tally("winback", day, {"entered": 1}), Tally("winback", day, {"deferred_quiet_hours": 1, "entered": 1})]
    store.move(state, 0, None, tallies, T0)
    # Then it is committed, with the counts added up
    (read,) = CounterStore(settings().customers_table).read("winback", day, day).values()
    assert (read["entered"], read["deferred_quiet_hours"]) == (2, 1)
