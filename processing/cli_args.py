"""argparse value types and options shared by the `macm` subcommands."""

from __future__ import annotations

import argparse

__all__ = ["add_motion_frame_arguments", "non_negative_int", "positive_int"]

MOTION_STYLE_HELP = "the body alone in a person-centred crop (mask) or over the keyframe (overlay)"


def _int_at_least(text: str, minimum: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a {what} integer, got {value}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _int_at_least(text, 1, "positive")


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    return _int_at_least(text, 0, "non-negative")


def add_motion_frame_arguments(parser, default_style: str | None = "mask", size: bool = True) -> None:
    """`--motion-style` (and `--motion-size`): how motion frames draw the body. `default_style=None` means "the
    checkpoint's own style" (commands that load a model)."""
    from .motion_frame_settings import MOTION_FRAME_STYLES

    default = f"default {default_style}" if default_style else "default: the checkpoint's motion_frame_style"
    parser.add_argument(
        "--motion-style", choices=MOTION_FRAME_STYLES, default=default_style, help=f"{MOTION_STYLE_HELP} ({default})"
    )
    if size:
        parser.add_argument("--motion-size", type=positive_int, default=None, help="side of the masks (default 256)")
