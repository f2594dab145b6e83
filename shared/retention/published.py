"""Templates a marketer published without a deploy: the live version, cached per container.

With ``TEMPLATES_BUCKET`` set (the stack sets it), :func:`refresh` — called by each handler
before it reads a template file (the ingest: per event) — reads the bucket's live manifest at most every
``TEMPLATES_REFRESH_SECONDS`` (300), and when it names a new version downloads it to ``/tmp``,
checks every file against the manifest's hashes, validates the journeys, segments, emails and
tracking files as the deployment would, and only then switches :func:`retention.paths.templates_dir`
to it. Anything wrong (the bucket unreachable, a file missing or altered, a file that does not
validate) keeps the version in use and logs why: a bad publication never stops sending, and
the layer's built-in copy is the fallback until something valid is published. The version
changes only inside ``refresh``, so one event is handled with one version; each send records
the version it used.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from retention.models.publication import BUILT_IN, Manifest

if TYPE_CHECKING:
    from retention.store.template_bucket import TemplateBucket

log = logging.getLogger(__name__)
DEFAULT_REFRESH_SECONDS = 300.0
CACHE_ROOT = Path(tempfile.gettempdir()) / "retention-templates"
COMPLETE = ".complete"


@dataclass
class _Live:
    directory: Path | None = None
    version: str = BUILT_IN
    checked_at: float | None = None


_live = _Live()


def active_dir() -> Path | None:
    """The directory of the published version in use, or None for the built-in templates."""
    return _live.directory


def version() -> str:
    """The templates version this container uses now (``built-in`` before any publication)."""
    return _live.version


def reset() -> None:
    """Back to the built-in templates and a check at the next refresh (tests, the embedded AWS)."""
    _live.directory, _live.version, _live.checked_at = None, BUILT_IN, None


def refresh(now: float | None = None) -> str:
    """Use the live published version if one is due a check; the version in use afterwards."""
    bucket = os.environ.get("TEMPLATES_BUCKET")
    if not bucket:
        return _live.version
    now = time.monotonic() if now is None else now
    if _live.checked_at is not None and now - _live.checked_at < _refresh_seconds():
        return _live.version
    _live.checked_at = now
    from botocore.exceptions import BotoCoreError, ClientError

    from retention.store.template_bucket import PublicationError, TemplateBucket

    try:
        manifest = TemplateBucket(bucket).live()
        if manifest is None:
            _live.directory, _live.version = None, BUILT_IN
        elif manifest.version != _live.version:
            _live.directory, _live.version = _install(TemplateBucket(bucket), manifest), manifest.version
            log.info("templates version in use", extra={"templates_version": manifest.version})
    except (BotoCoreError, ClientError, PublicationError, InvalidPublication, OSError) as error:
        log.warning(
            "published templates not used: keeping the version in use",
            extra={"templates_version": _live.version, "reason": str(error)[:300]},
        )
    return _live.version


class InvalidPublication(ValueError):
    """A published version whose files do not validate (the publish lint should have refused it)."""


def _install(bucket: TemplateBucket, manifest: Manifest) -> Path:
    target = CACHE_ROOT / manifest.version
    if (target / COMPLETE).exists():
        return target
    files = bucket.files(manifest)
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=CACHE_ROOT, prefix=f".{manifest.version}-"))
    try:
        for path, content in files.items():
            destination = staging / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(content)
        validate_directory(staging)
        (staging / COMPLETE).write_text(manifest.version)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def validate_directory(root: Path) -> None:
    """The checks a deployment makes on templates/: every YAML file parses and validates, and the
    journeys agree with the emails and segments they name."""
    from retention.config_files import CatalogError, load_yaml
    from retention.journeys.definitions import JourneyError, parse_journeys
    from retention.models.tracking import TrackingRules
    from retention.segments import parse_definitions

    try:
        parse_definitions((root / "segments.yaml").read_text(encoding="utf-8"), "segments.yaml")
        parse_journeys(root)
        load_yaml(root / "tracking.yaml", TrackingRules)
    except (CatalogError, JourneyError, ValueError, OSError) as error:
        raise InvalidPublication(str(error)[:500]) from error


def _refresh_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("TEMPLATES_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS)))
    except ValueError:
        return DEFAULT_REFRESH_SECONDS
