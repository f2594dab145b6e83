"""Where the marketer-editable files live: ``templates/`` in a checkout, ``/opt`` in Lambda."""

from __future__ import annotations

import os
from pathlib import Path


def templates_dir() -> Path:
    """``RETENTION_TEMPLATES_DIR`` when set (the templates layer sets ``/opt``), else the checkout's."""
    configured = os.environ.get("RETENTION_TEMPLATES_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "templates"
