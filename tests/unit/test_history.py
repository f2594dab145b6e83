"""The simulated shop history: seeded, and its malformed events are really malformed."""

from __future__ import annotations

import pytest
from factories import shop_event_is_valid

from retention_tools.local.history import generate_history


@pytest.mark.parametrize("seed", range(8))
def test_every_malformed_event_is_refused_by_validation(seed: int) -> None:
    clean = generate_history(customers=30, seed=seed)
    dirty = generate_history(customers=30, seed=seed, malformed=6)
    # The same history with six events spoiled: exactly those six fail validation
    assert all(shop_event_is_valid(e) for e in clean)
    assert sum(1 for e in dirty if not shop_event_is_valid(e)) == 6


def test_the_same_seed_gives_the_same_history() -> None:
    assert generate_history(customers=20, seed=4) == generate_history(customers=20, seed=4)
