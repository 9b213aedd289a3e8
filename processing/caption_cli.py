"""`macm caption`: caption one video with an M-ACM checkpoint.

```bash
macm caption clip.mp4 [--model path/or/hub-id] [--question "..."] [--no-msd] [--backend blazepose] [--json]
```

The model defaults to `$MACM_MODEL`, else the embedded SynthMotion checkpoint the demo Space uses,
`space/synthmotion-tiny/` (installed with the package, see `macm.processing.embedded`).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .cli_args import add_motion_frame_arguments, positive_int
from .cli_exit import EXIT_BAD_INPUT, EXIT_UNAVAILABLE, fail
from .embedded import embedded_model
from .pose import POSE_BACKENDS

__all__ = ["EMBEDDED_MODEL", "default_model", "register", "run_caption"]

EMBEDDED_MODEL = embedded_model()


def default_model() -> str | None:
    """`$MACM_MODEL`, else the embedded SynthMotion checkpoint when it is installed (`macm.processing.embedded`)."""
    if os.environ.get("MACM_MODEL"):
        return os.environ["MACM_MODEL"]
    return str(EMBEDDED_MODEL) if EMBEDDED_MODEL is not None and (EMBEDDED_MODEL / "config.json").is_file() else None


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("caption", help="caption a video (keyframes + motion frames + MSD)")
    parser.add_argument("video", type=Path, help="input video file")
    parser.add_argument(
        "--model",
        default=None,
        help="M-ACM checkpoint folder or Hub id (default: $MACM_MODEL, else space/synthmotion-tiny/)",
    )
    parser.add_argument(
        "--question", default=None, help="instruction or question about the clip (default: a request for a caption)"
    )
    parser.add_argument(
        "--msd", action=argparse.BooleanOptionalAction, default=True, help="Motion Synergetic Decoding"
    )
    parser.add_argument("--backend", default="blazepose", choices=sorted(POSE_BACKENDS), help="pose backend")
    parser.add_argument(
        "--num-keyframes", type=positive_int, default=None, help="keyframes (default: the checkpoint's num_keyframes)"
    )
    add_motion_frame_arguments(parser, default_style=None, size=False)
    parser.add_argument("--smpl-dir", type=Path, default=None, help="SMPL model directory (else limb capsules)")
    parser.add_argument("--max-new-tokens", type=positive_int, default=128)
    parser.add_argument("--json", action="store_true", help="print keyframes, MSD diagnostics and timings as JSON")
    parser.set_defaults(func=run_caption)
    return parser


def run_caption(args: argparse.Namespace) -> int:
    from .caption import DEFAULT_QUESTION, caption_motion, checkpoint_motion_settings, load_captioner
    from .cli import motion_errors, motion_failure
    from .pipeline import extract_motion
    from .pose import get_pose_backend
    from .video import probe_video

    args.question = DEFAULT_QUESTION if args.question is None else args.question
    args.model = args.model or default_model()
    if not args.model:
        return fail("no model: pass --model PATH_OR_HUB_ID or set MACM_MODEL", EXIT_BAD_INPUT, subject=args.video)
    if args.smpl_dir is not None and not args.smpl_dir.exists():
        return fail("--smpl-dir does not exist", EXIT_BAD_INPUT, subject=args.smpl_dir)
    try:  # the clip and the pose backend are checked before the model loads, which takes seconds
        probe_video(args.video)
        backend = get_pose_backend(args.backend)
    except motion_errors() as error:
        return motion_failure(error, args)
    try:
        model, processor = load_captioner(args.model)
    except (OSError, ValueError) as error:
        return fail(f"cannot load the M-ACM checkpoint: {error}", EXIT_UNAVAILABLE, subject=Path(str(args.model)))
    num_keyframes, frame_settings = checkpoint_motion_settings(model.config, args.num_keyframes, args.motion_style)
    try:
        motion = extract_motion(
            args.video,
            backend=backend,
            num_keyframes=num_keyframes,
            smpl_dir=args.smpl_dir,
            progress=False,
            motion_frame_settings=frame_settings,
        )
    except motion_errors() as error:
        return motion_failure(error, args)
    result = caption_motion(
        model, processor, motion, question=args.question, msd=args.msd, max_new_tokens=args.max_new_tokens
    )
    if args.json:
        report = {
            "video": str(args.video),
            "model": str(args.model),
            "question": args.question,
            **result.to_dict(),
            "num_keyframes": len(motion.keyframe_indices),
            "motion_frame_style": frame_settings.style,
            "motion_encoder": getattr(model.config, "motion_encoder", "vision_tower"),
            "keyframes": {
                "indices": [int(i) for i in motion.keyframe_indices],
                "timestamps": [round(float(t), 4) for t in motion.keyframe_timestamps],
            },
            "person_fraction": motion.summary.get("person_fraction"),
            "flags": motion.summary.get("flags", []),
            "timings": {**{k: round(v, 3) for k, v in motion.timings.items()}, "generate": result.seconds},
        }
        print(json.dumps(report, indent=2))
    else:
        print(result.caption)
    return 0
