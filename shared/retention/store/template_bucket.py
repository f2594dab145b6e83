"""The templates bucket: published versions of templates/ and the manifest naming the live one.

Layout: ``versions/<version>/files/<path>`` holds each file, ``versions/<version>/manifest.json``
each version's own manifest (what a rollback restores), and ``manifest.json`` at the top names
the live version. Publishing writes every file first and the top manifest last: one PutObject,
atomic in S3, so readers see the old version or the new one, never a mix.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

import boto3
from pydantic import ValidationError

from retention.models.publication import MAX_FILE_BYTES, Manifest
from retention.store.dynamo import RETRY_CONFIG

LIVE_MANIFEST = "manifest.json"


class PublicationError(RuntimeError):
    """The bucket holds something that is not a complete, valid version (the message says what)."""


@cache
def client() -> Any:
    return boto3.client("s3", config=RETRY_CONFIG)


def reset_clients() -> None:
    client.cache_clear()


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class TemplateBucket:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    # ------------------------------------------------------------------ reading
    def live(self) -> Manifest | None:
        """The live version's manifest, or None when nothing was ever published."""
        return self._manifest(LIVE_MANIFEST)

    def manifest_of(self, version: str) -> Manifest | None:
        return self._manifest(f"versions/{version}/manifest.json")

    def files(self, manifest: Manifest) -> dict[str, bytes]:
        """Every file of ``manifest``'s version, each checked against its hash."""
        found: dict[str, bytes] = {}
        for path, expected in manifest.files.items():
            content = self._get(f"versions/{manifest.version}/files/{path}")
            if content is None:
                raise PublicationError(f"version {manifest.version}: {path} is missing")
            if len(content) > MAX_FILE_BYTES or digest(content) != expected:
                raise PublicationError(f"version {manifest.version}: {path} does not match its manifest")
            found[path] = content
        return found

    # ------------------------------------------------------------------ writing
    def upload(self, manifest: Manifest, files: dict[str, bytes]) -> None:
        """The version's files and its own manifest; the live manifest is untouched."""
        if set(files) != set(manifest.files):
            raise PublicationError("the files do not match the manifest")
        for path, content in files.items():
            self._put(f"versions/{manifest.version}/files/{path}", content)
        self._put(f"versions/{manifest.version}/manifest.json", _manifest_bytes(manifest))

    def make_live(self, manifest: Manifest) -> None:
        """Name ``manifest``'s (already uploaded) version as the live one: one PutObject."""
        self._put(LIVE_MANIFEST, _manifest_bytes(manifest))

    # ------------------------------------------------------------------ requests
    def _manifest(self, key: str) -> Manifest | None:
        content = self._get(key)
        if content is None:
            return None
        try:
            return Manifest.model_validate_json(content)
        except ValidationError as error:
            raise PublicationError(f"{key} is not a valid manifest ({error.error_count()} problems)") from error

    def _get(self, key: str) -> bytes | None:
        try:
            response = client().get_object(Bucket=self.bucket, Key=key)
        except client().exceptions.NoSuchKey:
            return None
        return response["Body"].read(MAX_FILE_BYTES + 1)

    def _put(self, key: str, content: bytes) -> None:
        client().put_object(Bucket=self.bucket, Key=key, Body=content)


def _manifest_bytes(manifest: Manifest) -> bytes:
    return json.dumps(manifest.model_dump(mode="json"), indent=1, sort_keys=True).encode()
