"""`macm build-hmi` and `macm merge-hmi`: curate source videos into an HMI dataset folder, and join shard outputs.

```bash
macm build-hmi --videos raw/ --out hmi/ --annotator-url http://localhost:8000 --annotator-model Qwen/Qwen2.5-VL-72B-Instruct
macm build-hmi --videos list.jsonl --out hmi-0/ --no-annotate --shard 0/4 --workers 8   # curation only, shard 0 of 4
macm merge-hmi hmi-0/ hmi-1/ hmi-2/ hmi-3/ --out hmi/
```

A killed run re-run with the same arguments resumes where it stopped. Exit status: 0 done, 2 bad arguments or an
output folder holding another run, 3 the pose backend or the annotator is unavailable.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from ..cli_args import add_motion_frame_arguments, positive_int
from ..cli_exit import EXIT_BAD_INPUT, EXIT_UNAVAILABLE, fail
from ..keyframes import DEFAULT_NUM_KEYFRAMES

__all__ = ["register", "run_build", "run_merge"]

logger = logging.getLogger(__name__)


def _fraction(text: str) -> float:
    try:
        if "/" in text:
            numerator, denominator = text.split("/")
            return float(numerator) / float(denominator)
        return float(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"expected a number or a fraction like 1/50, got {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `build-hmi` and `merge-hmi` subcommands."""
    from ..pose import POSE_BACKENDS
    from .filters import FilterConfig
    from .scenes import SegmentConfig

    parser = subparsers.add_parser(
        "build-hmi",
        help="curate (and annotate) source videos into an HMI dataset folder",
        description="Scene detection, 2-10 s clips, the paper's motion-quality filters, pose-driven keyframes and "
        "annotation through an OpenAI-compatible endpoint, into a load_dataset-ready folder. Resumable.",
    )
    parser.add_argument("--videos", type=Path, required=True, help="a folder of videos, or a .txt/.jsonl/.json list")
    parser.add_argument("--out", type=Path, required=True, help="output dataset folder (resumed if it holds a run)")
    annotation = parser.add_argument_group("annotation (OpenAI-compatible chat completions)")
    annotation.add_argument("--annotator-url", help="server root, /v1 base or chat completions URL")
    annotation.add_argument("--annotator-model", help="the served model id")
    annotation.add_argument("--no-annotate", action="store_true", help="curate only: skip the annotation step")
    annotation.add_argument(
        "--annotator-api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key, if any"
    )
    annotation.add_argument("--prompt", default="annotate_v1", help="prompt version or .md file (default annotate_v1)")
    annotation.add_argument("--annotator-timeout", type=float, default=180.0, help="seconds per request (default 180)")
    annotation.add_argument("--annotator-retries", type=int, default=3, help="retries after a failure (default 3)")
    annotation.add_argument(
        "--annotator-backoff", type=float, default=2.0, help="first retry wait, doubled (default 2 s)"
    )
    annotation.add_argument("--max-images", type=positive_int, default=8, help="keyframes sent per clip (default 8)")
    annotation.add_argument(
        "--response-format", default="none", choices=("none", "json_object", "json_schema"), help="ask for JSON output"
    )
    run = parser.add_argument_group("run")
    run.add_argument("--shard", default="0/1", help="process shard i of n (0-based), e.g. 0/4 (default 0/1)")
    run.add_argument("--workers", type=positive_int, default=1, help="processes (default 1)")
    run.add_argument("--retry-failed", action="store_true", help="redo sources/clips that failed in an earlier run")
    run.add_argument("--cache-dir", type=Path, default=None, help="motion cache directory (default ~/.cache/macm)")
    run.add_argument("--no-cache", action="store_true", help="neither read nor write the motion cache")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    motion = parser.add_argument_group("segmentation and motion")
    segments, filters = SegmentConfig(), FilterConfig()
    motion.add_argument("--min-seconds", type=float, default=segments.min_seconds, help="shortest clip (default 2)")
    motion.add_argument("--max-seconds", type=float, default=segments.max_seconds, help="longest clip (default 10)")
    motion.add_argument(
        "--scene-threshold", type=float, default=segments.scene_threshold, help="ContentDetector threshold"
    )
    motion.add_argument("--pose-backend", default="blazepose", choices=sorted(POSE_BACKENDS), help="pose backend")
    motion.add_argument(
        "--num-keyframes",
        type=positive_int,
        default=DEFAULT_NUM_KEYFRAMES,
        help=f"keyframes per clip (default {DEFAULT_NUM_KEYFRAMES})",
    )
    add_motion_frame_arguments(motion)
    paper = parser.add_argument_group("filters (defaults: the paper's thresholds)")
    paper.add_argument("--single-person-fraction", type=_fraction, default=filters.single_person_fraction)
    paper.add_argument(
        "--other-person-height",
        type=float,
        default=filters.other_person_min_height,
        help="another person counts from this share of the main person's height (default 0.5)",
    )
    paper.add_argument("--min-keypoints", type=int, default=filters.min_keypoints, help="of COCO-17 (default 12)")
    paper.add_argument("--min-face-keypoints", type=int, default=filters.min_face_keypoints)
    paper.add_argument("--keypoint-score", type=_fraction, default=filters.keypoint_score)
    paper.add_argument("--visible-fraction", type=_fraction, default=filters.visible_fraction)
    paper.add_argument("--min-bbox-fraction", type=_fraction, default=filters.min_bbox_fraction, help="default 1/50")
    paper.add_argument(
        "--min-movement", type=float, default=filters.min_movement, help="person heights (default 0.015)"
    )
    parser.set_defaults(func=run_build)

    merge = subparsers.add_parser(
        "merge-hmi",
        help="join the output folders of build-hmi shards",
        description="Merge build-hmi shard outputs (same settings) into one dataset folder.",
    )
    merge.add_argument("inputs", type=Path, nargs="+", help="shard output folders")
    merge.add_argument("--out", type=Path, required=True, help="merged dataset folder")
    merge.set_defaults(func=run_merge)


