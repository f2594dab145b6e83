"""Duplicate-delivery soak on the embedded AWS: the chaotic run ends exactly where the clean one does.

Clean run: a generated history replayed through the real handlers, every message delivered
once. Chaotic run, same history: 2 % extra malformed events, every SQS message (ingest and
journey queues) delivered 1–3 times in shuffled batches, and 5 % of DynamoDB and SES requests
answered with throttling errors (botocore's retries must absorb them). At the end:

* every profile equals the clean run's (duplicates never double-count),
* the emails sent are the same set, each (customer, journey, cycle, step) at most once,
* every malformed event is in the ingest dead-letter queue, its reason logged,
* nothing else is dead-lettered: no event lost.

The two runs run side by side in processes of their own (retention/local/soak.py). Size:
``SOAK_CUSTOMERS`` customers over ``SOAK_DAYS`` days (``make test``: 30 customers, 120 days;
``make soak``: 2,000 customers, a year, with progress). Bounded: no sockets, no sleeps.
"""

from __future__ import annotations

import os

from retention_tools.local.soak import run_both, soak_history

CUSTOMERS = int(os.environ.get("SOAK_CUSTOMERS", "30"))
DAYS = int(os.environ.get("SOAK_DAYS", "120"))
SEED = 21


def test_chaotic_delivery_ends_where_clean_delivery_does() -> None:
    events, bad = soak_history(CUSTOMERS, DAYS, SEED)
    clean, chaotic = run_both(CUSTOMERS, DAYS, SEED, progress=bool(os.environ.get("SOAK_PROGRESS")))

    assert chaotic.throttled > 0
    assert chaotic.deliveries > len(events) + len(clean.message_ids)  # messages really came more than once
    assert chaotic.profiles == clean.profiles
    assert len(chaotic.message_ids) == len(set(chaotic.message_ids))  # each (customer, journey, cycle, step) once
    only_chaotic = sorted(set(chaotic.message_ids) - set(clean.message_ids))
    only_clean = sorted(set(clean.message_ids) - set(chaotic.message_ids))
    differing = [f"chaotic only: {chaotic.described[m]}" for m in only_chaotic] + [
        f"clean only: {clean.described[m]}" for m in only_clean
    ]
    assert not differing, "the runs sent different emails:\n" + "\n".join(differing)  # none lost, none extra
    assert chaotic.ingest_dead_letters == len(bad)
    assert clean.ingest_dead_letters == 0 and clean.journey_dead_letters == chaotic.journey_dead_letters == 0
    assert len(chaotic.rejection_reasons) >= len(bad) and all(chaotic.rejection_reasons)  # each with its reason
    print(
        f"\nsoak: {CUSTOMERS} customers, {DAYS} days, {len(events)} events + {len(bad)} malformed; "
        f"{len(clean.message_ids)} emails each run; {chaotic.deliveries} SQS deliveries in the chaotic run; "
        f"{chaotic.throttled} throttling errors absorbed; dead-lettered {chaotic.ingest_dead_letters}; "
        f"clean run {clean.seconds:.0f} s, chaotic run {chaotic.seconds:.0f} s (side by side)"
    )
