"""``retention import``: a shop's order history into a deployed stack, without a single email for it.

Past orders go to the stack's bus as ``OrderPlaced`` with ``historical: true``, through the same
ingest as live orders (so profiles, segments and timers are exactly what live orders would
have built, and a re-sent order is a duplicate by its ``order_id``). Historical orders start no
journey (nobody is thanked for a year-old order, nobody is welcomed into VIP at go-live), and a
customer already overdue has its inactivity timer held in a backlog instead of firing: the
operator releases the backlog with ``--start-winbacks-from DATE``, spread evenly over
``--spread-days`` days, so the win-backs of a whole history do not all go out the next morning.

A checkpoint file records how many rows (in the file's sorted order) reached the bus and the
key of the last one; after a failure the same command resumes from there. A row published
twice (a crash between PutEvents and the checkpoint) changes nothing: the ingest applies each
order id once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retention.models.timers import Timer
    from retention.store.timers import TimerLayout
    from retention_tools.local.history import ShopEventRecord

BATCH = 10
"""PutEvents takes at most ten entries per request."""
ATTEMPTS = 6
"""PutEvents attempts per batch (entries EventBridge rejects are sent again, with backoff)."""
RELEASE_WINDOW = (timedelta(hours=9), timedelta(hours=17))
"""The UTC hours of a release day over which its share of the backlog is spread."""
DEFAULT_SOURCE = "shop.orders"
"""The template's ``ShopEventSource`` default."""


class ImportRefused(RuntimeError):
    """A problem the operator must fix: printed as one line, exit code 2 (or 1 when the bus failed)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    """Where the history goes: the stack's bus, the source its ShopEventsRule listens to, its table."""

    bus: str
    source: str
    table: str | None
    layout: TimerLayout


def stack_target(stack: str, cloudformation: Any = None) -> Target:
    """A deployed stack's bus and table (its outputs) and shop event source (its parameter)."""
    import boto3

    from retention.store.timers import TimerLayout

    cloudformation = cloudformation or boto3.client("cloudformation")
    (found,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])}
    if "EventBusName" not in outputs or "CustomersTableName" not in outputs:
        raise ImportRefused(f"stack {stack} has no EventBusName / CustomersTableName output: is it a Retention Engine?")
    # The template sets no TIMER_SHARDS / TIMER_BUCKET_HOURS: the functions run with the defaults.
    return Target(
        outputs["EventBusName"],
        parameters.get("ShopEventSource") or DEFAULT_SOURCE,
        outputs["CustomersTableName"],
        TimerLayout(),
    )


# ---------------------------------------------------------------------------------- checkpoint


