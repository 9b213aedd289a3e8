"""`macm synth`: write a SynthMotion dataset folder (HMI format).

```bash
macm synth --out synthmotion/ --num 1000 --seed 0 [--size 96] [--frames 16] [--fps 8] [--workers 2]
```

The folder loads with `datasets.load_dataset("synthmotion/")`; see `macm.processing.synth.dataset` for the layout.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from ..cli_args import add_motion_frame_arguments, non_negative_int, positive_int
from ..cli_exit import fail

__all__ = ["register", "run_synth"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `synth` subcommand."""
    parser = subparsers.add_parser(
        "synth",
        help="generate SynthMotion, a synthetic motion-captioning dataset (HMI format)",
        description="Generate procedurally animated humanoid clips with captions, QA, 3D joints and motion frames.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output dataset folder (created if needed)")
    parser.add_argument("--num", type=positive_int, required=True, help="number of clips")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="base seed (default 0)")
    parser.add_argument("--size", type=positive_int, default=96, help="frame side in pixels, even (default 96)")
    parser.add_argument("--frames", type=positive_int, default=16, help="frames (= keyframes) per clip (default 16)")
    parser.add_argument("--fps", type=float, default=8.0, help="frame rate of the videos (default 8)")
    add_motion_frame_arguments(parser, size=False)
    parser.add_argument("--workers", type=positive_int, default=1, help="generating processes (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_synth)
    return parser


def run_synth(args: argparse.Namespace) -> int:
    from ..motion_frames import MotionFrameSettings
    from .dataset import SynthConfig, write_dataset

    try:
        frames = MotionFrameSettings(style=args.motion_style, size=args.size)
        config = SynthConfig(seed=args.seed, size=args.size, frames=args.frames, fps=args.fps, motion_frames=frames)
    except ValueError as error:
        return fail(error)
    start = time.perf_counter()
    splits = write_dataset(args.out, args.num, config, workers=args.workers, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    logger.info(
        "%d clips in %.1f s (%.2f clips/s): %s",
        args.num,
        seconds,
        args.num / seconds,
        ", ".join(f"{split} {len(rows)}" for split, rows in splits.items()),
    )
    return 0
