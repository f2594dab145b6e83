"""`retention import`: a year of past orders into a running stack sends nothing until the
operator releases the overdue customers, then their win-backs go out on the days asked."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from retention import clock
from retention.settings import settings
from retention.store.customers import CustomerStore
from retention.store.timers import TimerStore
from retention_tools.cli import main
from retention_tools.importer import Checkpoint, ImportRefused, Target, file_digest, publish_history, release_plan
from retention_tools.local.csv_orders import read_orders
from retention_tools.local.embedded import EmbeddedAws
from retention_tools.local.outbox import sent_count, sent_mail
from retention_tools.local.runtime import QueueDriver
from retention_tools.local.simulation import SIMULATION_TIMERS, ScheduledJobs

NOW = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # the day of the import
_stages = itertools.count(1)


@pytest.fixture
def aws(moto_account: None) -> Iterator[EmbeddedAws]:
    with EmbeddedAws(stage=f"imp{next(_stages)}", shared=True, env=SIMULATION_TIMERS) as embedded:
        yield embedded


def _history(path: Path, customers: int = 36, seed: int = 5) -> dict[str, int]:
    """A year of orders 20 to 400 days before NOW; returns orders per customer."""
    rng = random.Random(seed)
    rows, counts = [], Counter()
    for number in range(customers):
        customer = f"H{number:03d}"
        for days_ago in sorted(rng.sample(range(20, 401), rng.randint(1, 6)), reverse=True):
            day = (NOW - timedelta(days=days_ago)).date()
            amount = f"{rng.randint(8, 240)}.{rng.randint(0, 99):02d}"
            rows.append(f"{customer},{day.isoformat()},{amount},{customer.lower()}@example.com,yes")
            counts[customer] += 1
    path.write_text("customer_id,date,amount,email,consent\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return dict(counts)


def _bus(aws: EmbeddedAws) -> str:
    return aws.resources.buses["RetentionBus"]


def _ingest(aws: EmbeddedAws, at: datetime) -> int:
    """What the stack does with the published orders: the ingest queue drained at ``at``."""
    with clock.frozen_at(at):
        return QueueDriver(aws, "IngestQueue", "order_ingest").drain().succeeded


def _run_days(jobs: ScheduledJobs, start: datetime, days: int) -> dict[date, list[tuple[str, str]]]:
    """The sweeps and the dispatcher over ``days`` days, as the schedule runs them: per day,
    the (customer e-mail, template) of every email sent."""
    sent: dict[date, list[tuple[str, str]]] = {}
    for offset in range(days):
        day = start + timedelta(days=offset)
        end, tick, first = day + timedelta(days=1), day, sent_count()
        while (tick := jobs.next_sweep(tick, end)) is not None:
            with clock.frozen_at(tick):
                jobs.sweep_at(tick)
        with clock.frozen_at(end - timedelta(seconds=1)):
            jobs.day_done(end - timedelta(seconds=1))
        sent[day.date()] = [(parseaddr(m.message["To"])[1], m.template) for m in sent_mail(first)]
    return sent


def _import(path: Path, aws: EmbeddedAws, *extra: str) -> int:
    with clock.frozen_at(NOW):
        return main(
            ["import", str(path), "--bus", _bus(aws), "--email-col", "email", "--consent-col", "consent", *extra]
        )


def test_a_year_of_history_sends_nothing_until_the_backlog_is_released_over_the_days_asked(aws, tmp_path, capsys):
    # Given a year of orders of three dozen customers, imported into the running stack
    orders = _history(tmp_path / "orders.csv")
    assert _import(tmp_path / "orders.csv", aws) == 0
    printed = capsys.readouterr()
    assert "historical orders of 36 customers" in printed.out
    assert "import: day " in printed.err  # progress, as plain lines when not on a terminal
    jobs = ScheduledJobs(aws)
    assert _ingest(aws, NOW) == sum(orders.values())
    jobs.delivered()

    # When the stack runs its sweeps and the dispatcher for ten days
    before = _run_days(jobs, NOW.replace(hour=0), 10)

    # Then nobody got an email: no thank-you for old orders, no VIP welcome, no win-back
    assert [mail for mails in before.values() for mail in mails] == []
    store = CustomerStore(settings().customers_table)
    profiles = store.get_profiles(list(orders))
    assert {cid: p.order_count for cid, p in profiles.items()} == orders  # the history is applied
    timers = TimerStore(settings().customers_table)
    held = {t.customer_id for t in timers.backlog()}
    overdue = {cid for cid, p in profiles.items() if p.segment and p.segment.lifecycle in ("at_risk", "lapsed")}
    assert overdue and overdue <= held  # every overdue customer waits in the backlog

    # When the operator releases the backlog from day 12 over 4 days
    start = (NOW + timedelta(days=12)).date()
    plan = {f"{t.customer_id.lower()}@example.com": due.date() for t, due in release_plan(timers.backlog(), start, 4)}
    with clock.frozen_at(NOW + timedelta(days=10)):
        assert (
            main(["import", "--bus", _bus(aws), "--start-winbacks-from", start.isoformat(), "--spread-days", "4"]) == 0
        )
    printed = capsys.readouterr().out
    assert f"released {len(held)} overdue customers over 4 days from {start}" in printed
    assert list(timers.backlog()) == []
    after = _run_days(jobs, NOW.replace(hour=0) + timedelta(days=10), 10)

    # Then the win-backs start on day 12, on the days the plan gave each customer, and no earlier
    per_day = Counter(plan.values())
    assert sorted(per_day) == [start + timedelta(days=n) for n in range(4)]
    assert max(per_day.values()) - min(per_day.values()) <= 1  # spread evenly
    first_emails = {to: day for day, mails in after.items() for to, template in mails if template == "winback_miss_you"}
    assert first_emails, "the released customers get their win-back"
    assert all(plan[to] == day for to, day in first_emails.items())
    assert Counter(first_emails.values()) == Counter(
        day for to, day in plan.items() if _entered_winback(store, to.split("@")[0].upper())
    )
    assert all(day >= start for day, mails in after.items() for _ in mails)


def _entered_winback(store: CustomerStore, customer_id: str) -> bool:
    from retention.models.messaging import JourneyStatus
    from retention.store.journeys import JourneyStore

    state = JourneyStore(store.table_name).snapshot(customer_id, ["winback"]).states["winback"]
    return state.status not in (JourneyStatus.HOLDOUT,) and state.cycle > 0


class FlakyEvents:
    """The embedded EventBridge, refusing every entry from its ``fail_from``-th call on (an
    outage) or, with ``partial``, two entries of every call once (throttling)."""

    def __init__(self, events: Any, fail_from: int | None = None, partial: bool = False) -> None:
        self.events, self.fail_from, self.partial, self.calls = events, fail_from, partial, 0
        self.retried: set[str] = set()

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.calls += 1
        if self.fail_from is not None and self.calls >= self.fail_from:
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "outage"}}, "PutEvents")
        if self.partial:
            fresh = [e for e in Entries if e["Detail"] not in self.retried][:2]
            if fresh:
                self.retried.update(e["Detail"] for e in fresh)
                kept = [e for e in Entries if e not in fresh]
                response = self.events.put_events(Entries=kept) if kept else {"Entries": []}
                results = iter(response["Entries"])
                throttled = {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}
                return {
                    "FailedEntryCount": len(fresh),
                    "Entries": [throttled if e in fresh else next(results) for e in Entries],
                }
        return self.events.put_events(Entries=Entries)


def test_an_interrupted_import_resumes_from_its_checkpoint_and_imports_nothing_twice(aws, tmp_path, capsys):
    # Given an import that EventBridge stops taking after two batches
    path = tmp_path / "orders.csv"
    orders = _history(path, customers=12, seed=9)
    total = sum(orders.values())
    records = read_orders(path).events
    checkpoint = Checkpoint.open(tmp_path / "run.json", file_digest(path), _bus(aws))
    target = Target(_bus(aws), "shop.orders", settings().customers_table, TimerStore(settings().customers_table).layout)
    with pytest.raises(ImportRefused, match="refused 10 entries 6 times"):
        publish_history(
            records, FlakyEvents(aws.client("events"), fail_from=3), target, checkpoint, sleep=lambda _: None
        )
    assert json.loads((tmp_path / "run.json").read_text())["rows_done"] == 20
    assert _ingest(aws, NOW) == 20

    # When the same command runs again (and the crash had also lost the last checkpoint write)
    stale = Checkpoint.open(tmp_path / "run.json", file_digest(path), _bus(aws))
    stale.rows_done, stale.last_key = 10, str(records[9].detail["order_id"])
    stale.save()
    with clock.frozen_at(NOW):
        assert main(["import", str(path), "--bus", _bus(aws), "--checkpoint", str(tmp_path / "run.json")]) == 0
    assert f"({10:,} already done before)" in capsys.readouterr().out

    # Then the rest arrives, the ten re-sent rows change nothing, and every order counts once
    assert _ingest(aws, NOW) == total - 10
    profiles = CustomerStore(settings().customers_table).get_profiles(list(orders))
    assert {cid: p.order_count for cid, p in profiles.items()} == orders
    assert sum(p.total_spent for p in profiles.values()) == _amounts(path)
    # and a finished import run again publishes nothing
    with clock.frozen_at(NOW):
        assert main(["import", str(path), "--bus", _bus(aws), "--checkpoint", str(tmp_path / "run.json")]) == 0
    assert "already imported" in capsys.readouterr().out
    assert _ingest(aws, NOW) == 0
    # and its checkpoint is not taken for an import of the file into another stack
    with clock.frozen_at(NOW):
        assert main(["import", str(path), "--bus", "another-bus", "--checkpoint", str(tmp_path / "run.json")]) == 2
    assert f"is of an import into {_bus(aws)}" in capsys.readouterr().err


def _amounts(path: Path) -> Decimal:
    """The file's revenue, summed independently of the reader."""
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return sum((Decimal(line.split(",")[2]) for line in lines), Decimal(0))


