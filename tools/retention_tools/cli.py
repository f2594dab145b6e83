"""The ``retention`` command: demo and operator tools that run against the embedded AWS."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from retention_tools import lint_commands
from retention_tools.local.csv_orders import add_column_options

if TYPE_CHECKING:
    from retention.store.template_bucket import TemplateBucket
    from retention_tools.authoring.publish import Published


def _demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from retention_tools.demo import REPORT, DemoResult, format_result, run_demo

    def hold(result: DemoResult) -> None:
        print(format_result(result), flush=True)
        if not args.serve:
            return
        print(f"\nTracking API on {result.tracking_url}: the links in outbox/*.html work now. Ctrl-C to stop.")
        import threading

        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")

    run_demo(
        customers=args.customers,
        seed=args.seed,
        report_path=Path(args.report) if args.report else REPORT,
        port=args.port,
        hold=hold,
        progress=True,
    )
    return 0


def _replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from retention.lifecycle import default_stats
    from retention.segments import load_definitions
    from retention.settings import settings
    from retention.store.customers import CustomerStore
    from retention.store.engagement import EngagementStore
    from retention.store.stats import StatsStore
    from retention_tools.export import export_rows, render
    from retention_tools.local.csv_orders import columns_from, read_orders
    from retention_tools.local.embedded import EmbeddedAws
    from retention_tools.local.replay import replay
    from retention_tools.local.simulation import SIMULATION_TIMERS, ScheduledJobs
    from retention_tools.summary import summarise

    log = read_orders(Path(args.orders), args.format, columns_from(args), args.currency)
    for reason in log.rejected[:20]:
        print(f"rejected {reason}", file=sys.stderr)
    if len(log.rejected) > 20:
        print(f"… and {len(log.rejected) - 20} more rejected rows", file=sys.stderr)
    if not log.events:
        print("no readable orders in the file", file=sys.stderr)
        return 2
    jobs = ScheduledJobs()
    with EmbeddedAws(env=SIMULATION_TIMERS) as aws:
        stats = replay(aws, log.events, jobs=jobs, progress="replay")
        store = CustomerStore(settings().customers_table)
        profiles = list(store.scan_profiles())
        population = StatsStore(store.table_name).get()
        feedback = EngagementStore(store.table_name).scan_feedback()
    summary = summarise(profiles)
    print(
        f"replayed {stats.published:,} orders over {stats.days} days: {summary.customers:,} customers, "
        f"repeat-purchase rate {summary.repeat_purchase_rate} %, "
        f"{jobs.fired.get('inactivity', 0):,} inactivity events fired, {len(log.rejected)} rows rejected"
    )
    if args.export:
        as_of = _as_of(args.as_of) if args.as_of else log.events[-1].time
        rows = export_rows(profiles, as_of, population or default_stats(as_of, load_definitions()), feedback)
        Path(args.export).write_text(render(rows, args.export_format), encoding="utf-8")
        print(f"exported {len(rows):,} customers as of {as_of:%Y-%m-%d} to {args.export}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from retention.lifecycle import default_stats
    from retention.segments import load_definitions
    from retention.settings import settings
    from retention.store.customers import CustomerStore
    from retention.store.engagement import EngagementStore
    from retention.store.stats import StatsStore
    from retention_tools.export import export_rows, render

    as_of = _as_of(args.as_of)
    store = CustomerStore(settings().customers_table)
    stats = StatsStore(store.table_name).get() or default_stats(as_of, load_definitions())
    feedback = EngagementStore(store.table_name).scan_feedback()
    text = render(export_rows(store.scan_profiles(), as_of, stats, feedback), args.format)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _forget(args: argparse.Namespace) -> int:
    from pydantic import TypeAdapter, ValidationError

    from retention.forget import forget_customer
    from retention.journeys.definitions import load_journeys
    from retention.models.types import CustomerId
    from retention.settings import settings
    from retention.store.erasure import ErasureStore

    try:
        TypeAdapter(CustomerId).validate_python(args.customer_id)
    except ValidationError:
        print(f"not a customer id: {args.customer_id!r}", file=sys.stderr)
        return 2
    if not args.yes:
        print(f"this deletes everything stored about {args.customer_id}; repeat with --yes", file=sys.stderr)
        return 2
    done = forget_customer(ErasureStore(settings().customers_table), load_journeys(), args.customer_id)
    print(
        f"forgot {args.customer_id}: {done.customer_items} customer items, {done.send_records} send records "
        f"(with their tracking), {done.referral_markers} referral marker(s); journey counters hold no personal data"
    )
    return 0


def _templates_bucket(args: argparse.Namespace) -> TemplateBucket:
    """The stack's templates bucket (``--stack``: its ``TemplatesBucket`` resource) or ``--bucket``."""
    from retention.store.template_bucket import TemplateBucket

    if args.bucket:
        return TemplateBucket(args.bucket)
    import boto3

    found = boto3.client("cloudformation").describe_stack_resource(
        StackName=args.stack, LogicalResourceId="TemplatesBucket"
    )
    return TemplateBucket(found["StackResourceDetail"]["PhysicalResourceId"])


