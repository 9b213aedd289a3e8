"""Throughput of the motion pathway on one clip: decode, pose, keyframes, body recovery, motion frames.

```bash
python benchmarks/motion_throughput.py                      # synthetic 10 s 1280x720 30 fps clip
python benchmarks/motion_throughput.py --video clip.mp4 --num-keyframes 16
```

Without `--video` the script writes a 10 s 1280x720 30 fps clip of a real person photograph
(scikit-image's `astronaut`, else matplotlib's `grace_hopper`) gliding, swaying and zooming over a
textured background, so BlazePose has someone to find. Pose runs with BlazePose when its model
files are in the cache (`python -m macm.processing.pose.model_files`); otherwise the script says so
and uses a stand-in backend that returns a fixed skeleton that follows the photograph (same
bookkeeping, no model).

Body recovery is timed for the skeleton path (limb capsules) and, when `macm.processing.body`
imports, for the mesh path with a synthetic SMPL-format model of 6890 vertices (SMPL's size).

Prints ONE JSON object: seconds per stage, `realtime_factor` (clip duration / total seconds of the
skeleton path), peak RSS, settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from macm.processing.cache import MotionCache
from macm.processing.keyframes import DEFAULT_NUM_KEYFRAMES
from macm.processing.pipeline import extract_motion
from macm.processing.pose import COCO17_NAMES, PersonPose, PoseBackend, PoseBackendUnavailableError, get_pose_backend
from macm.processing.sample_clip import make_sample_clip, person_image, person_placement
from macm.processing.video import default_stride, iter_frames, probe_video

logger = logging.getLogger("motion_throughput")


class PlacedSkeletonBackend(PoseBackend):
    """Stand-in when BlazePose's model files are missing: a fixed COCO skeleton moved with the photograph.

    It cannot see the image, so it relies on the frame order of `track` (every call is the next candidate).
    """

    name = "placed-skeleton"
    keypoint_names = COCO17_NAMES

    def __init__(self, num_frames: int, stride: int, size: tuple[int, int]):
        self.num_frames, self.stride, self.size = num_frames, stride, size
        self.person = person_image()
        self.count = 0
        h, w = self.person.shape[:2]
        self.joints = np.array(
            [[0.5, 0.25], [0.47, 0.22], [0.53, 0.22], [0.43, 0.24], [0.57, 0.24], [0.3, 0.5], [0.7, 0.5],
             [0.2, 0.75], [0.8, 0.75], [0.25, 0.98], [0.75, 0.98], [0.38, 1.1], [0.62, 1.1], [0.38, 1.4],
             [0.62, 1.4], [0.38, 1.7], [0.62, 1.7]]
        ) * [w, h]  # fmt: skip

    def reset(self) -> None:
        self.count = 0

    def detect(self, image: np.ndarray) -> list[PersonPose]:
        matrix, _ = person_placement(self.count * self.stride, self.num_frames, *self.size, self.person)
        self.count += 1
        xy = self.joints @ matrix[:, :2].T + matrix[:, 2]
        keypoints = np.concatenate([xy, np.full((17, 1), 0.9)], axis=1).astype(np.float32)
        return [PersonPose(keypoints, np.array([*xy.min(0), *xy.max(0)], np.float32), 0.9)]


################
# Stages
################


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _decode_only(path: Path, stride: int) -> int:
    return sum(1 for _ in iter_frames(path, stride=stride))


def _mesh_path(video: Path, backend, args, stride: int, store, tmp: Path) -> dict:
    """Mesh path with a synthetic 6890-vertex SMPL-format model, when `macm.processing.body` is there.

    The pose track comes from the cache filled by the skeleton run, so this times body recovery and rendering.
    """
    try:
        from macm.processing.body import make_synthetic_smpl_npz
    except ImportError as error:
        return {"available": False, "reason": f"macm.processing.body not importable: {error}"}
    smpl_dir = tmp / "smpl"
    smpl_dir.mkdir(exist_ok=True)
    make_synthetic_smpl_npz(smpl_dir / "SMPL_NEUTRAL.npz", num_vertices=6890)
    start = time.perf_counter()
    result = extract_motion(
        video, backend=backend, num_keyframes=args.num_keyframes, stride=stride, smpl_dir=smpl_dir, cache=store,
        progress=False,
    )  # fmt: skip
    total = time.perf_counter() - start
    fit = result.body
    return {
        "available": True,
        "from_cache": result.from_cache,
        "render_style": result.render_style,
        "num_vertices": None if fit is None else int(fit.vertices.shape[1]),
        "keyframes_fitted": None if fit is None else int(fit.num_frames),
        "seconds": {name: round(value, 4) for name, value in result.timings.items()},
        "total_s": round(total, 4),
        "realtime_factor_with_cached_pose": round(result.video.duration / total, 3),
    }


def run(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="macm-bench-"))
    video = args.video
    made = None
    if video is None:
        start = time.perf_counter()
        video = make_sample_clip(tmp / "clip.mp4", seconds=args.seconds)
        made = round(time.perf_counter() - start, 2)
    info = probe_video(video)
    stride = args.stride or default_stride(info.fps)

    backend_note = None
    try:
        backend = get_pose_backend(args.backend, **({"num_threads": args.threads} if args.threads else {}))
    except PoseBackendUnavailableError as error:
        backend_note = f"{args.backend} unavailable ({error}); used the placed-skeleton stand-in"
        backend = PlacedSkeletonBackend(info.num_frames, stride, (info.width, info.height))
    rss_before = _peak_rss_mib()
    load_before = os.getloadavg()

    # The skeleton path exactly as `macm motion` runs it (cold: nothing cached), minus writing files.
    store = MotionCache(tmp / "cache")
    start = time.perf_counter()
    result = extract_motion(
        video, backend=backend, num_keyframes=args.num_keyframes, stride=stride, cache=store, progress=False
    )
    skeleton_total = time.perf_counter() - start
    track = result.track
    stages = {name: round(value, 4) for name, value in result.timings.items()}

    load_after_pose = os.getloadavg()

    # `macm motion` with its overlay video (pose from the cache just filled): what the overlay adds.
    with_overlay = extract_motion(
        video, backend=backend, num_keyframes=args.num_keyframes, stride=stride, cache=store, progress=False,
        overlay_path=tmp / "overlay.mp4",
    )  # fmt: skip
    stages["overlay_with_cached_pose"] = round(with_overlay.timings["overlay"], 4)

    # Decoding on its own, for reference.
    stages["decode_only"] = round(_time_call(_decode_only, video, stride), 4)

    mesh = {"available": False, "reason": "--skip-mesh"} if args.skip_mesh else _mesh_path(
        video, backend, args, stride, store, tmp
    )  # fmt: skip
    return {
        "benchmark": "motion_throughput",
        "video": {
            "path": str(video) if args.video else "synthetic",
            "duration_s": round(info.duration, 3),
            "fps": info.fps,
            "width": info.width,
            "height": info.height,
            "num_frames": info.num_frames,
            "clip_generation_s": made,
        },  # fmt: skip
        "settings": {
            "backend": track.backend,
            "stride": stride,
            "candidate_frames": track.num_frames,
            "num_keyframes": len(result.keyframe_indices),
            "backend_note": backend_note,
        },  # fmt: skip
        "seconds": stages,
        "timings_note": "realtime_factor: clip duration / `macm motion --no-overlay` (cold cache); "
        "realtime_factor_with_overlay adds the overlay video",
        "skeleton_path_total_s": round(skeleton_total, 4),
        "realtime_factor": round(info.duration / skeleton_total, 3),
        "realtime_factor_with_overlay": round(info.duration / (skeleton_total + with_overlay.timings["overlay"]), 3),
        "landmark_fidelity": _landmark_fidelity(args),
        "pose_ms_per_candidate_frame": round(1000 * stages["pose"] / max(1, track.num_frames), 2),
        "person_fraction": float(track.has_person.mean()),
        "mesh_path": mesh,
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "peak_rss_mib_before_pose": round(rss_before, 1),
        "person_counts_single_fraction": result.summary["single_person_fraction"],
        "machine": {
            "python": platform.python_version(),
            "cpus": _cpu_count(),
            "platform": platform.platform(),
            # 1, 5 and 15 min load averages: other jobs on the machine slow every figure above.
            "loadavg_before": [round(v, 2) for v in load_before],
            "loadavg_after_pose": [round(v, 2) for v in load_after_pose],
            "loadavg_end": [round(v, 2) for v in os.getloadavg()],
        },
    }


def _landmark_fidelity(args: argparse.Namespace) -> dict | None:
    """Mean x/y error (fraction of the image size) against MediaPipe's own results in tests/fixtures, on the
    landmarks MediaPipe saw as visible; `None` without BlazePose or scikit-image."""
    fixture = Path(__file__).parents[1] / "tests" / "fixtures" / "blazepose_reference.json"
    try:
        from skimage import data as skimage_data

        backend = get_pose_backend(
            "blazepose", static_image_mode=True, **({"num_threads": args.threads} if args.threads else {})
        )
    except (ImportError, PoseBackendUnavailableError):
        return None
    errors = {}
    for name, entry in json.loads(fixture.read_text())["images"].items():
        image = getattr(skimage_data, name.removesuffix(".png"))()
        image = np.ascontiguousarray(np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image)
        expected = np.asarray(entry["result"]["landmarks"], dtype=np.float64)
        person = backend.detect(image)[0]
        predicted = person.keypoints[:, :2] / np.array([image.shape[1], image.shape[0]])
        visible = expected[:, 3] > 0.5
        errors[name] = round(float(np.linalg.norm(predicted - expected[:, :2], axis=1)[visible].mean()), 6)
    return {"mean_error": errors, "bar": 0.01}


def _time_call(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def _cpu_count() -> int | None:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", type=Path, default=None, help="clip to use instead of the synthetic one")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the synthetic clip")
    parser.add_argument("--backend", default="blazepose", help="pose backend name")
    parser.add_argument("--num-keyframes", type=int, default=DEFAULT_NUM_KEYFRAMES)
    parser.add_argument("--stride", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="LiteRT threads (default: the backend's)")
    parser.add_argument("--skip-mesh", action="store_true", help="do not time the SMPL mesh path")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    print(json.dumps(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