def _config(args: argparse.Namespace):
    from ..motion_frames import MotionFrameSettings
    from .annotate import AnnotatorConfig
    from .build import BuildConfig
    from .filters import FilterConfig
    from .scenes import SegmentConfig

    annotator = None
    if not args.no_annotate:
        annotator = AnnotatorConfig(
            url=args.annotator_url,
            model=args.annotator_model,
            prompt=args.prompt,
            api_key=os.environ.get(args.annotator_api_key_env) or None,
            timeout=args.annotator_timeout,
            retries=args.annotator_retries,
            backoff=args.annotator_backoff,
            max_images=args.max_images,
            response_format=args.response_format,
        )
    return BuildConfig(
        segments=SegmentConfig(
            min_seconds=args.min_seconds, max_seconds=args.max_seconds, scene_threshold=args.scene_threshold
        ),
        filters=FilterConfig(
            single_person_fraction=args.single_person_fraction,
            other_person_min_height=args.other_person_height,
            min_keypoints=args.min_keypoints,
            min_face_keypoints=args.min_face_keypoints,
            keypoint_score=args.keypoint_score,
            visible_fraction=args.visible_fraction,
            min_bbox_fraction=args.min_bbox_fraction,
            min_movement=args.min_movement,
        ),
        pose_backend=args.pose_backend,
        num_keyframes=args.num_keyframes,
        motion_frames=MotionFrameSettings(style=args.motion_style, size=args.motion_size),
        annotator=annotator,
    )


def run_build(args: argparse.Namespace) -> int:
    """The `build-hmi` subcommand. Returns the exit status."""
    from ..pose import PoseBackendUnavailableError
    from .build import AnnotatorUnavailableError, build_hmi
    from .sources import parse_shard
    from .state import OutputLockedError, SettingsMismatchError

    if args.no_annotate and (args.annotator_url or args.annotator_model):
        return fail("--no-annotate excludes --annotator-url/--annotator-model", EXIT_BAD_INPUT)
    if not args.no_annotate and not (args.annotator_url and args.annotator_model):
        return fail(
            "give --annotator-url and --annotator-model, or --no-annotate for a curation-only run", EXIT_BAD_INPUT
        )
    try:
        config = _config(args)
        shard = parse_shard(args.shard)
    except (ValueError, FileNotFoundError) as error:
        return fail(str(error), EXIT_BAD_INPUT)
    try:
        report = build_hmi(
            args.videos,
            args.out,
            config=config,
            shard=shard,
            workers=args.workers,
            cache_dir=args.cache_dir,
            cache=not args.no_cache,
            retry_failed=args.retry_failed,
            progress=not args.no_progress,
        )
    except (FileNotFoundError, SettingsMismatchError, OutputLockedError, ValueError) as error:
        return fail(str(error), EXIT_BAD_INPUT)
    except (PoseBackendUnavailableError, AnnotatorUnavailableError) as error:
        return fail(str(error), EXIT_UNAVAILABLE)
    counts = report["counts"]
    logger.info(
        "%s: %d clips accepted, %d rejected, %d not annotated, %d failed, from %d sources (%d unreadable)",
        args.out,
        counts["clips_accepted"],
        counts["clips_rejected"],
        counts["clips_annotation_failed"],
        counts["clips_failed"],
        counts["sources"],
        counts["sources_failed"],
    )
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """The `merge-hmi` subcommand. Returns the exit status."""
    from .merge import merge_outputs
    from .state import OutputLockedError, SettingsMismatchError

    try:
        report = merge_outputs(args.inputs, args.out)
    except (FileNotFoundError, SettingsMismatchError, OutputLockedError, ValueError) as error:
        return fail(str(error), EXIT_BAD_INPUT)
    logger.info("%s: %d clips from %d shards", args.out, report["counts"]["clips_accepted"], len(args.inputs))
    return 0
