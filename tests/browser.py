"""A real headless browser (Debian's chromium) for screenshot checks of local pages.

Skipped when chromium is not installed, except in CI (``RETENTION_REQUIRE_BROWSER=1``, set by
``.ci/run`` after installing it), where a missing browser fails the test instead.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
    "--hide-scrollbars",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found:
        return found
    if os.environ.get("RETENTION_REQUIRE_BROWSER") == "1":
        pytest.fail("chromium is required in CI (apt-get install chromium)")
    pytest.skip("chromium not installed (apt-get install chromium) - the CI run installs it")


def screenshot(url: str, path: Path, width: int = 1400, height: int = 1000) -> Path:
    subprocess.run(  # noqa: S603 - a fixed local binary and arguments
        [chromium(), *FLAGS, f"--window-size={width},{height}", f"--screenshot={path}", url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


def dump_dom(url: str) -> str:
    """The page's DOM after the browser rendered it (frames loaded, scripts run)."""
    done = subprocess.run(  # noqa: S603
        [chromium(), *FLAGS, "--dump-dom", url], check=True, capture_output=True, timeout=120, text=True
    )
    return done.stdout


def png_colours(path: Path) -> int:
    """Distinct RGB(A) pixel values in a PNG (8-bit, no interlace): a blank page has one or two."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    channels = {2: 3, 6: 4}[colour_type]
    assert depth == 8
    raw = zlib.decompress(idat)
    stride = width * channels
    colours: set[bytes] = set()
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        if row % 8 == 0:
            colours.update(bytes(line[i : i + channels]) for i in range(0, stride, channels * 4))
        previous = line
    return len(colours)
