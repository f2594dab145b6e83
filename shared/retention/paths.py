"""Where the marketer-editable files live: the published version in use (``retention.published``),
else ``templates/`` in a checkout, ``/opt`` (the templates layer) in Lambda."""

from __future__ import annotations

import os
from pathlib import Path


def templates_dir() -> Path:
    """The published version in use; else ``RETENTION_TEMPLATES_DIR`` when set (the templates
    layer sets ``/opt``), else the checkout's. No I/O: the version changes only in
    :func:`retention.published.refresh`, between invocations."""
    from retention import published

    live = published.active_dir()
    if live is not None:
        return live
    configured = os.environ.get("RETENTION_TEMPLATES_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "templates"
