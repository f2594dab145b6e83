"""`make bench` times every handler's first invocation on a sample event: each handler has one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_every_handler_has_a_sample_event_for_its_first_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))  # the bench's own imports (bench.common)
    spec = importlib.util.spec_from_file_location("bench_imports", ROOT / "bench" / "bench_imports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.SAMPLE_EVENT) == set(module.handlers())  # a new handler without one broke `make bench`
    assert all((ROOT / "events" / name).is_file() for name in module.SAMPLE_EVENT.values())
