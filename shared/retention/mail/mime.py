"""The raw message SES sends, written directly: the same bytes the stdlib ``email`` package writes, faster.

``multipart/alternative`` with a quoted-printable UTF-8 text part and HTML part, exactly as
``MIMEMultipart`` + ``MIMEText`` (compat32 policy) + ``as_bytes()`` lay them out - the header
order, the folding, the QP soft line breaks - without building the message objects, copying
them for the generator or compiling a regex per message to check the random boundary against
the bodies (it cannot occur in them: in quoted-printable every ``=`` is followed by two hex
digits or a line break, so no line holds the boundary's ``==``). A test compares every template
x sample with the stdlib build, byte for byte.

Headers stay plain ASCII where they fit on a line (``List-Unsubscribe-Post`` and the like, which
RFC 8058 clients read literally); a long or non-ASCII value is folded by the stdlib's own
compat32 folding, as before.
"""

from __future__ import annotations

import random
import re
import string
import sys
from email.header import Header
from email.policy import compat32
from functools import lru_cache

_LINE = 78
#: the bytes quoted-printable writes as they are; every other byte is written ``=XX``
_SAFE = bytes([*b"\t\r\n", *range(ord(" "), ord("~") + 1)])
_PART_HEADERS = (
    'Content-Type: text/{}; charset="utf-8"\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n'
)


def boundary() -> str:
    """A boundary of the stdlib's own shape (``=`` x 15, 19 random digits, ``==``)."""
    return f"{'=' * 15}{random.randrange(sys.maxsize):019d}=="


def header(name: str, value: str | Header) -> str:
    """``name: value`` and a newline, folded as compat32 folds it."""
    if (
        isinstance(value, str)
        and len(name) + 2 + len(value) <= _LINE
        and value.isascii()
        and value.isprintable()
        and value == value.strip()
        and "  " not in value
    ):
        return f"{name}: {value}\n"
    if isinstance(value, str) and value.isascii() and value.isprintable():
        return _fold_ascii(name, value)
    return compat32.fold(name, value)


_LETTERS_AND_DIGITS = str.maketrans(dict.fromkeys(string.ascii_letters + string.digits, "x"))
_WHITESPACE_RUNS = re.compile(r"(\s+)")


@lru_cache(maxsize=256)
def _folded_shape(name: str, shape: str) -> str:
    return compat32.fold(name, shape)


def _fold_ascii(name: str, value: str) -> str:
    """compat32 folding of a long ASCII value (``List-Unsubscribe``), from the fold of its shape.

    The folding of an ASCII value looks only at whitespace, the split characters ``;,`` and the
    parentheses and backslash, never at which letter or digit stands where, and it moves no
    character: it only breaks lines at whitespace or after a split character. So the value
    with every letter and digit written ``x`` folds at the same places; that fold is computed
    once per shape (a message's tokens differ, their length and punctuation do not) and the
    value's own characters are put back into it in order.
    """
    folded = _folded_shape(name, value.translate(_LETTERS_AND_DIGITS))
    prefix = f"{name}: "
    characters = "".join(value.split())
    written = [prefix]
    used = 0
    for index, part in enumerate(_WHITESPACE_RUNS.split(folded[len(prefix) :])):
        if index % 2:
            written.append(part)
        else:
            written.append(characters[used : used + len(part)])
            used += len(part)
    if used != len(characters) or not folded.startswith(prefix):
        return compat32.fold(name, value)  # a fold that moved characters: never seen, but then the stdlib decides
    return "".join(written)


def quoted_printable(text: str) -> str:
    """``text`` as UTF-8 quoted-printable, line for line what ``email.quoprimime.body_encode`` writes.

    The escaping runs in C: ``=`` first, then each other byte that needs it (``translate`` finds
    which occur, one ``replace`` each: an email holds a handful of distinct ones, and what they
    are replaced by is safe, so the order does not matter); only the soft line breaks of long
    lines are placed in Python, by the stdlib's own algorithm.
    """
    if not text:
        return text
    encoded_bytes = text.encode("utf-8").replace(b"=", b"=3D")
    for byte in set(encoded_bytes.translate(None, _SAFE)):
        encoded_bytes = encoded_bytes.replace(bytes((byte,)), b"=%02X" % byte)
    body = encoded_bytes.decode("ascii")
    encoded: list[str] = []
    append = encoded.append
    for line in body.splitlines():
        if len(line) <= 76 and (not line or line[-1] not in " \t"):
            append(line)
            continue
        start = 0
        laststart = len(line) - 77
        while start <= laststart:
            stop = start + 75
            if line[stop - 2] == "=":
                append(line[start : stop - 1])
                start = stop - 2
            elif line[stop - 1] == "=":
                append(line[start:stop])
                start = stop - 1
            else:
                append(line[start:stop] + "=")
                start = stop
        if line and line[-1] in " \t":
            room = start - laststart
            space = "=20" if line[-1] == " " else "=09"
            if room >= 3:
                tail = space
            elif room == 2:
                tail = line[-1] + "=\n"
            else:
                tail = "=\n" + space
            append(line[start:-1] + tail)
        else:
            append(line[start:])
    if body[-1] in "\r\n":
        append("")
    return "\n".join(encoded)


def alternative(headers: list[tuple[str, str | Header]], text: str, html: str, separator: str | None = None) -> bytes:
    """The whole message: ``headers`` in order after the multipart ones, then the text and HTML parts."""
    separator = separator or boundary()
    return "".join(
        [
            f'Content-Type: multipart/alternative;\n boundary="{separator}"\nMIME-Version: 1.0\n',
            *(header(name, value) for name, value in headers),
            f"\n--{separator}\n",
            _PART_HEADERS.format("plain"),
            quoted_printable(text),
            f"\n--{separator}\n",
            _PART_HEADERS.format("html"),
            quoted_printable(html),
            f"\n--{separator}--\n",
        ]
    ).encode("ascii")
