"""Population statistics (RFM cut points, VIP threshold): written daily, read per event from a cache."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from retention.models.segments import PopulationStats
from retention.store import dynamo, keys

STATS_KEY = keys.STATS_KEY
CACHE_SECONDS = 3600


class StatsStore:
    """A warm container reads the statistics at most once an hour: 0 requests on most events."""

    _cache: ClassVar[dict[str, tuple[float, PopulationStats | None]]] = {}

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get(self) -> PopulationStats | None:
        cached = self._cache.get(self.table_name)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        item = dynamo.client().get_item(TableName=self.table_name, Key=STATS_KEY).get("Item")
        stats = _from_item(item) if item else None
        self._cache[self.table_name] = (time.monotonic(), stats)
        return stats

    def put(self, stats: PopulationStats) -> None:
        dynamo.client().put_item(
            TableName=self.table_name,
            Item={**STATS_KEY, **dynamo.to_attributes({"type": "stats", **stats.model_dump()})},
        )
        self._cache.pop(self.table_name, None)

    @classmethod
    def forget_cache(cls) -> None:
        cls._cache.clear()


def _from_item(item: dict[str, Any]) -> PopulationStats:
    data = {k: v for k, v in dynamo.from_attributes(item).items() if k not in ("pk", "sk", "type")}
    return PopulationStats.model_validate(data)
