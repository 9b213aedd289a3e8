"""`macm motion`: run the motion pathway on one clip and write what it produced.

```bash
macm motion clip.mp4 --out motion/ --backend blazepose --num-keyframes 16
```

writes to `--out`: `keyframes.json` (`indices`, `timestamps`), `pose.npz` (`PoseTrack.save_npz`),
`keyframe_000.png`..., `motion_000.png`..., `overlay.mp4` (the skeleton on every candidate frame) and
`summary.json` (person counts, visibility statistics, duration, fps, backend). A clip in which nobody
is found is written too, flagged in the summary. A file that is not a decodable video exits with
status 2 and one line: `macm: error: <file>: <reason>`.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .cli_args import add_motion_frame_arguments, positive_int
from .cli_exit import EXIT_BAD_INPUT, EXIT_UNAVAILABLE, fail
from .keyframes import DEFAULT_NUM_KEYFRAMES
from .pose import POSE_BACKENDS

__all__ = ["register", "run_motion", "write_motion_result"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `motion` subcommand."""
    parser = subparsers.add_parser(
        "motion",
        help="pose, pose-driven keyframes and motion frames of one video",
        description="Run the M-ACM motion pathway on one video and write keyframes, motion frames, poses and a summary.",
    )
    parser.add_argument("video", type=Path, help="input video file")
    parser.add_argument("--out", type=Path, required=True, help="output directory (created if needed)")
    parser.add_argument("--backend", default="blazepose", choices=sorted(POSE_BACKENDS), help="pose backend")
    parser.add_argument(
        "--num-keyframes",
        type=positive_int,
        default=DEFAULT_NUM_KEYFRAMES,
        help=f"keyframes to sample (default {DEFAULT_NUM_KEYFRAMES})",
    )
    parser.add_argument(
        "--stride", type=positive_int, default=None, help="candidate-frame stride (default: <= ~10 fps)"
    )
    parser.add_argument("--smpl-dir", type=Path, default=None, help="SMPL model directory (else limb capsules)")
    parser.add_argument(
        "--allow-pickle", action="store_true", help="allow loading a pickled .pkl SMPL model (only files you trust)"
    )
    parser.add_argument("--alpha", type=float, default=0.6, help="opacity of the drawn body on overlays (default 0.6)")
    add_motion_frame_arguments(parser)
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the motion cache")
    parser.add_argument("--no-overlay", action="store_true", help="do not write overlay.mp4")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(func=run_motion)
    return parser


def _write_png(path: Path, rgb: np.ndarray) -> None:
    import cv2

    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1])):
        raise OSError(f"could not write {path}")


def write_motion_result(result, out_dir: Path) -> None:
    """Write a `MotionResult` as `keyframes.json`, `pose.npz`, PNGs and `summary.json` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    keyframes = {
        "indices": [int(i) for i in result.keyframe_indices],
        "timestamps": [round(float(t), 6) for t in result.keyframe_timestamps],
        "track_indices": [int(i) for i in result.keyframe_track_indices],
        "stride": result.stride,
        "render_style": result.render_style,
        "motion_frames": result.motion_frame_settings.to_dict(),
    }
    (out_dir / "keyframes.json").write_text(json.dumps(keyframes, indent=2))
    result.track.save_npz(out_dir / "pose.npz")
    for i, (keyframe, motion) in enumerate(zip(result.keyframes, result.motion_frames, strict=True)):
        _write_png(out_dir / f"keyframe_{i:03d}.png", keyframe)
        _write_png(out_dir / f"motion_{i:03d}.png", motion)
    summary = dict(result.summary)
    summary["video"] = result.video.to_dict()
    summary["num_keyframes"] = len(result.keyframe_indices)
    summary["from_cache"] = result.from_cache
    summary["timings"] = {name: round(seconds, 4) for name, seconds in result.timings.items()}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))


def motion_errors() -> tuple[type[Exception], ...]:
    """What the motion pathway raises for a clip it cannot process (imported here, on use)."""
    from .pipeline import BodyRecoveryError
    from .pose import PoseBackendUnavailableError
    from .video import VideoDecodeError

    return VideoDecodeError, PoseBackendUnavailableError, BodyRecoveryError


def motion_failure(error: Exception, args: argparse.Namespace) -> int:
    """End a command on a `motion_errors()` error: a bad clip or SMPL folder is the input's fault (exit 2), a pose
    backend that cannot run here is not (exit 3)."""
    from .pipeline import BodyRecoveryError
    from .pose import PoseBackendUnavailableError

    if isinstance(error, PoseBackendUnavailableError):
        return fail(error, EXIT_UNAVAILABLE, subject=args.video)
    if isinstance(error, BodyRecoveryError):
        return fail(error, EXIT_BAD_INPUT, subject=args.smpl_dir)
    return fail(error, EXIT_BAD_INPUT, subject=args.video)


def run_motion(args: argparse.Namespace) -> int:
    """The `motion` subcommand. Returns the exit status."""
    if args.out.exists() and not args.out.is_dir():
        return fail("--out exists and is not a directory", EXIT_BAD_INPUT, subject=args.out)
    if args.smpl_dir is not None and not args.smpl_dir.exists():
        return fail("--smpl-dir does not exist", EXIT_BAD_INPUT, subject=args.smpl_dir)
    if not 0.0 <= args.alpha <= 1.0:
        return fail(f"--alpha must be in [0, 1], got {args.alpha}", EXIT_BAD_INPUT, subject=args.video)
    # Everything is written to a staging folder first, so a failure leaves no half-written --out behind.
    with tempfile.TemporaryDirectory(prefix="macm-motion-") as staging:
        staging = Path(staging)
        try:
            result = _extract(args, staging / "overlay.mp4")
        except motion_errors() as error:
            return motion_failure(error, args)
        write_motion_result(result, staging)
        args.out.mkdir(parents=True, exist_ok=True)
        for path in staging.iterdir():
            shutil.move(path, args.out / path.name)
    summary = result.summary
    if summary["no_person"]:
        logger.warning("%s: no person found; keyframes sampled uniformly (flagged in summary.json)", args.video)
    logger.info(
        "%s: %d keyframes, person in %.0f%% of %d candidate frames -> %s",
        args.video,
        len(result.keyframe_indices),
        100 * summary["person_fraction"],
        summary["num_candidate_frames"],
        args.out,
    )
    return 0


def _extract(args: argparse.Namespace, overlay_path: Path):
    from .motion_frames import MotionFrameSettings
    from .pipeline import extract_motion

    return extract_motion(
        args.video,
        backend=args.backend,
        num_keyframes=args.num_keyframes,
        stride=args.stride,
        smpl_dir=args.smpl_dir,
        allow_pickle=args.allow_pickle,
        cache=not args.no_cache,
        progress=not args.no_progress,
        overlay_path=None if args.no_overlay else overlay_path,
        alpha=args.alpha,
        motion_frame_settings=MotionFrameSettings(args.motion_style, args.alpha, args.motion_size),
    )
