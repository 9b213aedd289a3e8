"""The ``macm`` command line: one subcommand per job, each living beside the code it drives.

A subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed arguments, returns the exit code). Those modules import their
heavy dependencies (torch, OpenCV, PyAV, ...) inside the command, so ``macm --help`` stays fast.
Every error ends the same way: one ``macm: error: ...`` line on stderr and a non-zero exit
(``macm.processing.cli_exit``); ``-v`` adds the traceback of an unexpected one.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from macm import __version__
from macm.processing.cli_exit import EXIT_UNAVAILABLE, CommandError, fail

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
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (and the same exit code, 2)."""

    def error(self, message: str):
        fail(f"{message} (see `{self.prog} --help`)")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="macm", description="M-ACM: fine-grained human motion video captioning.")
    parser.add_argument("--version", action="version", version=f"macm {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level; tracebacks of errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except CommandError as error:
        return fail(error, error.code)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)
    except Exception as error:  # an unexpected failure still ends in one line; -v shows where
        if args.verbose:
            raise
        return fail(f"{type(error).__name__}: {error} (run with -v for the traceback)", EXIT_UNAVAILABLE)


if __name__ == "__main__":
    sys.exit(main())
