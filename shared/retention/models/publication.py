"""What a published set of templates is: the manifest naming one version and its files."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from retention.models.types import UtcDatetime

VERSION_PATTERN = r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$"
"""``20261203T141500Z-1a2b3c4d``: when it was published and the start of its content hash, so
versions sort by time and two publications of the same files are recognisably the same."""
MAX_FILES = 2_000
MAX_FILE_BYTES = 1_000_000
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")

Version = Annotated[str, Field(pattern=VERSION_PATTERN)]
BUILT_IN = "built-in"
"""The version name of the templates the layer ships: what runs before anything is published."""


class Manifest(BaseModel):
    """The one object that says which version is live. Every file of the version is uploaded
    before the manifest names it, and a reader checks each file's hash against it: a
    half-uploaded or tampered set is never read."""

    model_config = ConfigDict(frozen=True)

    version: Version
    published_at: UtcDatetime
    published_by: Annotated[str, Field(max_length=200)] = ""
    previous: Version | None = None
    files: Annotated[dict[str, Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]], Field(min_length=1)]

    @field_validator("files")
    @classmethod
    def _safe_paths(cls, files: dict[str, str]) -> dict[str, str]:
        if len(files) > MAX_FILES:
            raise ValueError(f"{len(files)} files: at most {MAX_FILES}")
        for path in files:
            if not _SAFE_PATH.match(path) or ".." in path.split("/"):
                raise ValueError(f"unsafe file path {path[:80]!r}")
        return files

    @property
    def published(self) -> datetime:
        return self.published_at
