"""The ``retention`` command: demo and operator tools that run against the embedded AWS."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    from retention.demo import format_result, run_demo

    result = run_demo(customers=args.customers, seed=args.seed)
    print(format_result(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="retention", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="replay a year of shop events on an embedded AWS and print the summary")
    demo.add_argument("--customers", type=int, default=500, help="customers in the generated history (default 500)")
    demo.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same numbers")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
