"""What each handler's cold start loads: only what it needs, nothing from the developer tools.

numpy (the churn refit's) is loaded by the daily statistics function and by no other handler;
no handler loads moto, matplotlib or the ``retention_tools`` package (the CLI, the embedded
AWS, the authoring tools); only the dispatcher, which renders email, loads Jinja2, Babel and
css-inline.

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
DEVELOPER_ONLY = ("moto", "matplotlib", "retention_tools", "tqdm", "hypothesis")
RENDERING = ("jinja2", "babel", "css_inline")
RENDERERS = {"journey_dispatch"}
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


def _loaded_by(function: str, watched: tuple[str, ...] = WATCHED) -> list[str]:
    probe = f"import json, sys; import app; print(json.dumps([m for m in {watched!r} if m in sys.modules]))"
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", probe],
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


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_handler_loads_a_developer_tool(function):
    assert _loaded_by(function, DEVELOPER_ONLY) == []


@pytest.mark.parametrize("function", [f for f in FUNCTIONS if f not in RENDERERS])
def test_only_the_dispatcher_loads_the_email_renderer(function):
    assert _loaded_by(function, RENDERING) == []
