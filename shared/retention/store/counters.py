"""Write-sharded counters per journey × day × step × variant: what the journeys did, for reports.

Key design (store/keys.py): ``pk = COUNT#<journey>#<shard>``, ``sk = <YYYY-MM-DD>#<step>#<variant>``,
one number attribute per counted outcome (``sent``, ``entered``, ``holdout``, ``suppressed``,
``deferred_quiet_hours``...). Each write picks a random shard, so one journey's busiest day is
spread over ``SHARDS`` partitions (no hot key); a report reads a journey's date range with one
Query per shard. ``ADD`` is atomic, so concurrent writers never lose a count.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from retention.store import dynamo, keys
from retention.store.transaction import Write

SHARDS = 8
JOURNEY_LEVEL = "-"
"""Step and variant of counts that belong to the journey as a whole (entries, hold-out, exits)."""

Counts = Mapping[str, int | Decimal]

ANSWER_COUNTER = "answer_"
"""Prefix of a feedback answer's counter on its email's step (``answer_price``); ``answers`` counts them all."""


def counter_add(
    journey: str,
    day: date,
    counts: Counts,
    step: str = JOURNEY_LEVEL,
    variant: str = JOURNEY_LEVEL,
    shard: int | None = None,
) -> Write:
    """An ``ADD`` of ``counts`` to one counter item (alone or inside a transaction)."""
    shard = random.randrange(SHARDS) if shard is None else shard
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values = {f":c{i}": {"N": str(value)} for i, value in enumerate(counts.values())}
    return Write(
        "Update",
        {
            "Key": keys.key(keys.counter_pk(journey, shard), keys.counter_sk(day, step, variant)),
            "UpdateExpression": "ADD " + ", ".join(f"{n} {v}" for n, v in zip(names, values, strict=True)),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        },
    )


class CounterStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def add(
        self,
        journey: str,
        day: date,
        counts: Counts,
        step: str = JOURNEY_LEVEL,
        variant: str = JOURNEY_LEVEL,
    ) -> None:
        counts = {name: value for name, value in counts.items() if value}
        if counts:
            write = counter_add(journey, day, counts, step, variant)
            dynamo.client().update_item(TableName=self.table_name, **write.parameters)

    def read(self, journey: str, since: date, until: date) -> dict[tuple[str, str, str], Counter[str]]:
        """Counts by (day, step, variant) for ``since``..``until`` inclusive: one Query per shard."""
        totals: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
        first, last = keys.counter_sk_range(since, until)
        for shard in range(SHARDS):
            pages = (
                dynamo.client()
                .get_paginator("query")
                .paginate(
                    TableName=self.table_name,
                    KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
                    ExpressionAttributeValues={
                        ":pk": {"S": keys.counter_pk(journey, shard)},
                        ":from": {"S": first},
                        ":to": {"S": last},
                    },
                )
            )
            for page in pages:
                for item in page.get("Items", []):
                    group = keys.parse_counter_sk(item["sk"]["S"])
                    for name, value in item.items():
                        if name not in ("pk", "sk") and "N" in value:
                            number = Decimal(value["N"])  # revenue has cents; counts are whole
                            whole = number == number.to_integral()
                            totals[group][name] += int(number) if whole else number
        return dict(totals)
