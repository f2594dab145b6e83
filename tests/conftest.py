"""Shared fixtures: sample events from events/, a Lambda context, and the embedded AWS.

One in-process embedded AWS (moto's backends) serves the whole session; each test gets its own
stage (its own tables, queues and bus, created from template.yaml), so tests never see each
other's data.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retention_tools.local.embedded import EmbeddedAws, start_in_process
from retention_tools.local.runtime import FakeLambdaContext

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
_stage_numbers = itertools.count(1)


def load_event(name: str) -> dict[str, Any]:
    """A sample event from ``events/`` by file stem, e.g. ``load_event("order_ingest.sqs")``."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(scope="session")
def moto_account() -> None:
    """The session's embedded account (in-process moto), started once per test process."""
    start_in_process()


@pytest.fixture
def aws(moto_account: None) -> Iterator[EmbeddedAws]:
    """A fresh set of the template's resources in the shared embedded account."""
    with EmbeddedAws(stage=f"t{next(_stage_numbers)}", shared=True) as embedded:
        yield embedded
