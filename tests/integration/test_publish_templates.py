"""Publishing templates without a deploy, on the embedded AWS: the stack's templates bucket,
``retention templates publish / rollback``, and the functions switching versions."""

from __future__ import annotations

import email
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from journey_helpers import World

from retention import published
from retention.journeys.definitions import load_journeys
from retention.journeys.rules import in_holdout
from retention.models.publication import BUILT_IN
from retention.paths import templates_dir
from retention.store.journeys import JourneyStore
from retention.store.template_bucket import TemplateBucket, client, digest
from retention_tools.authoring.publish import PublishRefused, publish, rollback
from retention_tools.cli import main

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
THANKS = "emails/post_purchase_thanks.html"
SUBJECT = (
    "Thank you{% if customer.first_name %}, {{ customer.first_name }}{% endif %} - how to get the most from your order"
)


@pytest.fixture
def bucket(aws) -> TemplateBucket:
    published.reset()
    yield TemplateBucket(aws.resources.buckets["TemplatesBucket"])
    published.reset()


def edited_copy(tmp_path: Path, subject: str) -> Path:
    root = tmp_path / subject.split()[0]
    shutil.copytree(templates_dir(), root)
    page = root / THANKS
    page.write_text(page.read_text(encoding="utf-8").replace(SUBJECT, subject), encoding="utf-8")
    return root


def thanks_subject_after_an_order(world: World, day: int) -> tuple[str, str]:
    """Order, let the thank-you come due, and return its subject and the templates version recorded."""
    share = load_journeys().frequency.holdout_share
    customer = next(c for c in (f"P{day}X{n}" for n in range(100)) if not in_holdout(c, "post_purchase", share))
    ordered = AT + timedelta(days=day)
    world.order(customer, ordered)
    world.deliver(ordered)
    published.refresh(now=float("inf"))  # what a handler does at the start of an invocation, its cache expired
    world.sweep(ordered + timedelta(days=1, hours=2))
    [message] = [m for m in world.mail_to(customer) if m["X-Retention-Template"] == "post_purchase_thanks"]
    record = JourneyStore(world.table).send_record(message["X-Retention-Message"] or _message_id(message))
    return str(email.header.make_header(email.header.decode_header(message["Subject"]))), record.templates_version


def _message_id(message: email.message.Message) -> str:
    return message["Message-ID"].strip("<>").split("@")[0]


def test_a_send_after_publishing_uses_the_new_version_and_records_it(aws, bucket, tmp_path) -> None:
    world = World()
    subject, version = thanks_subject_after_an_order(world, 0)
    assert subject.startswith("Thank you") and version == BUILT_IN

    done = publish(bucket, edited_copy(tmp_path, "Cheers - your order and how to enjoy it"), AT, by="marketer")

    subject, version = thanks_subject_after_an_order(world, 3)
    assert subject == "Cheers - your order and how to enjoy it"
    assert version == done.version == published.version()
    assert bucket.live().published_by == "marketer"


def test_a_publication_with_a_lint_problem_changes_nothing(aws, bucket, tmp_path) -> None:
    good = publish(bucket, edited_copy(tmp_path, "Cheers - your order"), AT)
    broken = edited_copy(tmp_path, "Broken {% if customer.first_name %} no end")

    with pytest.raises(PublishRefused) as refused:
        publish(bucket, broken, AT + timedelta(hours=1))

    assert refused.value.problems  # the lint's own messages, listed for the marketer
    assert bucket.live().version == good.version
    assert published.refresh(now=float("inf")) == good.version


def test_rollback_makes_the_previous_version_live_again(aws, bucket, tmp_path) -> None:
    first = publish(bucket, edited_copy(tmp_path, "First - your order"), AT)
    second = publish(bucket, edited_copy(tmp_path, "Second - your order"), AT + timedelta(hours=1))
    assert second.previous == first.version

    back = rollback(bucket)

    assert back.version == first.version and bucket.live().version == first.version
    world = World()
    subject, version = thanks_subject_after_an_order(world, 5)
    assert (subject, version) == ("First - your order", first.version)
    with pytest.raises(PublishRefused, match="first published version"):
        rollback(bucket)


def test_publishing_the_same_files_again_is_a_no_op(aws, bucket, tmp_path) -> None:
    root = edited_copy(tmp_path, "Same - your order")
    first = publish(bucket, root, AT)

    again = publish(bucket, root, AT + timedelta(hours=1))

    assert again.unchanged and again.version == first.version


def test_an_altered_file_in_the_bucket_keeps_the_version_in_use(aws, bucket, tmp_path) -> None:
    done = publish(bucket, edited_copy(tmp_path, "Tampered - your order"), AT)
    key = f"versions/{done.version}/files/{THANKS}"
    client().put_object(Bucket=bucket.bucket, Key=key, Body=b"{% block subject %}pwned{% endblock %}")

    assert published.refresh(now=float("inf")) == BUILT_IN  # never switched to a set that fails its hashes
    assert published.active_dir() is None


def test_the_manifest_is_read_at_most_once_per_refresh_interval(aws, bucket, tmp_path, monkeypatch) -> None:
    publish(bucket, edited_copy(tmp_path, "Cached - your order"), AT)
    monkeypatch.setenv("TEMPLATES_REFRESH_SECONDS", "300")
    reads: list[str] = []
    monkeypatch.setattr(TemplateBucket, "live", lambda self: reads.append("live") or None)

    for moment in (1000.0, 1100.0, 1299.0):
        published.refresh(now=moment)
    published.refresh(now=1301.0)

    assert reads == ["live", "live"]


def test_the_cli_publishes_and_rolls_back_with_one_line_each(aws, bucket, tmp_path, capsys) -> None:
    assert main(["templates", "rollback", "--bucket", bucket.bucket]) == 1
    assert "nothing was ever published" in capsys.readouterr().err

    root = edited_copy(tmp_path, "Cli - your order")
    assert main(["templates", "publish", "--bucket", bucket.bucket, "--dir", str(root)]) == 0
    assert capsys.readouterr().out.startswith("live: templates version ")
    assert main(["templates", "publish", "--bucket", bucket.bucket, "--dir", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_file_hashes_name_exactly_what_was_uploaded(aws, bucket, tmp_path) -> None:
    done = publish(bucket, edited_copy(tmp_path, "Hashes - your order"), AT)
    manifest = bucket.live()

    assert manifest.version == done.version
    assert manifest.files[THANKS] == digest((tmp_path / "Hashes" / THANKS).read_bytes())
