"""The ``macm`` command line: one subcommand per job, each living beside the code it drives.

A subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed arguments, returns the exit code). Modules are imported
only when the command line is built, so ``macm --help`` stays fast when heavy extras are absent.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

__all__ = ["main", "build_parser"]

COMMAND_MODULES: tuple[str, ...] = (
    "macm.demo",
    "macm.processing.cli",
    "macm.processing.caption_cli",
    "macm.processing.synth.cli",
    "macm.evaluation.cli",
    "macm.processing.hmi.cli",
    "macm.hub_cards.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="macm", description="M-ACM: fine-grained human motion video captioning.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
