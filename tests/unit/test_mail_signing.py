"""Signed link tokens: tampering, truncation, foreign keys and rotation are all detected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retention.mail.signing import InvalidToken, KeyRing, Purpose

K1 = "k" * 40
K2 = "q" * 40
RING = KeyRing(current="k1", keys={"k1": K1.encode()})


def test_a_signed_token_verifies_to_its_fields() -> None:
    token = RING.sign(Purpose.CLICK, "msg-0000000001", 7)
    parsed = RING.verify(token)
    assert (parsed.purpose, parsed.message_id, parsed.index, parsed.key_id) == (
        Purpose.CLICK,
        "msg-0000000001",
        7,
        "k1",
    )


def _flip(token: str, position: int) -> str:
    char = token[position]
    return token[:position] + ("A" if char != "A" else "B") + token[position + 1 :]


@pytest.mark.parametrize("position", [0, 3, 10, 15, 17, -1, -20])
def test_any_tampered_character_is_detected(position: int) -> None:
    token = RING.sign(Purpose.CLICK, "msg-0000000001", 1)
    with pytest.raises(InvalidToken):
        RING.verify(_flip(token, position))


def test_changing_the_link_index_or_purpose_breaks_the_signature() -> None:
    token = RING.sign(Purpose.CLICK, "msg-0000000001", 1)
    purpose, message, _, kid, sig = token.split(".")
    with pytest.raises(InvalidToken, match="bad signature"):
        RING.verify(f"{purpose}.{message}.2.{kid}.{sig}")
    with pytest.raises(InvalidToken, match="bad signature"):
        RING.verify(f"u.{message}.1.{kid}.{sig}")  # a click token is not an unsubscribe token


@pytest.mark.parametrize("cut", [1, 5, 20, 44])
def test_truncated_token_is_rejected(cut: int) -> None:
    token = RING.sign(Purpose.OPEN, "msg-0000000001")
    with pytest.raises(InvalidToken):
        RING.verify(token[:-cut])


def test_token_signed_with_a_foreign_key_is_rejected() -> None:
    foreign = KeyRing(current="k1", keys={"k1": K2.encode()})
    with pytest.raises(InvalidToken, match="bad signature"):
        RING.verify(foreign.sign(Purpose.CLICK, "msg-0000000001", 0))


def test_rotation_keeps_old_tokens_valid_until_the_old_key_is_removed() -> None:
    old_token = RING.sign(Purpose.CLICK, "msg-0000000001", 0)
    rotated = KeyRing.from_secret({"current": "k2", "k1": K1, "k2": K2})
    assert rotated.verify(old_token).key_id == "k1"
    assert rotated.sign(Purpose.CLICK, "msg-0000000001", 0).split(".")[3] == "k2"
    retired = KeyRing.from_secret({"current": "k2", "k2": K2})
    with pytest.raises(InvalidToken, match="unknown signing key"):
        retired.verify(old_token)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({"k1": K1}, "current"),
        ({"current": "k9", "k1": K1}, "not among the keys"),
        ({"current": "k1", "k1": "short"}, "shorter than 32"),
        ({"current": "bad id!", "bad id!": K1}, "key id"),
    ],
)
def test_a_bad_key_secret_fails_with_a_clear_reason(secret: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KeyRing.from_secret(secret)


@given(st.text(max_size=200))
def test_arbitrary_strings_never_verify_and_never_crash(candidate: str) -> None:
    with pytest.raises(InvalidToken):
        RING.verify(candidate)
