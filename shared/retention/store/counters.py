"""Write-sharded counters per journey × day × step × variant: what the journeys did, for reports.

Key design: ``pk = COUNT#<journey>#<shard>``, ``sk = <YYYY-MM-DD>#<step>#<variant>``, one
number attribute per counted outcome (``sent``, ``entered``, ``holdout``, ``suppressed``,
``deferred_quiet_hours``...). Each write picks a random shard, so one journey's busiest day is
spread over ``SHARDS`` partitions (no hot key); a report reads a journey's date range with one
Query per shard. ``ADD`` is atomic, so concurrent writers never lose a count.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from retention.store import dynamo

SHARDS = 8
JOURNEY_LEVEL = "-"
"""Step and variant of counts that belong to the journey as a whole (entries, hold-out, exits)."""


def counter_pk(journey: str, shard: int) -> str:
    return f"COUNT#{journey}#{shard}"


def counter_update(
    table_name: str, journey: str, day: date, step: str, variant: str, counts: dict[str, int], shard: int | None = None
) -> dict[str, Any]:
    """An ``Update`` adding ``counts`` to one counter item (usable alone or in a transaction)."""
    shard = random.randrange(SHARDS) if shard is None else shard
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values = {f":c{i}": {"N": str(value)} for i, value in enumerate(counts.values())}
    return {
        "TableName": table_name,
        "Key": {"pk": {"S": counter_pk(journey, shard)}, "sk": {"S": f"{day.isoformat()}#{step}#{variant}"}},
        "UpdateExpression": "ADD " + ", ".join(f"{n} {v}" for n, v in zip(names, values, strict=True)),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


class CounterStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def add(self, journey: str, day: date, step: str, variant: str, counts: dict[str, int]) -> None:
        if counts:
            dynamo.client().update_item(**counter_update(self.table_name, journey, day, step, variant, counts))

    def read(self, journey: str, since: date, until: date) -> dict[tuple[str, str, str], Counter[str]]:
        """Counts by (day, step, variant) for ``since``..``until`` inclusive: one Query per shard."""
        totals: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
        for shard in range(SHARDS):
            pages = (
                dynamo.client()
                .get_paginator("query")
                .paginate(
                    TableName=self.table_name,
                    KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
                    ExpressionAttributeValues={
                        ":pk": {"S": counter_pk(journey, shard)},
                        ":from": {"S": since.isoformat()},
                        ":to": {"S": f"{until.isoformat()}#~"},
                    },
                )
            )
            for page in pages:
                for item in page.get("Items", []):
                    day, step, variant = item["sk"]["S"].split("#", 2)
                    for name, value in item.items():
                        if name not in ("pk", "sk") and "N" in value:
                            number = Decimal(value["N"])  # revenue has cents; counts are whole
                            whole = number == number.to_integral()
                            totals[(day, step, variant)][name] += int(number) if whole else number
        return dict(totals)
