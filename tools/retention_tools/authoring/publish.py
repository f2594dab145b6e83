"""Publishing templates/ to a deployed stack without a deploy, and rolling back.

``retention templates publish`` lints the folder the way the deployment would (every template for
every sample customer; journeys, segments and tracking rules), refuses on any problem, uploads the
files as a new version and then — one PutObject — names it in the live manifest. The functions
pick the version up within their refresh interval (``retention.published``). ``rollback`` makes
the version before the live one live again; each version's manifest names its predecessor, so
rolling back twice goes back two versions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from retention.models.publication import MAX_FILE_BYTES, MAX_FILES, Manifest
from retention.store.template_bucket import TemplateBucket, digest

SKIPPED_PARTS = ("__pycache__", ".DS_Store")


class PublishRefused(ValueError):
    """Nothing was published; the message says why (lint problems are listed by ``problems``)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class Published:
    version: str
    files: int
    previous: str | None
    unchanged: bool = False


def collect(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` a function may read, by its relative path (hidden files left out)."""
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") or part in SKIPPED_PARTS for part in relative.parts):
            continue
        content = path.read_bytes()
        if len(content) > MAX_FILE_BYTES:
            raise PublishRefused(f"{relative}: {len(content):,} bytes, over the {MAX_FILE_BYTES:,} a file may have")
        found[relative.as_posix()] = content
    if not found:
        raise PublishRefused(f"{root}: no files to publish")
    if len(found) > MAX_FILES:
        raise PublishRefused(f"{root}: {len(found):,} files, more than the {MAX_FILES:,} a version may have")
    return found


def problems_in(root: Path) -> list[str]:
    """The errors ``retention lint`` reports for ``root`` (warnings do not stop a publish)."""
    from retention.published import InvalidPublication, validate_directory
    from retention_tools.authoring.findings import errors
    from retention_tools.authoring.lint_all import lint_everything

    problems = [str(problem) for problem in errors(lint_everything(root))]
    try:
        validate_directory(root)
    except InvalidPublication as error:
        problems.append(str(error))
    return problems


def publish(bucket: TemplateBucket, root: Path, now: datetime, by: str = "") -> Published:
    """Lint, upload and make live; :class:`PublishRefused` (nothing changed) on any problem."""
    files = collect(root)
    problems = problems_in(root)
    if problems:
        raise PublishRefused(f"{len(problems)} problem(s) in {root}: nothing published: {problems[0]}", problems)
    hashes = {path: digest(content) for path, content in files.items()}
    live = bucket.live()
    if live is not None and live.files == hashes:
        return Published(live.version, len(files), live.previous, unchanged=True)
    content_hash = hashlib.sha256("\n".join(f"{p} {h}" for p, h in sorted(hashes.items())).encode()).hexdigest()
    version = f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{content_hash[:8]}"
    manifest = Manifest(
        version=version,
        published_at=now,
        published_by=by[:200],
        previous=live.version if live else None,
        files=hashes,
    )
    bucket.upload(manifest, files)
    bucket.make_live(manifest)
    return Published(version, len(files), manifest.previous)


def rollback(bucket: TemplateBucket) -> Published:
    """Make the live version's predecessor live again."""
    live = bucket.live()
    if live is None:
        raise PublishRefused("nothing was ever published: the functions use the templates they were deployed with")
    if live.previous is None:
        raise PublishRefused(f"{live.version} is the first published version: there is nothing to roll back to")
    earlier = bucket.manifest_of(live.previous)
    if earlier is None:
        raise PublishRefused(f"the manifest of {live.previous} is missing from the bucket")
    bucket.make_live(earlier)
    return Published(earlier.version, len(earlier.files), earlier.previous)
