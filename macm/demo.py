"""`macm demo`: the project's main job. Serves the Gradio Space (`space/app.py`) on this machine and prints its
local URL; the page captions uploaded clips (or the bundled SynthMotion examples) with the embedded checkpoint
`space/synthmotion-tiny/`, or with `--model` / `$MACM_MODEL`.

```bash
macm demo [--port 7860] [--host 127.0.0.1] [--model PATH_OR_HUB_ID]
macm demo --no-serve [--out outputs/demo] [--video clip.mp4]   # the same pipeline once, files instead of a page
```

`--no-serve` makes a sample clip (a real person photograph moving over a background), runs the motion pathway on
it (pose, pose-driven keyframes, the body drawn over the keyframes), writes the motion outputs, an overlay video and
a contact sheet, and, given a checkpoint, captions the clip with and without MSD.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from macm.processing.cli_exit import EXIT_UNAVAILABLE, fail
from macm.processing.keyframes import DEFAULT_NUM_KEYFRAMES

__all__ = ["load_space_app", "register", "run_demo", "serve"]


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "demo", help="serve the captioning demo page locally (--no-serve: run the pipeline once on a sample clip)"
    )
    parser.add_argument(
        "--model",
        default=None,
        help="M-ACM checkpoint folder or Hub id (default: $MACM_MODEL, else the embedded space/synthmotion-tiny/)",
    )
    parser.add_argument(
        "--port", type=int, default=7860, help="port to serve on (default 7860; 0: the first free one from 7860)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    parser.add_argument(
        "--no-serve", dest="serve", action="store_false", help="run the pipeline once on a sample clip, write files"
    )
    offline = parser.add_argument_group("--no-serve")
    offline.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output directory")
    offline.add_argument("--video", type=Path, default=None, help="use this clip instead of the generated sample")
    offline.add_argument("--backend", default="blazepose", help="pose backend (default blazepose)")
    offline.add_argument(
        "--num-keyframes",
        type=int,
        default=None,
        help=f"keyframes (default: the checkpoint's num_keyframes, else {DEFAULT_NUM_KEYFRAMES})",
    )
    offline.add_argument("--seconds", type=float, default=4.0, help="length of the generated sample clip")
    parser.set_defaults(func=run_demo)
    return parser


def run_demo(args: argparse.Namespace) -> int:
    if args.serve:
        return serve(port=args.port, host=args.host, model=args.model)
    return run_once(args)


def load_space_app(model: str | None = None):
    """Import the installed Space (`macm.space.app`; its model loads at import: `model` is passed as `MACM_MODEL`)."""
    from macm.processing.embedded import space_dir

    folder = space_dir()
    if folder is None or not (folder / "app.py").is_file():
        raise FileNotFoundError("the Space (macm.space) is not installed: install macm from its source folder")
    if model:
        os.environ["MACM_MODEL"] = str(model)
    imported = "macm.space.app" in sys.modules
    app = importlib.import_module("macm.space.app")
    if imported and model and app.checkpoint.current_model().source != str(model):  # imported earlier, other model
        app.checkpoint.set_model(str(model))
        app.demo = app.build_demo()
    return app


def serve(port: int = 7860, host: str = "127.0.0.1", model: str | None = None) -> int:
    """Serve the Space until interrupted; prints the local URL and the model that answers."""
    try:
        app = load_space_app(model)
    except (FileNotFoundError, ImportError) as error:
        return fail(f"cannot load the demo Space: {error}", EXIT_UNAVAILABLE)
    loaded = app.checkpoint.current_model()
    if not loaded.ready:
        print(f"macm: warning: no captioning model ({loaded.error or 'none found'}); the page runs the motion "
              "pathway only. Pass --model or set MACM_MODEL.", file=sys.stderr)  # fmt: skip
    app.demo.launch(
        server_name=host, server_port=port or None, prevent_thread_lock=True, quiet=True, **app.launch_kwargs()
    )
    print(f"M-ACM demo running at {app.demo.local_url} (model: {loaded.name}); press Ctrl+C to stop", flush=True)
    try:
        app.demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        app.demo.close()
    return 0


def run_once(args: argparse.Namespace) -> int:
    """`--no-serve`: the pipeline once on a sample clip; files under `--out`."""
    from macm.processing.caption import caption_motion, checkpoint_motion_settings, load_captioner
    from macm.processing.caption_cli import default_model
    from macm.processing.cli import motion_errors, motion_failure, write_motion_result
    from macm.processing.contact_sheet import contact_sheet
    from macm.processing.pipeline import extract_motion
    from macm.processing.pose import get_pose_backend
    from macm.processing.sample_clip import make_sample_clip
    from macm.processing.video import probe_video

    args.out.mkdir(parents=True, exist_ok=True)
    video = args.video or make_sample_clip(args.out / "sample.mp4", seconds=args.seconds, size=(640, 360))
    # the checkpoint, when there is one, says how many keyframes to take and how to draw the motion frames
    try:  # the clip and the pose backend first: loading a model takes seconds
        probe_video(video)
        backend = get_pose_backend(args.backend)
    except motion_errors() as error:
        return motion_failure(error, argparse.Namespace(video=video, smpl_dir=None))
    model_source = args.model or default_model()
    model = processor = frame_settings = None
    num_keyframes = args.num_keyframes or DEFAULT_NUM_KEYFRAMES
    if model_source:
        model, processor = load_captioner(model_source)
        num_keyframes, frame_settings = checkpoint_motion_settings(model.config, args.num_keyframes)
    try:
        motion = extract_motion(
            video,
            backend=backend,
            num_keyframes=num_keyframes,
            overlay_path=args.out / "overlay.mp4",
            motion_frame_settings=frame_settings,
        )
    except motion_errors() as error:
        return motion_failure(error, argparse.Namespace(video=video, smpl_dir=None))
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

    if model is not None:
        captions = {
            "with_msd": caption_motion(model, processor, motion, msd=True).to_dict(),
            "without_msd": caption_motion(model, processor, motion, msd=False).to_dict(),
        }
        (args.out / "caption.json").write_text(json.dumps({"model": str(model_source), **captions}, indent=2))
        print(f"caption with MSD ({model_source}): {captions['with_msd']['caption']}")
        print(f"caption without MSD: {captions['without_msd']['caption']}")
    else:
        print("captioning skipped: no checkpoint given (pass --model PATH_OR_HUB_ID or set MACM_MODEL)")
    print(
        f"outputs: {args.out}/ (contact_sheet.png, overlay.mp4, motion_*.png, keyframes.json, pose.npz, summary.json)"
    )
    return 0