def _publication(args: argparse.Namespace, action: Callable[[TemplateBucket], Published]) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from retention.store.template_bucket import PublicationError
    from retention_tools.authoring.publish import PublishRefused

    try:
        done = action(_templates_bucket(args))
    except PublishRefused as refused:
        for problem in refused.problems:
            print(problem)
        print(refused, file=sys.stderr)
        return 1
    except (PublicationError, BotoCoreError, ClientError) as error:
        print(f"cannot reach the templates bucket: {str(error)[:300]}", file=sys.stderr)
        return 2
    if done.unchanged:
        print(f"nothing changed: version {done.version} ({done.files} files) is already live")
    else:
        print(f"live: templates version {done.version} ({done.files} files); previous: {done.previous or 'none'}")
        print("the functions use it within TEMPLATES_REFRESH_SECONDS (default 5 minutes)")
    return 0


def _templates_publish(args: argparse.Namespace) -> int:
    import getpass
    from datetime import UTC, datetime
    from pathlib import Path

    from retention.paths import templates_dir
    from retention_tools.authoring.publish import publish

    root = Path(args.dir) if args.dir else templates_dir()
    if not root.is_dir():
        print(f"{root}: not a folder", file=sys.stderr)
        return 2
    return _publication(args, lambda bucket: publish(bucket, root, datetime.now(UTC), by=getpass.getuser()))


def _templates_rollback(args: argparse.Namespace) -> int:
    from retention_tools.authoring.publish import rollback

    return _publication(args, rollback)


def _templates_preview(args: argparse.Namespace) -> int:
    from pathlib import Path

    from retention.config_files import CatalogError, load_yaml
    from retention.mail.catalog import SampleCustomer
    from retention.mail.render import Renderer, RenderError
    from retention_tools.authoring.preview import render_sample
    from retention_tools.authoring.samples import sample_customers, samples_for

    renderer = Renderer()
    if args.template not in renderer.catalog.templates:
        known = ", ".join(renderer.catalog.templates)
        print(f"unknown template {args.template!r}; known: {known}", file=sys.stderr)
        return 2
    if args.customer:
        try:
            chosen = [load_yaml(Path(args.customer), SampleCustomer)]
        except CatalogError as error:
            print(error, file=sys.stderr)
            return 2
    elif args.segment:
        chosen = samples_for(args.segment)
        if not chosen:
            print(f"no sample customer in segment {args.segment!r} (see templates/samples.yaml)", file=sys.stderr)
            return 2
    else:
        chosen = sample_customers()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    status = 0
    for sample in chosen:
        try:
            preview = render_sample(renderer, args.template, sample)
        except RenderError as error:
            print(f"{sample.customer_id}: {error}", file=sys.stderr)
            status = 1
            continue
        stem = out / f"{args.template}--{sample.customer_id}"
        stem.with_suffix(".html").write_text(preview.tracked.html, encoding="utf-8")
        stem.with_suffix(".txt").write_text(preview.tracked.text, encoding="utf-8")
        verdict = "ok" if preview.within_limit else "REFUSED: above the promotion limit"
        print(
            f"{stem}.html/.txt  promo {preview.rendered.html_share.percent} HTML, "
            f"{preview.rendered.text_share.percent} text ({verdict})  subject: {preview.rendered.subject}"
        )
        status = status or (0 if preview.within_limit else 1)
    return status