@dataclass
class Checkpoint:
    """How far an import of one file got: ``rows_done`` rows of its sorted order, the last one's key."""

    path: Path
    file_sha256: str
    bus: str
    rows_done: int = 0
    last_key: str = ""
    complete: bool = False

    @classmethod
    def open(cls, path: Path, file_sha256: str, bus: str) -> Checkpoint:
        """The checkpoint at ``path``, or a fresh one; refused if it belongs to another file or bus."""
        if not path.exists():
            return cls(path, file_sha256, bus)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found = cls(
                path,
                str(data["file_sha256"]),
                str(data["bus"]),
                int(data["rows_done"]),
                str(data["last_key"]),
                bool(data.get("complete", False)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ImportRefused(f"checkpoint {path} is unreadable ({exc}); remove it to start over") from exc
        if found.file_sha256 != file_sha256:
            raise ImportRefused(
                f"checkpoint {path} belongs to another version of the file; remove it to import this one from the start"
            )
        if found.bus != bus:
            raise ImportRefused(f"checkpoint {path} is of an import into {found.bus}; pass another --checkpoint")
        return found

    def save(self) -> None:
        """Written to a temporary file and renamed: a crash never leaves half a checkpoint."""
        data = {
            "file_sha256": self.file_sha256,
            "bus": self.bus,
            "rows_done": self.rows_done,
            "last_key": self.last_key,
            "complete": self.complete,
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, self.path)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def row_key(record: ShopEventRecord) -> str:
    """The stable key of a row: its order id (the ingest's idempotency key too)."""
    return str(record.detail["order_id"])


# ---------------------------------------------------------------------------------- publishing


@dataclass
class ImportResult:
    rows: int = 0
    published: int = 0
    skipped: int = 0
    """Rows the checkpoint said were already published."""
    retried: int = 0
    """Entries EventBridge rejected once and took on a later attempt."""


def historical_entry(record: ShopEventRecord, bus: str, source: str) -> dict[str, Any]:
    detail = {**record.detail, "placed_at": record.time.isoformat(), "historical": True}
    return {
        "Source": source,
        "DetailType": record.detail_type,
        "Detail": json.dumps(detail, default=str),
        "EventBusName": bus,
    }


def publish_history(
    records: Sequence[ShopEventRecord],
    events: Any,
    target: Target,
    checkpoint: Checkpoint,
    on_day: Callable[[datetime, ImportResult], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ImportResult:
    """Publish ``records`` (sorted) from the checkpoint on, ten per PutEvents, saving the
    checkpoint after every batch; ``on_day`` is told each time an order day is finished.

    Entries EventBridge rejects (throttling, an internal error) are sent again with backoff, up
    to :data:`ATTEMPTS` times; then :class:`ImportRefused` stops the import with the checkpoint at
    the last complete batch."""
    result = ImportResult(rows=len(records), skipped=checkpoint.rows_done)
    if checkpoint.rows_done > len(records) or (
        checkpoint.rows_done and row_key(records[checkpoint.rows_done - 1]) != checkpoint.last_key
    ):
        raise ImportRefused(f"checkpoint {checkpoint.path} does not match the file's rows; remove it to start over")
    position = checkpoint.rows_done
    while position < len(records):
        batch = records[position : position + BATCH]
        result.retried += _put(events, [historical_entry(r, target.bus, target.source) for r in batch], sleep)
        position += len(batch)
        result.published += len(batch)
        checkpoint.rows_done, checkpoint.last_key = position, row_key(batch[-1])
        checkpoint.save()
        if on_day is not None:
            for index in range(position - len(batch), position):
                following = records[index + 1] if index + 1 < len(records) else None
                if following is None or following.time.date() != records[index].time.date():
                    on_day(records[index].time, result)
    checkpoint.complete = True
    checkpoint.save()
    return result


def _put(events: Any, entries: list[dict[str, Any]], sleep: Callable[[float], None]) -> int:
    """One batch, retrying the entries that failed; returns how many needed a retry."""
    retried = 0
    from botocore.exceptions import BotoCoreError, ClientError

    for attempt in range(ATTEMPTS):
        try:
            response = events.put_events(Entries=entries)
        except (BotoCoreError, ClientError) as exc:  # the whole request failed: all ten again
            failed, reason = entries, f"{type(exc).__name__}: {exc}"
        else:
            failed = [e for e, r in zip(entries, response["Entries"], strict=True) if r.get("ErrorCode")]
            codes = Counter(r["ErrorCode"] for r in response["Entries"] if r.get("ErrorCode"))
            reason = ", ".join(f"{code} x{count}" for code, count in codes.items())
        if not failed:
            return retried
        retried += len(failed)
        entries = failed
        if attempt < ATTEMPTS - 1:
            sleep(min(20.0, 0.5 * 2**attempt))
    raise ImportRefused(f"EventBridge refused {len(entries)} entries {ATTEMPTS} times ({reason[:200]})", code=1)


# ---------------------------------------------------------------------------------- the backlog


def release_plan(held: Iterable[Timer], start: date, days: int) -> list[tuple[Timer, datetime]]:
    """When each held timer fires: ``days`` days from ``start``, the same number each day (±1),
    each day's share spread evenly over :data:`RELEASE_WINDOW` (UTC). The order is a hash of the
    customer id, so the plan is the same however the backlog's Query pages come back, and the
    segments mix evenly across the days."""
    ordered = sorted(held, key=lambda t: (hashlib.sha256(t.customer_id.encode()).hexdigest(), t.customer_id))
    total = len(ordered)
    plan: list[tuple[Timer, datetime]] = []
    opens, closes = RELEASE_WINDOW
    for day in range(days):
        share = ordered[-(-day * total // days) : -(-(day + 1) * total // days)]  # a short backlog starts on day one
        midnight = datetime.combine(start + timedelta(days=day), datetime.min.time(), tzinfo=UTC)
        step = (closes - opens) / max(1, len(share))
        plan.extend((timer, (midnight + opens + step * n).replace(microsecond=0)) for n, timer in enumerate(share))
    return plan


def release_backlog(table: str, layout: TimerLayout, start: date, days: int, now: datetime) -> Counter[date]:
    """Release every held timer on the plan; returns how many were released per day. Run again
    after an interruption: what is still held is planned over the same days."""
    from retention.store.timers import TimerStore

    store = TimerStore(table, layout)
    released: Counter[date] = Counter()
    for timer, due in release_plan(list(store.backlog()), start, days):
        if store.release(timer, due, now):
            released[due.date()] += 1
    return released


# ---------------------------------------------------------------------------------- the command


def add_import_command(commands: Any) -> None:
    """Register ``retention import`` on the CLI's subcommands."""
    from retention_tools.local.csv_orders import add_column_options

    command = commands.add_parser(
        "import",
        help="publish past orders to a deployed stack, marked historical (no emails); release the win-back backlog",
    )
    command.add_argument("orders", nargs="?", help="the order log (the same formats and columns as replay)")
    add_column_options(command)
    target = command.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", help="deployed stack name: its bus, table and shop source (AWS credentials)")
    target.add_argument("--bus", help="an event bus name instead of a stack (the embedded AWS, tests)")
    command.add_argument("--source", help="event source (default: the stack's ShopEventSource, else shop.orders)")
    command.add_argument("--table", help="with --bus: the customers table (default: CUSTOMERS_TABLE)")
    command.add_argument("--checkpoint", help="checkpoint file (default: ORDERS.import-checkpoint.json beside it)")
    command.add_argument("--skip-bad-rows", action="store_true", help="import the readable rows, report the others")
    command.add_argument(
        "--start-winbacks-from", metavar="DATE", help="release the overdue customers' backlog from DATE (YYYY-MM-DD)"
    )
    command.add_argument("--spread-days", type=int, default=14, help="days the backlog is spread over (default 14)")
    command.set_defaults(run=run_import)


def run_import(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        target = _target(args)
        if args.start_winbacks_from:
            return _release(args, target)
        return _import(args, target)
    except ImportRefused as problem:
        print(f"retention import: {problem}", file=sys.stderr)
        return problem.code
    except (BotoCoreError, ClientError) as exc:
        print(f"retention import: AWS refused: {exc}", file=sys.stderr)
        return 1


def _target(args: argparse.Namespace) -> Target:
    from retention.store.timers import TimerLayout

    if args.orders and args.start_winbacks_from:
        raise ImportRefused("import the file first, then release the backlog once the stack has applied it")
    if not args.orders and not args.start_winbacks_from:
        raise ImportRefused("name an order log to import, or --start-winbacks-from DATE to release the backlog")
    if args.stack:
        found = stack_target(args.stack)
        return Target(found.bus, args.source or found.source, found.table, found.layout)
    table = args.table or os.environ.get("CUSTOMERS_TABLE")
    # The functions' own settings (retention.settings): the same variables, the same defaults.
    layout = TimerLayout(int(os.environ.get("TIMER_SHARDS", "8")), int(os.environ.get("TIMER_BUCKET_HOURS", "1")))
    return Target(args.bus, args.source or DEFAULT_SOURCE, table, layout)


def _import(args: argparse.Namespace, target: Target) -> int:
    import boto3

    from retention_tools.local.csv_orders import columns_from, read_orders
    from retention_tools.local.progress import SimulationProgress

    path = Path(args.orders)
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file")
    try:
        log = read_orders(path, args.format, columns_from(args), args.currency)
    except (UnicodeDecodeError, OSError) as exc:
        raise ImportRefused(f"{path}: unreadable ({exc})") from exc
    if log.rejected and not args.skip_bad_rows:
        more = f" ({len(log.rejected)} unreadable rows)" if len(log.rejected) > 1 else ""
        raise ImportRefused(f"{path}: {log.rejected[0]}{more}; nothing imported: fix them or pass --skip-bad-rows")
    for reason in log.rejected[:20]:
        print(f"skipped {reason}", file=sys.stderr)
    if not log.events:
        raise ImportRefused(f"{path}: no readable orders")
    checkpoint = Checkpoint.open(
        Path(args.checkpoint) if args.checkpoint else path.with_name(path.name + ".import-checkpoint.json"),
        file_digest(path),
        target.bus,
    )
    if checkpoint.complete:
        print(f"{path}: already imported ({checkpoint.rows_done:,} rows, checkpoint {checkpoint.path})")
        return 0
    days_left = len({e.time.date() for e in log.events[checkpoint.rows_done :]})
    customers = {str(e.detail["customer_id"]) for e in log.events}

    def counts() -> dict[str, int]:
        return {"orders published": checkpoint.rows_done}

    with SimulationProgress("import", days_left, counts) as bar:  # one step per day of order history

        def on_day(day: datetime, result: ImportResult) -> None:
            bar.day_done(day)

        try:
            result = publish_history(log.events, boto3.client("events"), target, checkpoint, on_day)
        except ImportRefused as problem:
            raise ImportRefused(
                f"stopped after {checkpoint.rows_done:,} of {len(log.events):,} rows: {problem}; "
                "run the same command again to resume",
                problem.code,
            ) from problem
    print(
        f"imported {result.published:,} historical orders of {len(customers):,} customers to {target.bus}"
        + (f" ({result.skipped:,} already done before)" if result.skipped else "")
        + (f", {len(log.rejected)} rows skipped" if log.rejected else "")
        + "; once the stack has applied them, release the overdue customers with --start-winbacks-from DATE"
    )
    return 0


def _release(args: argparse.Namespace, target: Target) -> int:
    from retention import clock

    try:
        start = date.fromisoformat(args.start_winbacks_from)
    except ValueError as exc:
        raise ImportRefused(f"--start-winbacks-from {args.start_winbacks_from!r} is not a date (YYYY-MM-DD)") from exc
    if not 1 <= args.spread_days <= 365:
        raise ImportRefused(f"--spread-days {args.spread_days} must be between 1 and 365")
    now = clock.now()
    if start < now.date():
        raise ImportRefused(f"--start-winbacks-from {start} is in the past (today is {now.date()})")
    if not target.table:
        raise ImportRefused("no customers table: pass --stack NAME, or --table with --bus")
    released = release_backlog(target.table, target.layout, start, args.spread_days, now)
    for day in sorted(released):
        print(f"{day}: {released[day]:,} overdue customers released")
    print(f"released {sum(released.values()):,} overdue customers over {args.spread_days} days from {start}")
    return 0
