"""The `retention` command: replay an order log on the embedded AWS and export customers."""

from __future__ import annotations

import csv
import json
from email.utils import parseaddr
from pathlib import Path

from retention_tools.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"


def test_replay_csv_then_export_segments_as_of_a_date(tmp_path, capsys):
    out = tmp_path / "customers.csv"
    code = main(["replay", str(DATA / "orders_simple.csv"), "--export", str(out), "--as-of", "2026-04-30"])
    assert code == 0
    printed = capsys.readouterr()
    assert "4 rows rejected" in printed.out
    assert "line 5" in printed.err
    rows = {row["customer_id"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert set(rows) == {"A1", "B2"}
    assert rows["A1"]["order_count"] == "2"
    assert rows["B2"]["lifecycle"] == "at_risk"
    assert rows["A1"]["expected_next_order_at"].startswith("2026-03")


def test_replay_cdnow_log_and_export_json(tmp_path):
    out = tmp_path / "customers.json"
    assert (
        main(
            [
                "replay",
                str(DATA / "orders_cdnow.txt"),
                "--format",
                "cdnow",
                "--export",
                str(out),
                "--export-format",
                "json",
            ]
        )
        == 0
    )
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert {row["customer_id"]: row["order_count"] for row in rows} == {
        "00001": 1,
        "00002": 3,
        "00003": 3,
    }  # every row is an order


def test_customers_export_reads_the_configured_table(aws, capsys):
    from datetime import UTC, datetime

    from factories import order, shop_event

    from retention import clock
    from retention.ingest import apply_shop_event
    from retention.settings import settings
    from retention.store.customers import CustomerStore

    with clock.frozen_at(datetime(2026, 3, 2, tzinfo=UTC)):
        apply_shop_event(
            shop_event("OrderPlaced", order().model_dump(mode="json")), CustomerStore(settings().customers_table)
        )
    assert main(["customers", "export", "--as-of", "2026-03-10", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["customer_id"] == "C1" and row["lifecycle"] == "new"


def test_send_test_composes_sends_and_writes_the_outbox(tmp_path, capsys):
    out = tmp_path / "outbox"
    code = main(["send-test", "winback_incentive", "--to", "marketer@example.org", "--local", "--out", str(out)])
    assert code == 0
    assert "marketer@example.org" in capsys.readouterr().out
    (eml,) = out.glob("*.eml")
    raw = eml.read_text(encoding="utf-8")
    (to,) = [line for line in raw.splitlines() if line.startswith("To: ")]
    assert parseaddr(to.removeprefix("To: "))[1] == "marketer@example.org"  # after the sample customer's name
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert "X-Retention-Message-Id: test-" in raw
    assert eml.with_suffix(".html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_send_test_refuses_bad_input_with_a_reason(capsys):
    assert main(["send-test", "no_such_template", "--to", "a@example.org", "--local"]) == 2
    assert "unknown template" in capsys.readouterr().err
    assert main(["send-test", "winback_miss_you", "--to", "not an address", "--local"]) == 2
    assert "not a valid email address" in capsys.readouterr().err
    assert main(["send-test", "winback_miss_you", "--to", "a@example.org", "--segment", "nobody", "--local"]) == 2
    assert "no sample customer" in capsys.readouterr().err