def test_entries_eventbridge_throttles_are_sent_again(aws, tmp_path):
    path = tmp_path / "orders.csv"
    orders = _history(path, customers=4, seed=2)
    records = read_orders(path).events
    flaky = FlakyEvents(aws.client("events"), partial=True)
    checkpoint = Checkpoint.open(tmp_path / "run.json", file_digest(path), _bus(aws))
    target = Target(_bus(aws), "shop.orders", settings().customers_table, TimerStore(settings().customers_table).layout)
    result = publish_history(records, flaky, target, checkpoint, sleep=lambda _: None)
    throttled = sum(min(2, len(records[start : start + 10])) for start in range(0, len(records), 10))
    assert result.retried == throttled and result.published == len(records)
    assert _ingest(aws, NOW) == sum(orders.values())


def test_an_unreadable_row_stops_the_import_before_anything_is_published(aws, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,amount\nA1,2026-01-05,12.50\nA2,2026-13-01,9.00\nA3,2026-02-01,-4\n")
    with clock.frozen_at(NOW):
        assert main(["import", str(path), "--bus", _bus(aws)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("retention import: ")
    assert "line 3:" in line and "(2 unreadable rows)" in line and "--skip-bad-rows" in line
    assert _ingest(aws, NOW) == 0
    with clock.frozen_at(NOW):
        assert main(["import", str(path), "--bus", _bus(aws), "--skip-bad-rows"]) == 0
    assert _ingest(aws, NOW) == 1


def test_releasing_refuses_a_date_in_the_past_with_one_line(aws, capsys):
    with clock.frozen_at(NOW):
        code = main(["import", "--bus", _bus(aws), "--start-winbacks-from", "2026-05-01"])
    assert code == 2
    assert (
        capsys.readouterr().err.strip()
        == "retention import: --start-winbacks-from 2026-05-01 is in the past (today is 2026-06-01)"
    )


def test_a_live_order_takes_a_held_customer_out_of_the_backlog(aws, tmp_path):
    # Given a customer imported with orders long past, waiting in the backlog
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,amount\nL1,2025-09-01,30.00\nL1,2025-10-15,42.00\n", encoding="utf-8")
    with clock.frozen_at(NOW):
        assert main(["import", str(path), "--bus", _bus(aws)]) == 0
    _ingest(aws, NOW)
    timers = TimerStore(settings().customers_table)
    assert [t.customer_id for t in timers.backlog()] == ["L1"]

    # When they order again, live
    from factories import order_detail

    from retention_tools.local.runtime import put_events

    live = order_detail(order_id="LIVE-1", customer_id="L1", placed_at=NOW)
    with clock.frozen_at(NOW):
        put_events(aws, [("shop.orders", "OrderPlaced", live, NOW)], _bus(aws))
    _ingest(aws, NOW + timedelta(minutes=1))

    # Then the order re-armed the timer as usual: nothing is held, and no release can move it
    assert list(timers.backlog()) == []
    armed = timers.get("L1", "inactivity")
    assert armed is not None and armed.due_at > NOW and not armed.payload


def _stack(aws: EmbeddedAws, name: str) -> None:
    """A stack in the embedded account whose outputs and parameter name this run's bus and table."""
    template = {
        "Parameters": {"ShopEventSource": {"Type": "String", "Default": "shop.orders"}},
        "Resources": {"Alarms": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "EventBusName": {"Value": _bus(aws)},
            "CustomersTableName": {"Value": settings().customers_table},
        },
    }
    aws.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_a_stack_name_is_enough_to_import_and_release(aws, tmp_path, capsys, monkeypatch):
    # Given a deployed stack (its functions on the production timer layout) and a lapsed customer's orders
    _stack(aws, "retention-import-test")
    for variable in ("TIMER_SHARDS", "TIMER_BUCKET_HOURS"):
        monkeypatch.delenv(variable, raising=False)
    from retention.settings import settings as cached

    cached.cache_clear()
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,amount\nS1,2025-09-01,30.00\nS1,2025-10-15,42.00\n", encoding="utf-8")
    with clock.frozen_at(NOW):
        assert main(["import", str(path), "--stack", "retention-import-test"]) == 0
    _ingest(aws, NOW)
    timers = TimerStore(settings().customers_table)
    assert [t.customer_id for t in timers.backlog()] == ["S1"]

    # When the backlog is released through the stack name
    with clock.frozen_at(NOW):
        assert main(["import", "--stack", "retention-import-test", "--start-winbacks-from", "2026-06-03"]) == 0

    # Then the timer is filed in the production layout's hour bucket on the day asked
    assert "2026-06-03: 1 overdue customers released" in capsys.readouterr().out
    released = timers.get("S1", "inactivity")
    assert released is not None and released.due_at == datetime(2026, 6, 3, 9, tzinfo=UTC)
    assert [d.timer.customer_id for d in timers.due(released.due_at, released.due_at)] == ["S1"]