def _templates_serve(args: argparse.Namespace) -> int:
    from retention_tools.authoring.gallery import make_server

    server = make_server(args.port)
    print(f"templates gallery on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _as_of(value: str):
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SystemExit(f"--as-of: {value!r} is not an ISO date (YYYY-MM-DD)") from exc
    return parsed if parsed.tzinfo else parsed.replace(hour=23, minute=59, tzinfo=UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="retention", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    from retention_tools.doctor import register_doctor  # retention doctor --stack NAME

    register_doctor(commands)

    demo = commands.add_parser("demo", help="replay a year of shop events on an embedded AWS and print the summary")
    demo.add_argument("--customers", type=int, default=1000, help="customers in the generated history (default 1000)")
    demo.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same numbers")
    demo.add_argument("--report", help="where to write the HTML report (default reports/demo-report.html)")
    demo.add_argument("--serve", action="store_true", help="keep the tracking API up afterwards (links work)")
    demo.add_argument("--port", type=int, default=0, help="port of the local tracking API (default: a free one)")
    demo.set_defaults(run=_demo)

    rep = commands.add_parser("replay", help="replay an order log through the real handlers on an embedded AWS")
    rep.add_argument("orders", help="CSV (customer_id,date,amount with a header) or a CDNOW-style log")
    add_column_options(rep)
    rep.add_argument("--export", help="after the replay, export customers to this file")
    rep.add_argument("--as-of", help="date the export classifies at (default: the last order's date)")
    rep.add_argument("--export-format", choices=("csv", "json"), default="csv")
    rep.set_defaults(run=_replay)

    from retention_tools.importer import add_import_command

    add_import_command(commands)

    customers = commands.add_parser("customers", help="customer tools against CUSTOMERS_TABLE")
    customer_commands = customers.add_subparsers(dest="customers_command", required=True)
    export = customer_commands.add_parser(
        "export", help="segment, RFM, churn risk and expected next order of every customer, as of a date"
    )
    export.add_argument("--as-of", required=True, help="ISO date, e.g. 2026-10-31")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--output", help="file to write (default: standard output)")
    export.set_defaults(run=_export)
    forget = customer_commands.add_parser("forget", help="delete everything stored about one customer (on request)")
    forget.add_argument("customer_id")
    forget.add_argument("--yes", action="store_true", help="really delete")
    forget.set_defaults(run=_forget)

    templates = commands.add_parser("templates", help="marketer tools for the email templates under templates/")
    template_commands = templates.add_subparsers(dest="templates_command", required=True)
    preview = template_commands.add_parser("preview", help="write the HTML and text parts of one template")
    preview.add_argument("template", help="template name from templates/emails.yaml")
    who = preview.add_mutually_exclusive_group()
    who.add_argument("--customer", help="YAML/JSON file with one sample customer (fields as in samples.yaml)")
    who.add_argument("--segment", help="the sample customers of this segment or tag (default: all samples)")
    preview.add_argument("--out", default="preview", help="folder to write into (default ./preview)")
    preview.set_defaults(run=_templates_preview)
    serve = template_commands.add_parser("serve", help="local web page: every template x sample customer")
    serve.add_argument("--port", type=int, default=8025, help="port on 127.0.0.1 (default 8025)")
    serve.set_defaults(run=_templates_serve)
    for name, run, about in (
        ("publish", _templates_publish, "lint templates/ and make it the live version of a deployed stack (no deploy)"),
        ("rollback", _templates_rollback, "make the version before the live one live again"),
    ):
        command = template_commands.add_parser(name, help=about)
        target = command.add_mutually_exclusive_group(required=True)
        target.add_argument("--stack", help="deployed stack name (AWS credentials needed)")
        target.add_argument("--bucket", help="the templates bucket itself (the stack's TemplatesBucketName output)")
        if name == "publish":
            command.add_argument("--dir", help="folder to publish (default: templates/)")
        command.set_defaults(run=run)

    send = commands.add_parser("send-test", help="send one template to your own address through SES")
    send.add_argument("template", help="template name from templates/emails.yaml")
    send.add_argument(
        "--to", required=True, help="recipient (an SES-verified address while the account is in the sandbox)"
    )
    sender_of = send.add_mutually_exclusive_group()
    sender_of.add_argument("--customer", help="YAML/JSON file with one sample customer (fields as in samples.yaml)")
    sender_of.add_argument("--segment", help="use the first sample customer of this segment or tag")
    where = send.add_mutually_exclusive_group()
    where.add_argument(
        "--stack", help="deployed stack name: its dispatcher's settings are used (AWS credentials needed)"
    )
    where.add_argument("--local", action="store_true", help="send through the embedded AWS and write the outbox")
    send.add_argument("--out", default="outbox", help="with --local: folder for the .eml/.html (default ./outbox)")
    send.set_defaults(run=_send_test)

    journeys = commands.add_parser("journeys", help="marketer tools for templates/journeys.yaml")
    journey_commands = journeys.add_subparsers(dest="journeys_command", required=True)
    show = journey_commands.add_parser("show", help="one journey as text: trigger, steps, delays, A/B split, exits")
    show.add_argument("journey", help="journey name from templates/journeys.yaml")

    def journeys_show(args: argparse.Namespace) -> int:
        from retention_tools.authoring.journey_view import show_command

        return show_command(args.journey)

    show.set_defaults(run=journeys_show)

    report = commands.add_parser("report", help="email rates, A/B tests, lift and retention rate (CUSTOMERS_TABLE)")
    report.add_argument("--journey", help="one journey only")
    report.add_argument("--since", help="first send day, YYYY-MM-DD (default: 90 days before --until)")
    report.add_argument("--until", help="last send day, YYYY-MM-DD (default: today)")
    report.add_argument("--format", choices=("table", "json", "html"), default="table")
    report.add_argument("--output", "-o", help="write to this file instead of stdout")
    report.add_argument("--active-days", type=int, default=365, help="a customer = ordered within this many days")
    report.add_argument("--no-retention", action="store_true", help="skip the retention rate (it scans orders)")
    report.set_defaults(run=_report)

    tracking = commands.add_parser("tracking", help="marketer tools for templates/tracking.yaml")
    tracking_commands = tracking.add_subparsers(dest="tracking_command", required=True)
    lint_commands.register(
        commands, {"templates": template_commands, "journeys": journey_commands, "tracking": tracking_commands}
    )
    return parser


def _report(args: argparse.Namespace) -> int:
    """The email and retention report against CUSTOMERS_TABLE (a deployed stack's table)."""
    from datetime import UTC, datetime, timedelta

    from retention.journeys.definitions import load_journeys
    from retention.reporting.report import build_report
    from retention.settings import settings
    from retention.store.counters import CounterStore
    from retention.store.history import HistoryStore
    from retention.tracking.machine import tracking_rules

    names = list(load_journeys().journeys)
    if args.journey:
        if args.journey not in names:
            print(f"no journey {args.journey!r} in journeys.yaml (known: {', '.join(names)})", file=sys.stderr)
            return 2
        names = [args.journey]
    until = _as_of(args.until).date() if args.until else datetime.now(UTC).date()
    since = _as_of(args.since).date() if args.since else until - timedelta(days=90)
    if since > until:
        print("--since is after --until", file=sys.stderr)
        return 2
    table = settings().customers_table
    report = build_report(
        CounterStore(table),
        names,
        since,
        until,
        tracking_rules().health,
        history=None if args.no_retention else HistoryStore(table),
        active_days=args.active_days,
    )
    text = render_report(report, args.format)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"report written to {args.output}")
    else:
        sys.stdout.write(text + "\n")
    return 0


def render_report(report: object, fmt: str) -> str:
    import json

    from retention.reporting.report import format_table

    if fmt == "json":
        return json.dumps(report.as_dict(), indent=2, default=str)  # type: ignore[attr-defined]
    if fmt == "html":
        from retention_tools.report_html import format_html

        return format_html(report)  # type: ignore[arg-type]
    return format_table(report)  # type: ignore[arg-type]


def _send_test(args: argparse.Namespace) -> int:
    import os
    from contextlib import ExitStack
    from datetime import UTC, datetime
    from pathlib import Path

    from pydantic import ValidationError

    from retention.config_files import CatalogError, load_yaml
    from retention.mail.catalog import SampleCustomer as Sample
    from retention.mail.render import Renderer, RenderError
    from retention_tools.authoring.sample_send import send_test, stack_environment, valid_address
    from retention_tools.authoring.samples import sample_customers, samples_for

    renderer = Renderer()
    if args.template not in renderer.catalog.templates:
        print(f"unknown template {args.template!r}; known: {', '.join(renderer.catalog.templates)}", file=sys.stderr)
        return 2
    try:
        valid_address(args.to)
    except ValidationError:
        print(f"--to {args.to!r} is not a valid email address", file=sys.stderr)
        return 2
    try:
        sample = (
            load_yaml(Path(args.customer), Sample)
            if args.customer
            else (samples_for(args.segment) if args.segment else sample_customers())[0]
        )
    except CatalogError as error:
        print(error, file=sys.stderr)
        return 2
    except IndexError:
        print(f"no sample customer in segment {args.segment!r} (see templates/samples.yaml)", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        if args.local:
            from retention_tools.local.embedded import EmbeddedAws
            from retention_tools.local.outbox import sent_count

            stack.enter_context(EmbeddedAws(stage="sendtest"))
            first = sent_count()
        elif args.stack:
            os.environ.update(stack_environment(args.stack))
        from retention.mail.keys import key_ring
        from retention.mail.placeholders import PlaceholderSettings
        from retention.mail.ses import sender_for
        from retention.mail.settings import mail_settings

        try:
            settings = mail_settings()
        except ValidationError as error:
            print(
                f"mail settings missing ({error.error_count()} problems): pass --stack NAME or --local", file=sys.stderr
            )
            return 2
        sender = sender_for(settings.sender_address, settings.configuration_set, settings.dispatch_concurrency)
        try:
            sent = send_test(
                args.template,
                args.to,
                sample,
                renderer=renderer,
                ring=key_ring(),
                settings=settings,
                sender=sender,
                now=datetime.now(UTC),
            )
        except RenderError as error:
            print(error, file=sys.stderr)
            return 1
        except PlaceholderSettings as error:
            print(f"{error} (set the stack's SenderAddress and tracking URL first)", file=sys.stderr)
            return 2
        print(f"sent {args.template!r} to {sent.recipient}: {sent.subject!r} (message {sent.message_id})")
        if args.local:
            from retention_tools.local.outbox import sent_mail, write_outbox

            write_outbox(Path(args.out), list(sent_mail(first)))
            print(f"written to {args.out}/ (.eml and .html)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
