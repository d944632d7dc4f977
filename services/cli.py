"""`wwc`: the operator command line. Each service adds its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that contribute subcommands through `register(subparsers)`.
COMMAND_MODULES = (
    "services.intake.cli",
    "services.audit.cli",
    "services.scoring.cli",
    "services.scoring.benchmark_cli",
    "services.reporting.cli",
    "services.reporting.operations.cli",
    "shared.infra.dbcli",
    "shared.contracts.asyncapi",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wwc", description="What Works Cities Certification platform")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
