"""compose() sends exactly the bytes it sent before: every template x sample customer, digest for digest.

The digests in ``tests/data/compose_golden.json`` were recorded from the stdlib ``email`` package
build of the message (before the direct MIME writer), and re-recorded once when the ``To``
header gained the customer's quoted name (``to_header``; with the bare address the new writer
matched the stdlib recording on all 154 emails), and for the feedback email's answers becoming
signed ``/f/`` links (only ``winback_feedback`` changed); a new template adds its rows (``winback_apology``:
the other digests unchanged). A change to the templates, the samples or
the send path that alters any byte of any email shows up here; when the change is intended,
re-record with ``PYTHONPATH=shared:tools:tests python tests/unit/test_mail_compose_golden.py``.
The MIME boundary is random per message, so it is replaced by a fixed word before hashing.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from mail_helpers import NOW, SETTINGS

from retention.mail import catalog as files
from retention.mail.compose import OutgoingEmail, compose
from retention.mail.render import Renderer
from retention_tools.authoring.preview import PREVIEW_RING
from retention_tools.authoring.samples import sample_coupon, sample_profile

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "compose_golden.json"
_BOUNDARY = re.compile(rb'boundary="([^"]+)"')


def _digest(value: str | bytes) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()[:32]


def normalised_mime(mime: bytes) -> bytes:
    """The message with its random boundary replaced by ``BOUNDARY`` (same length is not needed)."""
    found = _BOUNDARY.search(mime)
    assert found, "a multipart message names its boundary"
    return mime.replace(found[1], b"BOUNDARY")


def outputs(renderer: Renderer) -> dict[str, OutgoingEmail]:
    """Every shipped template composed for every sample customer, with a fixed message id."""
    files.clear_caches()
    emails: dict[str, OutgoingEmail] = {}
    for template in renderer.catalog.templates:
        for sample in files.samples(renderer.root).customers:
            emails[f"{template} x {sample.customer_id}"] = compose(
                renderer,
                template,
                sample_profile(sample, NOW),
                message_id=f"golden-{template}-{sample.customer_id}",
                ring=PREVIEW_RING,
                settings=SETTINGS,
                now=NOW,
                coupon=sample_coupon(NOW, renderer.root),
            )
    return emails


def digests(emails: dict[str, OutgoingEmail]) -> dict[str, dict[str, object]]:
    return {
        key: {
            "mime": _digest(normalised_mime(email.mime)),
            "html": _digest(email.html),
            "text": _digest(email.text),
            "urls": _digest("\n".join(email.urls)),
            "subject": email.subject,
            "promotion_share": email.promotion_share,
        }
        for key, email in emails.items()
    }


def test_every_template_and_sample_composes_byte_identical_to_the_recording() -> None:
    # Given the digests recorded from the stdlib-built messages
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    # When every template is composed for every sample customer today
    current = digests(outputs(Renderer()))
    # Then every part of every email is the same, byte for byte
    assert sorted(current) == sorted(recorded)
    changed = {key: [part for part in current[key] if current[key][part] != recorded[key][part]] for key in current}
    assert {key: parts for key, parts in changed.items() if parts} == {}


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(digests(outputs(Renderer())), indent=1, sort_keys=True) + "\n", encoding="utf-8")
