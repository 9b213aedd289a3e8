"""A benchmark clip's pose data, for the motion-consistency score.

Two sources, in this order:

1. the benchmark row's ``joints_file`` (inside the benchmark folder, as SynthMotion writes it): a ``.npy`` of
   ``(F, K, 3)`` 3D joints or ``(F, K, 2)`` image keypoints, COCO-17 (``K = 17``) or BlazePose-33 (``K = 33``), with
   the row's ``fps`` for times; or a ``.npz`` saved by `PoseTrack.save_npz`;
2. the motion pathway's cache (`macm.processing.cache.MotionCache`): the pose track `extract_motion` stored for the
   video with the given backend and keyframe count (looked up by `macm.processing.pipeline.motion_cache_key`).

Anything else raises `PoseDataUnavailable`, whose ``reason`` the report counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from macm.processing.cache import MotionCache
from macm.processing.keyframes import DEFAULT_NUM_KEYFRAMES
from macm.processing.kinematics import KinematicsConfig, MotionSummary, summarize_motion, summarize_track_motion
from macm.processing.pose.types import COCO17_NAMES, PoseTrack

from .bench import BenchItem, HmiBench, check_relative_path

__all__ = ["JOINTS_FIELD", "PoseDataUnavailable", "clip_motion"]

JOINTS_FIELD = "joints_file"


class PoseDataUnavailable(Exception):
    """A clip has no usable pose data.

    Args:
        reason (`str`): ``no_pose_data``, ``unreadable_pose_file`` or ``unusable_pose``.
        detail (`str`): what exactly, for the per-sample rows.
    """

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _layout(num_keypoints: int, path: Path) -> tuple[str, ...]:
    from macm.processing.skeleton import BLAZEPOSE33_NAMES

    layouts = {len(COCO17_NAMES): COCO17_NAMES, len(BLAZEPOSE33_NAMES): BLAZEPOSE33_NAMES}
    if num_keypoints not in layouts:
        raise PoseDataUnavailable(
            "unusable_pose", f"{path}: {num_keypoints} keypoints per frame, expected 17 (COCO-17) or 33 (BlazePose)"
        )
    return layouts[num_keypoints]


def _from_joints_file(bench: HmiBench, item: BenchItem, config: KinematicsConfig) -> MotionSummary:
    value = item.extra[JOINTS_FIELD]
    if not isinstance(value, str) or not value:
        raise PoseDataUnavailable("unreadable_pose_file", f"'{JOINTS_FIELD}' must be a path, got {value!r:.60}")
    try:
        path = bench.root / check_relative_path(value, f"{item.video}: '{JOINTS_FIELD}'")
    except ValueError as error:
        raise PoseDataUnavailable("unreadable_pose_file", str(error)) from error
    if not path.is_file():
        raise PoseDataUnavailable("unreadable_pose_file", f"{path} not found")
    fps = item.extra.get("fps")
    fps = float(fps) if isinstance(fps, (int, float)) and fps > 0 else None
    try:
        if path.suffix == ".npz":
            return summarize_track_motion(PoseTrack.load_npz(path), config=config)
        points = np.load(path, allow_pickle=False)
    except (OSError, ValueError, KeyError) as error:
        raise PoseDataUnavailable("unreadable_pose_file", f"{path}: {error}") from error
    if points.ndim != 3 or points.shape[2] not in (2, 3):
        raise PoseDataUnavailable("unusable_pose", f"{path}: shape {points.shape}, expected (frames, keypoints, 2|3)")
    try:
        return summarize_motion(points, _layout(points.shape[1], path), fps=fps, config=config)
    except ValueError as error:
        raise PoseDataUnavailable("unusable_pose", f"{path}: {error}") from error


def _from_cache(
    bench: HmiBench, item: BenchItem, cache: MotionCache, backend: str, num_keyframes: int, config: KinematicsConfig
) -> MotionSummary:
    video = bench.video_path(item)
    if not video.is_file():
        raise PoseDataUnavailable("no_pose_data", f"no '{JOINTS_FIELD}' in the row and {video} not found")
    try:
        from macm.processing.pipeline import motion_cache_key
        from macm.processing.video import VideoDecodeError, default_stride, probe_video
    except ImportError as error:  # the motion extra (PyAV) is not installed
        raise PoseDataUnavailable("no_pose_data", f"cannot read the motion cache: {error}") from error
    try:
        key = motion_cache_key(video, backend, default_stride(probe_video(video).fps), num_keyframes)
    except (OSError, ValueError, VideoDecodeError) as error:  # an undecodable video has no cache entry either
        raise PoseDataUnavailable("no_pose_data", f"{video}: {error}") from error
    entry = cache.load(key)
    if entry is None:
        raise PoseDataUnavailable(
            "no_pose_data",
            f"no '{JOINTS_FIELD}' in the row and no motion-cache entry for {item.video} "
            f"(backend {backend}, {num_keyframes} keyframes)",
        )
    track = entry[0]
    try:
        return summarize_track_motion(track, config=config)
    except ValueError as error:
        raise PoseDataUnavailable("unusable_pose", f"cached track of {item.video}: {error}") from error


def clip_motion(
    bench: HmiBench,
    item: BenchItem,
    cache: MotionCache | None = None,
    pose_backend: str = "blazepose",
    num_keyframes: int = DEFAULT_NUM_KEYFRAMES,
    config: KinematicsConfig | None = None,
) -> tuple[MotionSummary, str]:
    """The motion summary of a benchmark clip and where its pose data came from.

    Args:
        bench ([`HmiBench`]): the benchmark (for its folder).
        item ([`BenchItem`]): the clip.
        cache (`MotionCache`, *optional*): the motion pathway's cache; `None` skips that source.
        pose_backend (`str`, *optional*, defaults to `"blazepose"`) and num_keyframes (`int`, *optional*, defaults
            to 16): the `extract_motion` settings of the cache entries to read.
        config ([`KinematicsConfig`], *optional*): motion-extraction thresholds.

    Returns:
        `tuple[MotionSummary, str]`: the summary and ``"joints_file"`` or ``"motion_cache"``.

    Raises:
        [`PoseDataUnavailable`]: no source, an unreadable file, or a track in which no limb is seen.
    """
    config = config or KinematicsConfig()
    if JOINTS_FIELD in item.extra:
        summary, source = _from_joints_file(bench, item, config), JOINTS_FIELD
    elif cache is not None:
        summary, source = _from_cache(bench, item, cache, pose_backend, num_keyframes, config), "motion_cache"
    else:
        raise PoseDataUnavailable("no_pose_data", f"no '{JOINTS_FIELD}' in the row and the motion cache is off")
    if not any(limb.observed for limb in summary.limbs):
        raise PoseDataUnavailable("unusable_pose", f"no limb of {item.video} is seen in enough frames")
    return summary, source
