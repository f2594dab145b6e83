"""Signed link tokens: HMAC-SHA256 over purpose, message id, link index and key id.

A token is ``<purpose>.<message id>.<index>.<key id>.<signature>``, all URL-safe, so the
tracking API can tell from the token alone which message and which link it is, and nobody can
forge one for another message or another link. Several keys can be valid at once (rotation):
new tokens are signed with the ring's current key, older tokens verify with the key they name.
"""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Purpose(StrEnum):
    OPEN = "o"
    CLICK = "c"
    UNSUBSCRIBE = "u"
    PREFERENCES = "p"
    HONEYPOT = "h"  # the hidden link only scanners follow (served on /c/ like any link)
    FEEDBACK = "f"  # a one-click answer; the index is the answer's place in emails.yaml's ``answers``


MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_TOKEN = re.compile(
    r"^(?P<purpose>[ocuphf])\.(?P<message>[A-Za-z0-9_-]{8,64})\.(?P<index>0|[1-9][0-9]{0,3})"
    r"\.(?P<kid>[A-Za-z0-9_-]{1,16})\.(?P<sig>[A-Za-z0-9_-]{43})$"
)
MIN_KEY_CHARS = 32
MAX_LINKS = 500


class InvalidToken(ValueError):
    """The token is malformed, names an unknown key, or its signature does not match."""


class MalformedToken(InvalidToken):
    """The text is not a token at all (as opposed to a token this deployment did not sign)."""


@dataclass(frozen=True)
class LinkToken:
    purpose: Purpose
    message_id: str
    index: int
    key_id: str


@dataclass(frozen=True)
class KeyRing:
    """Signing keys by id; ``current`` signs, every key verifies."""

    current: str
    keys: dict[str, bytes]

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError(f"signing key ring: current key {self.current!r} is not among the keys")
        for key_id, key in self.keys.items():
            if not _KEY_ID.match(key_id):
                raise ValueError(f"signing key ring: key id {key_id!r} must be 1-16 letters, digits, - or _")
            if len(key) < MIN_KEY_CHARS:
                raise ValueError(f"signing key ring: key {key_id!r} is shorter than {MIN_KEY_CHARS} characters")

    @classmethod
    def from_secret(cls, secret: dict[str, Any]) -> KeyRing:
        """From the secret's JSON: ``{"current": "k2", "k1": "...", "k2": "..."}``."""
        if not isinstance(secret, dict) or not isinstance(secret.get("current"), str):
            raise ValueError('signing key secret must be a JSON object with a "current" key id')
        keys = {kid: str(value).encode() for kid, value in secret.items() if kid != "current"}
        return cls(current=secret["current"], keys=keys)

    def sign(self, purpose: Purpose, message_id: str, index: int = 0) -> str:
        if not MESSAGE_ID.match(message_id):
            raise ValueError(f"message id {message_id!r} is not 8-64 URL-safe characters")
        if not 0 <= index < MAX_LINKS:
            raise ValueError(f"link index {index} out of range")
        body = f"{purpose.value}.{message_id}.{index}.{self.current}"
        return f"{body}.{self._mac(self.current, body)}"

    def verify(self, token: str) -> LinkToken:
        """The token's fields, or :class:`InvalidToken` (never a partial answer)."""
        match = _TOKEN.match(token or "")
        if not match:
            raise MalformedToken("malformed token")
        kid = match["kid"]
        if kid not in self.keys:
            raise InvalidToken("unknown signing key")
        body = token.rsplit(".", 1)[0]
        if not hmac.compare_digest(self._mac(kid, body), match["sig"]):
            raise InvalidToken("bad signature")
        return LinkToken(Purpose(match["purpose"]), match["message"], int(match["index"]), kid)

    def _mac(self, key_id: str, body: str) -> str:
        # hmac.digest: the same HMAC-SHA256 in one C call (an email signs a dozen links)
        digest = hmac.digest(self.keys[key_id], body.encode(), "sha256")
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
