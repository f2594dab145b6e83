"""Order logs for `retention replay`: every row is untrusted and reported, never fatal."""

from __future__ import annotations

from pathlib import Path

from retention_tools.local.csv_orders import Columns, read_orders

DATA = Path(__file__).resolve().parents[1] / "data"


def test_simple_csv_rows_become_orders_and_bad_rows_are_reported_with_line_numbers():
    log = read_orders(DATA / "orders_simple.csv")
    assert [(e.detail["customer_id"], e.detail["total"]) for e in log.events] == [
        ("A1", "12.50"),
        ("B2", "7.50"),
        ("A1", "20.00"),
    ]
    assert [reason.split(":")[0] for reason in log.rejected] == ["line 5", "line 6", "line 7", "line 8"]


def test_cdnow_log_reads_whitespace_columns_and_compact_dates():
    log = read_orders(DATA / "orders_cdnow.txt", fmt="cdnow")
    assert len(log.events) == 7
    assert log.events[0].detail["placed_at"].isoformat() == "1997-01-01T12:00:00+00:00"
    assert log.rejected == []


def test_column_mapping_options(tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text("client;when;paid\n", encoding="utf-8")
    path.write_text("client,when,paid\nX9,05/03/2026,9.99\n", encoding="utf-8")
    log = read_orders(path, columns=Columns(customer="client", date="when", amount="paid", date_format="%d/%m/%Y"))
    assert log.events[0].detail["placed_at"].month == 3
