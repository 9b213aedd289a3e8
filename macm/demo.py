"""`macm demo`: the project's main job on its embedded default, end to end on this machine.

Makes a sample clip (a real person photograph moving over a background: nothing can be downloaded here),
runs the motion pathway on it (BlazePose pose, pose-driven keyframes, part-coloured body drawn over the
keyframes), writes the motion outputs, an overlay video and a contact sheet (keyframes above motion frames),
and, given a checkpoint (`--model` or `MACM_MODEL`), captions the clip with and without MSD.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

__all__ = ["register", "run_demo"]


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "demo", help="run the motion pathway (and captioning, given a model) on a sample clip"
    )
    parser.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output directory")
    parser.add_argument("--video", type=Path, default=None, help="use this clip instead of the generated sample")
    parser.add_argument(
        "--model", default=os.environ.get("MACM_MODEL"), help="M-ACM checkpoint (default: $MACM_MODEL)"
    )
    parser.add_argument("--backend", default="blazepose", help="pose backend (default blazepose)")
    parser.add_argument("--num-keyframes", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of the generated sample clip")
    parser.set_defaults(func=run_demo)
    return parser


def run_demo(args: argparse.Namespace) -> int:
    from macm.processing.cli import write_motion_result
    from macm.processing.contact_sheet import contact_sheet
    from macm.processing.pipeline import extract_motion
    from macm.processing.sample_clip import make_sample_clip

    args.out.mkdir(parents=True, exist_ok=True)
    video = args.video or make_sample_clip(args.out / "sample.mp4", seconds=args.seconds, size=(640, 360))
    motion = extract_motion(
        video, backend=args.backend, num_keyframes=args.num_keyframes, overlay_path=args.out / "overlay.mp4"
    )
    write_motion_result(motion, args.out)
    sheet = contact_sheet(motion.keyframes, motion.motion_frames, motion.keyframe_timestamps, thumb_height=180)
    sheet.save(args.out / "contact_sheet.png")
    summary = motion.summary
    print(f"clip: {video} ({motion.video.duration:.1f} s, {motion.video.width}x{motion.video.height})")
    print(
        f"pose ({args.backend}): person in {100 * summary['person_fraction']:.0f}% of "
        f"{summary['num_candidate_frames']} candidate frames"
    )
    print(f"keyframes at: {', '.join(f'{t:.2f}s' for t in motion.keyframe_timestamps)}")
    print(f"timings: {', '.join(f'{k} {v:.2f}s' for k, v in motion.timings.items())}")

    if args.model:
        from macm.processing.caption import caption_motion, load_captioner

        model, processor = load_captioner(args.model)
        captions = {
            "with_msd": caption_motion(model, processor, motion, msd=True).to_dict(),
            "without_msd": caption_motion(model, processor, motion, msd=False).to_dict(),
        }
        (args.out / "caption.json").write_text(json.dumps({"model": str(args.model), **captions}, indent=2))
        print(f"caption with MSD ({args.model}): {captions['with_msd']['caption']}")
        print(f"caption without MSD: {captions['without_msd']['caption']}")
    else:
        print("captioning skipped: no checkpoint given (pass --model PATH_OR_HUB_ID or set MACM_MODEL)")
    print(
        f"outputs: {args.out}/ (contact_sheet.png, overlay.mp4, motion_*.png, keyframes.json, pose.npz, summary.json)"
    )
    return 0
