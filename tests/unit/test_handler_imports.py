"""numpy (the churn refit's) is loaded by the daily statistics function and by no other handler.

Each handler is imported the way Lambda does it — a fresh interpreter with the layer (``shared/``)
and the function's folder on its path, ``import app`` — so ``sys.modules`` shows exactly what its
cold start loads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())
WATCHED = ("numpy", "retention.churn_fit", "retention.daily_stats")
ENV = {
    "PATH": "/usr/bin:/bin",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "CUSTOMERS_TABLE": "customers",
    "EVENT_BUS_NAME": "bus",
    "LINK_KEYS_SECRET": "secret",
    "TRACKING_BASE_URL": "https://track.example.com",
    "SENDER_ADDRESS": "hello@example.com",
    "SENDER_POSTAL_ADDRESS": "1 Example Street, Berlin",
    "SHOP_URL": "https://shop.example.com",
}
PROBE = f"import json, sys; import app; print(json.dumps([m for m in {WATCHED!r} if m in sys.modules]))"


def _loaded_by(function: str) -> list[str]:
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env={**ENV, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'functions' / function}"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", [f for f in FUNCTIONS if f != "segment_stats"])
def test_no_other_handler_loads_numpy_or_the_churn_fit(function):
    assert _loaded_by(function) == []


def test_the_statistics_function_loads_the_fit_and_ships_numpy_itself():
    assert _loaded_by("segment_stats") == list(WATCHED)
    own = (ROOT / "functions" / "segment_stats" / "requirements.txt").read_text(encoding="utf-8")
    layer = (ROOT / "shared" / "requirements.txt").read_text(encoding="utf-8")
    assert any(line.startswith("numpy==") for line in own.splitlines())
    assert "numpy" not in layer
