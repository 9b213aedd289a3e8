"""How every `macm` command ends on an error: one line on stderr, `macm: error: ...`, and one of two exit codes.

`2` (`EXIT_BAD_INPUT`, as argparse uses for a bad option): the input or an option is wrong.
`3` (`EXIT_UNAVAILABLE`): something the command needs is missing or failed (a dependency, a model, the Hub).
"""

from __future__ import annotations

import sys

__all__ = ["EXIT_BAD_INPUT", "EXIT_UNAVAILABLE", "CommandError", "fail"]

EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3


class CommandError(Exception):
    """Raised anywhere below a command to end it with `fail(message, code)`; `macm.cli.main` catches it."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT):
        super().__init__(message)
        self.code = code


def fail(message: object, code: int = EXIT_BAD_INPUT, subject: object = None) -> int:
    """Print `macm: error: [subject: ]message` as one line on stderr and return `code`."""
    message = " ".join(str(message).split())
    prefix = f"{subject}: " if subject is not None else ""
    if prefix and message.startswith(prefix):
        prefix = ""
    print(f"macm: error: {prefix}{message}", file=sys.stderr)
    return code
